import { createGateway } from '@switchyard/proxy-core';

const gateway = createGateway({
  providers: [{ name: 'mock', type: 'mock' }],
  models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
});

const reply = await gateway.chat({ model: 'demo', messages: [{ role: 'user', content: 'Hello!' }] });
console.log(reply.choices[0]?.message.content);

let streamed = '';
for await (const chunk of await gateway.stream({
  model: 'demo',
  messages: [{ role: 'user', content: 'Stream it' }],
})) {
  streamed += chunk.choices[0]?.delta.content ?? '';
}
console.log(streamed);

await gateway.close();
