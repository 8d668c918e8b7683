// The floor for any Node gateway: a minimal undici pass-through, no parsing, no features.
// It forwards the few headers the mock upstream needs (content type, provider credentials).
import { createServer } from 'node:http';
import { Pool } from 'undici';

const FORWARDED = ['content-type', 'authorization', 'x-api-key', 'anthropic-version'];
const upstream = process.env.BENCH_UPSTREAM;
if (upstream === undefined) {
  throw new Error(
    'BENCH_UPSTREAM is not set: scripts/bench.ts and scripts/cpu-cost.ts start this process with it',
  );
}
const target = new URL(upstream);
const pool = new Pool(target.origin, { connections: 256, keepAliveTimeout: 30_000 });
const server = createServer((req, res) => {
  /** @type {Record<string, string | string[]>} */
  const headers = {};
  for (const name of FORWARDED) if (req.headers[name] !== undefined) headers[name] = req.headers[name];
  pool
    // a request an http.Server emits always has its url and method (node's types share
    // IncomingMessage with client responses, which have neither)
    .request({
      path: /** @type {string} */ (req.url),
      method: /** @type {string} */ (req.method),
      headers,
      body: req,
    })
    .then(({ statusCode, headers, body }) => {
      res.writeHead(statusCode, { 'content-type': headers['content-type'] ?? 'application/json' });
      body.pipe(res);
    })
    .catch(() => {
      res.writeHead(502).end();
    });
});
server.keepAliveTimeout = 72_000;
// listening on a TCP port, the address is an AddressInfo
server.listen(0, '127.0.0.1', () => {
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  process.send?.({ url: `http://127.0.0.1:${address.port}` });
});
// CPU time used so far, for CPU per request (robust on a busy machine, unlike wall-clock rates)
process.on('message', (message) => {
  if (message === 'cpu') process.send?.({ cpu: process.cpuUsage() });
});
process.on('disconnect', () => process.exit(0));
