import { createContextPlugins } from '@switchyard/proxy-context';
import { createGateway, createRequestContext } from '@switchyard/proxy-core';

// one memory budget, the shipped model catalog, a byte-bounded cache and the condenser
const context = createContextPlugins({
  memoryBudget: 64 * 1024 * 1024,
  catalog: { models: { 'small-model': { contextWindow: 400, maxOutputTokens: 100 } } },
  cache: { memory: { maxBytes: 16 * 1024 * 1024 }, ttlMs: 10 * 60_000 },
  condenser: { strategy: 'middle-out' },
});

const gateway = createGateway({
  providers: [{ name: 'mock', type: 'mock' }],
  models: [{ name: 'small-model', targets: [{ provider: 'mock', model: 'echo' }] }],
  plugins: [...context.plugins],
  modelCatalog: context.catalog,
});
context.connect(gateway);

// the same request twice: the second is answered by the cache, at no cost
const request = {
  model: 'small-model',
  messages: [{ role: 'user' as const, content: 'Hello!' }],
  temperature: 0,
};
for (const attempt of [1, 2]) {
  const call = createRequestContext({ metadata: { apiKeyId: 'key-1' } });
  await gateway.chat(request, { context: call });
  console.log(`call ${attempt}: cache ${call.cacheStatus}`);
}

// a conversation longer than the model's window is condensed to fit
const history = Array.from({ length: 40 }, (_, i) => ({
  role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
  content: `turn ${i}: ${'words '.repeat(15)}`,
}));
const long = createRequestContext();
await gateway.chat(
  {
    model: 'small-model',
    messages: [{ role: 'system', content: 'Be brief.' }, ...history, { role: 'user', content: 'Sum it up.' }],
    max_tokens: 100,
  },
  { context: long },
);
console.log(
  `condensed: ${long.condensation?.strategy} removed ${long.condensation?.removed} messages, ${long.condensation?.tokensBefore} -> ${long.condensation?.tokensAfter} tokens`,
);

console.log(`memory in use: ${context.budget.stats().usedBytes} of ${context.budget.maxBytes} bytes`);
await context.close();
await gateway.close();
