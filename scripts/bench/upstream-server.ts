// The in-repo mock upstream as a standalone process for the benchmark.
import { createMockUpstream } from '@switchyard/testing';

// a benchmark sends millions of requests and reads none of them back: record none
const upstream = await createMockUpstream({
  streamChunks: Number(process.env['BENCH_STREAM_CHUNKS'] ?? 20),
  maxRecordedRequests: 0,
});
// BENCH_SLOW_MODELS=1 (the soak's aborting clients): model `slow-wait` answers after 2 s and
// model `slow-stream` sends a chunk every 200 ms, so a client with a 1 s timeout leaves mid-request
if (process.env['BENCH_SLOW_MODELS'] === '1') {
  upstream.fault({ kind: 'delay', ms: 2_000, match: { model: 'slow-wait' } });
  upstream.fault({ kind: 'slow-stream', delayMs: 200, match: { model: 'slow-stream' } });
}
process.send?.({ url: upstream.url });
process.on('disconnect', () => void upstream.close().then(() => process.exit(0)));
