// Run as `node --import tsx loaded-modules.mjs <module> [<module>...]`: imports each module and
// prints, as one JSON line, the URL or path of every module the process loaded on the way
// (ES modules through a resolve hook, CommonJS ones from require's cache).
import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const { port1, port2 } = new MessageChannel();
const resolved = new Set();
port1.on('message', (url) => resolved.add(url));
const hooks = `let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  port.postMessage(result.url);
  return result;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, {
  data: { port: port2 },
  transferList: [port2],
});
for (const module of process.argv.slice(2)) await import(module);
// the hooks run on their own thread: a round trip through it delivers every message sent before
await import(`data:text/javascript,export default 1`);
await new Promise((resolve) => setImmediate(resolve));
port1.close();
process.stdout.write(
  `${JSON.stringify([...resolved, ...Object.keys(createRequire(import.meta.url).cache)])}\n`,
);
