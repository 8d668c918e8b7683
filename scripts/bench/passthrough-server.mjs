// The floor for any Node gateway: a minimal undici pass-through, no parsing, no features.
import { createServer } from 'node:http';
import { Pool } from 'undici';

const target = new URL(process.env.BENCH_UPSTREAM);
const pool = new Pool(target.origin, { connections: 256, keepAliveTimeout: 30_000 });
const server = createServer((req, res) => {
  pool
    .request({ path: req.url, method: req.method, headers: { 'content-type': req.headers['content-type'] ?? 'application/json' }, body: req })
    .then(({ statusCode, headers, body }) => {
      res.writeHead(statusCode, { 'content-type': headers['content-type'] ?? 'application/json' });
      body.pipe(res);
    })
    .catch(() => {
      res.writeHead(502).end();
    });
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => process.send?.({ url: `http://127.0.0.1:${server.address().port}` }));
process.on('disconnect', () => process.exit(0));
