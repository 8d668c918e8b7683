// The gateway as the CLI runs it (startGateway from the built app) with keys, limits, the
// request log, metrics and pricing; answers "sample" messages with its own memory usage and
// "snapshot <file>" with a V8 heap snapshot written to that file.
import { writeHeapSnapshot } from 'node:v8';
import { startGateway, tuneHeap } from '@switchyard/gateway/dist/index.js';

// the V8 heap settings `switchyard start` applies to its process
tuneHeap();

const config = process.env.SOAK_CONFIG;
if (config === undefined)
  throw new Error('SOAK_CONFIG is not set: scripts/soak.ts starts this process with it');
const running = await startGateway({
  config: JSON.parse(config),
  port: 0,
  host: '127.0.0.1',
  logLevel: 'silent',
  env: {},
});
process.on('message', (message) => {
  if (message === 'sample') process.send?.({ sample: process.memoryUsage() });
  else if (typeof message === 'string' && message.startsWith('snapshot '))
    process.send?.({ snapshot: writeHeapSnapshot(message.slice('snapshot '.length)) });
});
process.send?.({ url: running.url });
process.on('disconnect', () => void running.shutdown().then(() => process.exit(0)));
