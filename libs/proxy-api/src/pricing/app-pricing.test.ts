import {
  createGateway,
  createGatewayHooks,
  type ChatCompletionRequest,
  type CompletionRequest,
  type GatewayOptions,
  type ModelCatalog,
  type ModelInfo,
} from '@switchyard/proxy-core';
import { afterAll, describe, expect, it } from 'vitest';
import { appPricing } from './app-pricing';

// `instruct` and `unbounded`: output at $1 per token and free input, so a reservation reads as the
// output tokens it covers; `prompted`: input at $1 per token and free output, so it reads as the prompt tokens
const outputOnly = { inputPerMTok: 0, outputPerMTok: 1_000_000 };
const pricing = appPricing({
  catalog: 'none',
  models: {
    'up/instruct': outputOnly,
    'up/unbounded': outputOnly,
    'up/prompted': { inputPerMTok: 1_000_000, outputPerMTok: 0 },
  },
});
// a catalog of a plugin's own that does not know `unbounded`'s output limit (and lists no other model)
const unbounded: ModelInfo = {
  id: 'unbounded',
  provider: 'custom',
  contextWindow: 100_000,
  maxOutputTokens: Number.POSITIVE_INFINITY,
  inputModalities: ['text'],
  outputModalities: ['text'],
  supportsTools: false,
};
const modelCatalog: ModelCatalog = {
  lookup: (model) => (model === 'unbounded' ? unbounded : undefined),
  list: () => [unbounded],
};
const gateway = createGateway({
  providers: [{ name: 'up', type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-unused' }],
  models: ['instruct', 'unbounded', 'prompted'].map((name) => ({
    name,
    targets: [{ provider: 'up', model: name }],
  })),
  modelCatalog,
});
const estimator = pricing.budgetEstimator(gateway);
const reserve = (body: Record<string, unknown>, model = 'instruct') =>
  estimator.estimateMaxCostUsd({ model, endpoint: 'chat', body: { model, max_tokens: 10, ...body } });
/** The prompt tokens reserved for `body` on `endpoint`. */
const promptReserved = (endpoint: 'chat' | 'messages', body: Record<string, unknown>) =>
  estimator.estimateMaxCostUsd({
    model: 'prompted',
    endpoint,
    body: { model: 'prompted', max_tokens: 10, ...body },
  });

afterAll(async () => gateway.close());

describe('budget reservations for legacy completions', () => {
  it('cover every choice the upstream bills: n, best_of and each prompt of a batch', async () => {
    expect(await reserve({ prompt: 'hi' })).toBe(10);
    expect(await reserve({ prompt: 'hi', n: 2 })).toBe(20);
    expect(await reserve({ prompt: 'hi', n: 2, best_of: 5 })).toBe(50);
    expect(await reserve({ prompt: ['a', 'b', 'c'], n: 2 })).toBe(60);
    expect(await reserve({ prompt: [[1, 2], [3]] })).toBe(20);
    expect(await reserve({ prompt: [1, 2, 3] })).toBe(10); // one prompt given as tokens
  });

  it('leave chat requests to their own n', async () => {
    expect(await reserve({ messages: [{ role: 'user', content: 'hi' }], n: 3 })).toBe(30);
  });
});

describe('budget reservations and the engine count the same choices', () => {
  // the engine weighs a request for its targets' limiters with the output tokens lowest-cost
  // routing is asked about (choices x the output bound): a reservation that covered more or fewer
  // choices than that weight would charge a key for other output than its limiter counts
  const routed: number[] = [];
  const engine = createGateway({
    providers: [
      { name: 'a', type: 'mock' },
      { name: 'b', type: 'mock' },
    ],
    models: [
      {
        name: 'instruct',
        strategy: 'lowest-cost',
        targets: [
          { provider: 'a', model: 'choices-a' },
          { provider: 'b', model: 'choices-b' },
        ],
      },
    ],
    costEstimator: { estimateCostUsd: (query) => (routed.push(query.outputTokens), 1) },
  });
  afterAll(async () => engine.close());

  /** The output tokens the engine weighs `body` with (max_tokens 10): a chat request, or a legacy completion with a prompt. */
  async function engineWeighs(body: Record<string, unknown>): Promise<number | undefined> {
    routed.length = 0;
    const request = { model: 'instruct', max_tokens: 10, ...body };
    // what the mock answers does not matter (it refuses best_of on chat): the weight came first
    await (
      'prompt' in body
        ? engine.complete(request as unknown as CompletionRequest)
        : engine.chat(request as unknown as ChatCompletionRequest)
    ).catch(() => undefined);
    return routed[0];
  }

  const messages = [{ role: 'user', content: 'hi' }];
  const variants: Array<[string, Record<string, unknown>]> = [
    ['chat without n', { messages }],
    ['chat, n null', { messages, n: null }],
    ['chat, n 0', { messages, n: 0 }],
    ['chat, n -3', { messages, n: -3 }],
    ['chat, n 2.7', { messages, n: 2.7 }],
    ['chat, n 3', { messages, n: 3 }],
    ['chat, n 1e6', { messages, n: 1e6 }],
    ['chat, n Infinity', { messages, n: Number.POSITIVE_INFINITY }],
    ['legacy without n', { prompt: 'hi' }],
    ['legacy, n 2.5', { prompt: 'hi', n: 2.5 }],
    ['legacy, n 2 best_of 5', { prompt: 'hi', n: 2, best_of: 5 }],
    ['legacy, n 4 best_of 3', { prompt: 'hi', n: 4, best_of: 3 }],
    ['legacy, n -1 best_of 0', { prompt: 'hi', n: -1, best_of: 0 }],
  ];

  it.each(variants)('for %s', async (_label, body) => {
    const weighed = await engineWeighs(body);
    expect(weighed).toBeDefined();
    expect(await reserve(body)).toBe(weighed);
  });
});

describe('the pricing plugin the app adds', () => {
  // the beforeRequest taps the app's pricing plugin adds to a gateway of these providers
  function pricingTaps(providers: GatewayOptions['providers']): string[] {
    const hooks = createGatewayHooks();
    for (const plugin of appPricing({}).withPlugin({ providers, models: [] }).plugins ?? [])
      plugin.apply(hooks);
    return hooks.beforeRequest.taps.map((tap) => tap.name);
  }

  it("reads requests (Perplexity's web_search_options) only where a Perplexity provider is configured", () => {
    expect(
      pricingTaps([
        { name: 'up', type: 'openai' },
        { name: 'google', type: 'gemini' },
      ]),
    ).toEqual([]);
    expect(
      pricingTaps([
        { name: 'up', type: 'openai' },
        { name: 'pplx', type: 'perplexity' },
      ]),
    ).toEqual(['switchyard:pricing']);
    // options createGateway will refuse: the types are not known, and the tap stays (as before)
    expect(pricingTaps([{ name: 'broken' } as unknown as GatewayOptions['providers'][number]])).toEqual([
      'switchyard:pricing',
    ]);
  });
});

describe('budget reservations for legacy completions without max_tokens', () => {
  it('cover the legacy default of 16 tokens the request is sent with, not the pricing default', async () => {
    expect(await reserve({ prompt: 'hi', max_tokens: undefined })).toBe(16);
    expect(await reserve({ prompt: 'hi', max_tokens: null, n: 2 })).toBe(32);
  });
});

describe('budget reservations on a model whose max output the catalog does not know', () => {
  it('reserve the pricing default for a request without max_tokens, as for a model the catalog does not list', async () => {
    const messages = [{ role: 'user', content: 'hi' }];
    expect(await reserve({ messages, max_tokens: undefined }, 'unbounded')).toBe(4096);
    expect(await reserve({ messages, max_tokens: null }, 'unbounded')).toBe(4096);
    expect(await reserve({ messages, max_tokens: 32_000 }, 'unbounded')).toBe(32_000);
  });
});

describe('budget reservations on /v1/messages', () => {
  const system = 'You are a careful reviewer. '.repeat(200);
  const ask = [{ role: 'user', content: 'Review this.' }];

  it('count the system prompt, a string or text blocks, as the chat request it is sent as', async () => {
    const onChat = await promptReserved('chat', { messages: [{ role: 'system', content: system }, ...ask] });
    expect(await promptReserved('messages', { system, messages: ask })).toBe(onChat);
    const blocks = [
      { type: 'text', text: system.slice(0, 2_000) },
      { type: 'text', text: system.slice(2_000) },
    ];
    const onChatTwice = await promptReserved('chat', {
      messages: [
        { role: 'system', content: system.slice(0, 2_000) },
        { role: 'system', content: system.slice(2_000) },
        ...ask,
      ],
    });
    expect(await promptReserved('messages', { system: blocks, messages: ask })).toBe(onChatTwice);
    expect(onChat).toBeGreaterThan(system.length / 2);
  });

  it('count tool definitions, their JSON schemas included, on /v1/messages as on chat', async () => {
    const input_schema = {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'The file to read, relative to the repository root.' },
      },
      required: ['path'],
    };
    const tools = [{ name: 'read_file', description: 'Reads a file of the repository.', input_schema }];
    const chatTools = [
      {
        type: 'function',
        function: {
          name: 'read_file',
          description: 'Reads a file of the repository.',
          parameters: input_schema,
        },
      },
    ];
    const bare = (await promptReserved('messages', { messages: ask }))!;
    const withTools = await promptReserved('messages', { messages: ask, tools });
    expect(withTools).toBe(await promptReserved('chat', { messages: ask, tools: chatTools }));
    expect(withTools! - bare).toBeGreaterThan(JSON.stringify(input_schema).length / 2);
  });

  it('count an image as an image part, not its base64 text', async () => {
    const data = 'iVBORw0KGgo'.repeat(10_000);
    const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data } };
    const onChat = await promptReserved('chat', {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: `data:image/png;base64,${data}` } },
            { type: 'text', text: 'What is this?' },
          ],
        },
      ],
    });
    expect(
      await promptReserved('messages', {
        messages: [{ role: 'user', content: [image, { type: 'text', text: 'What is this?' }] }],
      }),
    ).toBe(onChat);
    expect(onChat).toBeLessThan(data.length / 2);
  });

  it('reserve nothing of its own for a body the route refuses (it reaches no provider)', async () => {
    expect(
      await promptReserved('messages', {
        messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }],
      }),
    ).toBeNull();
  });
});

