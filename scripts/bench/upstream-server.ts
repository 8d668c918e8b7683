// The in-repo mock upstream as a standalone process for the benchmark.
import { createMockUpstream } from '@switchyard/testing';

const upstream = await createMockUpstream({ streamChunks: Number(process.env['BENCH_STREAM_CHUNKS'] ?? 20) });
process.send?.({ url: upstream.url });
process.on('disconnect', () => void upstream.close().then(() => process.exit(0)));
