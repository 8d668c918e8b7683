// Smoke test of the built package, run by `check-package` after the build: the ESM and CJS
// builds of both entries load by their public names, and the context set through one copy
// is read by another, and its errors are of the class another exports (the undici entry is
// bundled separately from the main one).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const esm = await import('@switchyard/proxy-client');
const esmUndici = await import('@switchyard/proxy-client/undici');
const cjs = require('@switchyard/proxy-client');
const cjsUndici = require('@switchyard/proxy-client/undici');
const { fetch } = require('undici');

for (const [name, entry, keys] of [
  ['esm', esm, ['withRun', 'section', 'withCustomer', 'createGatewayFetch', 'createSwitchyardAdmin']],
  ['cjs', cjs, ['withRun', 'section', 'withCustomer', 'createGatewayFetch', 'createSwitchyardAdmin']],
  ['esm/undici', esmUndici, ['switchyardDispatcher', 'switchyardInterceptor']],
  ['cjs/undici', cjsUndici, ['switchyardDispatcher', 'switchyardInterceptor']],
]) {
  for (const key of keys) assert.equal(typeof entry[key], 'function', `${name} exports ${key}`);
}

const seen = [];
const server = createServer((req, res) => {
  seen.push(req.headers);
  res.end('{}');
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const gatewayUrl = `http://127.0.0.1:${server.address().port}`;
const dispatcher = cjsUndici.switchyardDispatcher({ gatewayUrl, routeAllHosts: true });
try {
  await esm.withCustomer('smoke-customer', () =>
    cjs.withRun(
      () =>
        esm.section('smoke', () =>
          fetch('http://provider.invalid/v1/x', { dispatcher }).then((r) => r.text()),
        ),
      { runId: 'smoke-run' },
    ),
  );
} finally {
  await dispatcher.close();
  server.close();
}
assert.equal(seen.length, 1);
assert.equal(seen[0]['x-switchyard-run-id'], 'smoke-run');
assert.equal(seen[0]['x-switchyard-customer-id'], 'smoke-customer');
assert.equal(seen[0]['x-switchyard-section-path'], 'smoke');
assert.equal(seen[0]['x-switchyard-target'], 'http://provider.invalid');
// an error one entry (or build) throws is an instance of the class every other one exports
let thrown;
try {
  cjsUndici.switchyardDispatcher({ gatewayUrl: 'not a url' });
} catch (error) {
  thrown = error;
}
assert.equal(thrown?.code, 'invalid_options');
for (const [name, entry] of [
  ['esm', esm],
  ['cjs', cjs],
]) {
  assert.ok(
    thrown instanceof entry.SwitchyardClientError,
    `an undici error is a ${name} SwitchyardClientError`,
  );
}
assert.equal(esm.SwitchyardClientError, cjs.SwitchyardClientError);
process.stdout.write('proxy-client dist smoke test passed\n');
