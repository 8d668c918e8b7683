import { createApp } from '@switchyard/proxy-api';

const app = createApp({
  gateway: {
    providers: [{ name: 'mock', type: 'mock' }],
    models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
  },
});
await app.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.server.address() as { port: number };

const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'Hello!' }] }),
});
const completion = (await response.json()) as { choices: Array<{ message: { content: string } }> };
console.log(completion.choices[0]?.message.content);

await app.close();
