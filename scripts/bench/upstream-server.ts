// The in-repo mock upstream as a standalone process for the benchmark.
import { createMockUpstream } from '@switchyard/testing';

const upstream = await createMockUpstream({ streamChunks: Number(process.env['BENCH_STREAM_CHUNKS'] ?? 20) });
// the mock records every request for tests; a benchmark sends millions, so keep the record short
upstream.events.on('request', () => {
  if (upstream.requests.length >= 1_000) upstream.reset();
});
process.send?.({ url: upstream.url });
process.on('disconnect', () => void upstream.close().then(() => process.exit(0)));
