import { createApp, requireClientKey } from '@switchyard/proxy-api';

const app = createApp({
  gateway: { providers: [{ name: 'mock', type: 'mock' }] },
  keys: [{ key: 'sk-sy-local-development-key-0001', name: 'dev', rpm: 60 }],
});
// a route of your own next to /v1: the same keys, key limits and open-mode checks
app.post('/tools/search', { onRequest: requireClientKey }, async (request) => ({
  results: [],
  key: request.switchyardMetadata.apiKeyId, // key_static_dev; request.switchyardKey is the whole key
}));
await app.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.server.address() as { port: number };

const search = (headers: Record<string, string>) =>
  fetch(`http://127.0.0.1:${port}/tools/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: 'switchyard' }),
  });
console.log((await search({})).status); // 401, with the body /v1 answers
console.log(await (await search({ authorization: 'Bearer sk-sy-local-development-key-0001' })).json());

await app.close();