describe('estimates of candidates without a price', () => {
  it('count no unknown price: a lowest-cost routing estimate or an embeddings reservation prices no exchange', async () => {
    const unknown: string[] = [];
    const quoting = appPricing({
      catalog: 'none',
      models: { 'up/priced': { inputPerMTok: 1, outputPerMTok: 2 } },
      onUnknownPrice: (key) => unknown.push(key),
    });
    const routed = createGateway(
      quoting.withPlugin({
        providers: [{ name: 'up', type: 'mock' }],
        models: [
          {
            name: 'cheap',
            strategy: 'lowest-cost',
            targets: [
              { provider: 'up', model: 'unpriced' },
              { provider: 'up', model: 'priced' },
            ],
          },
        ],
      }),
    );
    try {
      // the priced candidate is called and priced; the unpriced one, only estimated, is never called
      for (let i = 0; i < 3; i++) {
        const response = await routed.chat({ model: 'cheap', messages: [{ role: 'user', content: 'hi' }] });
        expect(response.usage?.prompt_tokens).toBeGreaterThan(0);
      }
      const reservation = quoting.budgetEstimator(routed).estimateMaxCostUsd({
        model: 'cheap',
        endpoint: 'embeddings',
        body: { model: 'cheap', input: 'hello' },
      });
      expect(reservation).toBeGreaterThan(0);
      expect(quoting.registry.counters.unknownPrice).toBe(0);
      expect(unknown).toEqual([]);
    } finally {
      await routed.close();
    }
  });
});

