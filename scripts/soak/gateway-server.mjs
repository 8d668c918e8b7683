// The gateway as the CLI runs it (startGateway from the built app) with keys, limits, the
// request log, metrics and pricing; answers "sample" messages with its own memory usage.
import { startGateway } from '../../apps/gateway/dist/index.js';

const running = await startGateway({ config: JSON.parse(process.env.SOAK_CONFIG), port: 0, host: '127.0.0.1', logLevel: 'silent', env: {} });
process.on('message', (message) => {
  if (message === 'sample') process.send?.({ sample: process.memoryUsage() });
});
process.send?.({ url: running.url });
process.on('disconnect', () => void running.shutdown().then(() => process.exit(0)));
