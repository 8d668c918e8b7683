// The in-repo mock upstream as a standalone process for the benchmark.
import { createMockUpstream } from '@switchyard/testing';

const upstream = await createMockUpstream({ streamChunks: Number(process.env['BENCH_STREAM_CHUNKS'] ?? 20) });
// BENCH_SLOW_MODELS=1 (the soak's aborting clients): model `slow-wait` answers after 2 s and
// model `slow-stream` sends a chunk every 200 ms, so a client with a 1 s timeout leaves mid-request
const slowFaults = (): void => {
  if (process.env['BENCH_SLOW_MODELS'] !== '1') return;
  upstream.fault({ kind: 'delay', ms: 2_000, match: { model: 'slow-wait' } });
  upstream.fault({ kind: 'slow-stream', delayMs: 200, match: { model: 'slow-stream' } });
};
slowFaults();
// the mock records every request for tests; a benchmark sends millions, so keep the record
// short (reset() also drops the faults: set them again)
upstream.events.on('request', () => {
  if (upstream.requests.length >= 1_000) {
    upstream.reset();
    slowFaults();
  }
});
process.send?.({ url: upstream.url });
process.on('disconnect', () => void upstream.close().then(() => process.exit(0)));