describe('budget reservations for embeddings', () => {
  const embeddingsReserved = (input: unknown, priced = pricing) =>
    priced
      .budgetEstimator(gateway)
      .estimateMaxCostUsd({ model: 'prompted', endpoint: 'embeddings', body: { model: 'prompted', input } });

  // token ids were estimated as 0: 20 requests of 2048 x 8000 ids, $2.13 each on
  // text-embedding-3-large, were all admitted against a $1 budget
  it('reserve every token id of an input of ids', () => {
    expect(embeddingsReserved([1, 2, 3])).toBe(3);
    expect(
      embeddingsReserved([
        [1, 2],
        [3, 4, 5],
      ]),
    ).toBe(5);
  });

  it('reserve strings at the characters per token chat reservations use', () => {
    expect(embeddingsReserved('x'.repeat(100))).toBe(50);
    expect(embeddingsReserved(['x'.repeat(100), '政府'])).toBe(52);
    const coarse = appPricing({
      catalog: 'none',
      charsPerToken: 4,
      models: { 'up/prompted': { inputPerMTok: 1_000_000, outputPerMTok: 0 } },
    });
    expect(embeddingsReserved('x'.repeat(100), coarse)).toBe(25);
  });
});

describe('budget reservations of a model with several candidates', () => {
  it('estimate the prompt once per request, not once per candidate', async () => {
    const spread = createGateway({
      providers: [{ name: 'up', type: 'mock' }],
      models: [
        { name: 'solo', targets: [{ provider: 'up', model: 'prompted' }] },
        {
          name: 'spread',
          targets: ['instruct', 'unbounded', 'unpriced'].map((model) => ({ provider: 'up', model })),
          fallbacks: ['solo'],
        },
      ],
    });
    try {
      expect(spread.candidates('spread')).toHaveLength(4);
      // the estimate reads each message's content once a scan of the prompt
      const reservedWithReads = (model: string) => {
        let reads = 0;
        const message = {
          role: 'user',
          get content() {
            reads += 1;
            return 'x'.repeat(100);
          },
        };
        const cost = pricing.budgetEstimator(spread).estimateMaxCostUsd({
          model,
          endpoint: 'chat',
          body: { model, max_tokens: 10, messages: [message] },
        });
        return { cost, reads };
      };
      // 50 prompt tokens and 4 a message at $1 a token on `prompted` (the fallback), the most
      // expensive: 10 output tokens at $1 on `instruct` and `unbounded`, no price on `unpriced`
      expect(reservedWithReads('solo')).toEqual({ cost: 54, reads: 1 });
      expect(reservedWithReads('spread')).toEqual({ cost: 54, reads: 1 });
    } finally {
      await spread.close();
    }
  });
});
