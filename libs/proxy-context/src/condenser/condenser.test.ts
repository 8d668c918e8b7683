import {
  createGateway,
  createRequestContext,
  type ChatCompletionRequest,
  type ChatMessage,
  type ChatTool,
  type RequestDirectives,
} from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import { createModelCatalog } from '../catalog/model-catalog';
import fixture from './__fixtures__/agent-incident-conversation.json';
import { CONDENSE_STRATEGIES } from './condense-strategies';
import { createCondenser, type Condenser } from './condenser';
import { CONDENSER_DEFAULTS, type CondenserOptions } from './condenser-options';
import { toolPairsIntact } from './message-units';
import { SUMMARY_PREFIX } from './summarize-units';
import { contentText, countRequest, tokenCounterFor } from './token-counter';
import { linearizedPdf } from '../../test/support/linearized-pdf';

const conversation = fixture.messages as unknown as ChatMessage[];
const tools = fixture.tools as unknown as ChatTool[];
const WINDOW = 6_000;
const OUTPUT = 1_000;

const catalog = createModelCatalog({
  models: { 'agent-model': { provider: 'openai', contextWindow: WINDOW, maxOutputTokens: 4_000 } },
});

function condenser(options: Partial<CondenserOptions> = {}): Condenser {
  return createCondenser({ catalog, aliases: { 'agent-model': ['gpt-4o-mini'] }, ...options });
}

function request(messages: ChatMessage[] = conversation): ChatCompletionRequest {
  return { model: 'agent-model', messages, tools, max_tokens: OUTPUT };
}

function context(directives?: RequestDirectives) {
  return createRequestContext(directives === undefined ? {} : { directives });
}

describe('condenser on a long agent conversation with tools', async () => {
  const counter = await tokenCounterFor('gpt-4o-mini');
  const budget = WINDOW - OUTPUT;

  it('the fixture overflows the window', () => {
    expect(countRequest(request(), counter)).toBeGreaterThan(WINDOW * 2);
    expect(toolPairsIntact(conversation)).toBe(true);
  });

  for (const strategy of CONDENSE_STRATEGIES.filter((name) => name !== 'summarize')) {
    it(`${strategy}: fits the budget, keeps the system prompt, the newest turn and every tool pair`, async () => {
      const ctx = context({ condense: strategy });
      const condensed = await condenser().condense(request(), ctx);
      const tokens = countRequest(condensed, counter);
      expect(tokens).toBeLessThanOrEqual(budget);
      expect(condensed.messages[0]).toEqual(conversation[0]);
      expect(condensed.messages.at(-1)).toEqual(conversation.at(-1));
      expect(toolPairsIntact(condensed.messages)).toBe(true);
      expect(ctx.condensation).toMatchObject({
        strategy: expect.stringContaining(strategy) as string,
        tokensAfter: tokens,
      });
      expect(ctx.condensation!.tokensBefore).toBeGreaterThan(budget);
      expect(ctx.condensation!.removed).toBeGreaterThan(0);
    });
  }

  it('middle-out keeps the first user turn and drops from the middle', async () => {
    const condensed = await condenser().condense(request(), context());
    expect(condensed.messages[1]).toEqual(conversation[1]);
    expect(condensed.messages.length).toBeLessThan(conversation.length);
  });

  it('truncate-long keeps head and tail of the oversized tool output and marks the cut', async () => {
    const condensed = await condenser().condense(request(), context({ condense: 'truncate-long' }));
    const cut = condensed.messages.filter(
      (message) => typeof message.content === 'string' && message.content.includes('omitted by the gateway'),
    );
    expect(cut.length).toBeGreaterThan(0);
    expect(condensed.messages).toHaveLength(conversation.length);
  });

  it('summarize replaces the dropped turns with a summary from the summary model, through the gateway', async () => {
    const plugin = condenser({ summary: { model: 'cheap', maxTokens: 200 } });
    const gateway = createGateway({
      providers: [{ name: 'mock', type: 'mock' }],
      models: [
        { name: 'agent-model', targets: [{ provider: 'mock', model: 'gpt-4o-mini' }] },
        { name: 'cheap', targets: [{ provider: 'mock', model: 'cheap-summary' }] },
      ],
      plugins: [plugin],
    });
    plugin.connect(gateway);
    const ctx = context({ condense: 'summarize' });
    await gateway.chat(request(), { context: ctx });
    expect(ctx.condensation).toMatchObject({ strategy: 'summarize' });
    expect(ctx.condensation!.tokensAfter).toBeLessThanOrEqual(budget);
    const condensed = await plugin.condense(request(), context({ condense: 'summarize' }));
    const summary = condensed.messages.find(
      (message) => typeof message.content === 'string' && message.content.startsWith(SUMMARY_PREFIX),
    );
    // the summary paraphrases untrusted turns: a delimited user message, never a system one
    expect(summary?.role).toBe('user');
    expect(summary?.content).toMatch(
      /<earlier-conversation-summary>\n[\s\S]*\n<\/earlier-conversation-summary>$/,
    );
    expect(condensed.messages.filter((message) => message.role === 'system')).toEqual(
      conversation.filter((message) => message.role === 'system'),
    );
    expect(condensed.messages[0]).toEqual(conversation[0]);
    expect(toolPairsIntact(condensed.messages)).toBe(true);
    expect(countRequest(condensed, counter)).toBeLessThanOrEqual(budget);
  });

  // the summary call has a context of its own, which key limits do not settle: the request that
  // caused it is charged it through `condensation.summary`, however the condensing ends
  describe('reports what the summary call used', () => {
    function summarizing() {
      const plugin = condenser({ summary: { model: 'cheap', maxTokens: 200 } });
      const gateway = createGateway({
        providers: [{ name: 'mock', type: 'mock' }],
        models: [{ name: 'cheap', targets: [{ provider: 'mock', model: 'cheap-summary' }] }],
      });
      plugin.connect(gateway);
      return plugin;
    }

    it('when the newest turn still had to be shortened after summarising', async () => {
      // the newest turn alone overflows the budget: summarize, then truncate-long
      const huge: ChatMessage = { role: 'user', content: 'please review this log line. '.repeat(1_500) };
      const ctx = context({ condense: 'summarize' });
      const condensed = await summarizing().condense(request([...conversation.slice(0, -1), huge]), ctx);
      expect(countRequest(condensed, counter)).toBeLessThanOrEqual(budget);
      expect(ctx.condensation?.strategy).toBe('summarize+truncate-long');
      expect(ctx.condensation?.summary?.usage?.total_tokens).toBeGreaterThan(0);
    });

    it('when the request is refused after summarising', async () => {
      // the system prompt alone overflows the budget: the summary is asked for, then the request refused
      const ctx = context({ condense: 'summarize' });
      const policy: ChatMessage = { role: 'system', content: 'policy '.repeat(20_000) };
      await expect(
        summarizing().condense(request([policy, ...conversation.slice(1)]), ctx),
      ).rejects.toMatchObject({ code: 'context_length_exceeded' });
      expect(ctx.condensation?.summary?.usage?.total_tokens).toBeGreaterThan(0);
    });
  });

  it('leaves a request that fits untouched', async () => {
    const short = request(conversation.slice(0, 2));
    const ctx = context();
    expect(await condenser().condense(short, ctx)).toBe(short);
    expect(ctx.condensation).toBeUndefined();
  });

  it('is off for a model the catalog does not know', async () => {
    const unknown = { ...request(), model: 'mystery-model' };
    expect(await condenser().condense(unknown, context())).toBe(unknown);
  });

  it('applies a per-model input budget', async () => {
    const ctx = context();
    const condensed = await condenser({
      models: { 'agent-model': { strategy: 'drop-oldest', maxInputTokens: 2_000 } },
    }).condense(request(), ctx);
    expect(countRequest(condensed, counter)).toBeLessThanOrEqual(2_000);
    expect(ctx.condensation?.strategy).toBe('drop-oldest');
  });

  it('fails with context_length_exceeded when the pinned turns alone cannot fit', async () => {
    const huge: ChatMessage[] = [
      { role: 'system', content: 'policy '.repeat(20_000) },
      { role: 'user', content: 'hi' },
    ];
    await expect(condenser().condense(request(huge), context())).rejects.toMatchObject({
      code: 'context_length_exceeded',
    });
  });

  it('refuses an unknown strategy and summarize without a summary model', async () => {
    await expect(
      condenser().condense(request(), context({ condense: 'compress-harder' })),
    ).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(condenser().condense(request(), context({ condense: 'summarize' }))).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });

  it("condenses the chat request of /v1/messages, and leaves other endpoints' requests alone", async () => {
    const messages = createRequestContext({ endpoint: 'messages' });
    const condensed = await condenser().condense(request(), messages);
    expect(countRequest(condensed, counter)).toBeLessThanOrEqual(budget);
    expect(messages.condensation?.removed).toBeGreaterThan(0);
    const legacy = createRequestContext({ endpoint: 'completions' });
    const req = request();
    expect(await condenser().condense(req, legacy)).toBe(req);
    expect(legacy.condensation).toBeUndefined();
  });

  it('does not condense unless asked when auto is off', async () => {
    const req = request();
    expect(await condenser({ auto: false }).condense(req, context())).toBe(req);
  });

  // instructions a client puts between turns (a mode switch, a reminder) were removable like any
  // turn: dropped by drop-oldest and middle-out, and paraphrased into the summary by summarize
  describe('keeps system and developer messages between turns where they are', () => {
    const switchMode: ChatMessage = { role: 'developer', content: 'From now on, answer in French.' };
    const reminder: ChatMessage = { role: 'system', content: 'Never restart the primary database.' };
    // before user turns of the older half, so that every strategy removes the turns around them
    const withInstructions = [
      ...conversation.slice(0, 15),
      switchMode,
      ...conversation.slice(15, 42),
      reminder,
      ...conversation.slice(42),
    ];
    const instructions = (messages: readonly ChatMessage[]): ChatMessage[] =>
      messages.filter((message) => message.role === 'system' || message.role === 'developer');

    for (const strategy of ['drop-oldest', 'middle-out'] as const) {
      it(strategy, async () => {
        const ctx = context({ condense: strategy });
        const condensed = await condenser().condense(request(withInstructions), ctx);
        expect(ctx.condensation?.removed).toBeGreaterThan(0);
        expect(instructions(condensed.messages)).toEqual(instructions(withInstructions));
        // in the original order, after the turns before them that were kept
        const positions = condensed.messages.map((message) => withInstructions.indexOf(message));
        expect(positions).toEqual([...positions].sort((a, b) => a - b));
        expect(countRequest(condensed, counter)).toBeLessThanOrEqual(budget);
        expect(toolPairsIntact(condensed.messages)).toBe(true);
      });
    }

    it('summarize, which leaves them out of the transcript it has summarised', async () => {
      const asked: ChatCompletionRequest[] = [];
      const plugin = condenser({ summary: { model: 'cheap', maxTokens: 200 } });
      plugin.connect({
        chat: async (summaryRequest) => {
          asked.push(summaryRequest);
          return {
            id: 'summary',
            object: 'chat.completion',
            created: 0,
            model: 'cheap',
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: 'The on-call engineer investigated.' },
                finish_reason: 'stop',
                logprobs: null,
              },
            ],
          };
        },
      });
      const condensed = await plugin.condense(request(withInstructions), context({ condense: 'summarize' }));
      expect(instructions(condensed.messages)).toEqual(instructions(withInstructions));
      const transcript = contentText(asked[0]?.messages[1]?.content ?? null);
      expect(transcript).toContain('user:');
      expect(transcript).not.toContain(switchMode.content);
      expect(transcript).not.toContain(reminder.content);
      // the summary stands where the removed turns began: after the leading system prompt
      expect(condensed.messages[0]).toEqual(conversation[0]);
      expect(contentText(condensed.messages[1]?.content ?? null).startsWith(SUMMARY_PREFIX)).toBe(true);
      expect(countRequest(condensed, counter)).toBeLessThanOrEqual(budget);
      expect(toolPairsIntact(condensed.messages)).toBe(true);
    });
  });
});

describe("condenser on a request whose max_tokens is above the model's output limit", async () => {
  // Anthropic's clients must send max_tokens and send their ceiling (Claude Code: 32000);
  // deepseek-chat writes at most 8192 tokens in its 65536-token window
  const CLAUDE_CODE_MAX_TOKENS = 32_000;
  const info = createModelCatalog().lookup('deepseek-chat')!;
  const counter = await tokenCounterFor('deepseek-chat');
  const turns = (count: number): ChatMessage[] => [
    { role: 'system', content: 'You are a careful on-call engineer.' },
    ...Array.from({ length: count }, (_, i): ChatMessage => ({
      role: i % 2 === 0 ? 'user' : 'assistant',
      content:
        `turn ${i}: the deploy of build ${1000 + i} rolled back after the health check on shard ${i % 7} failed twice; `.repeat(
          12,
        ),
    })),
  ];
  const claudeCode = (
    messages: ChatMessage[],
    max_tokens = CLAUDE_CODE_MAX_TOKENS,
  ): ChatCompletionRequest => ({ model: 'deepseek-chat', messages, max_tokens });

  it("reserves the model's output limit, not the client's max_tokens: a conversation that fits the window less 8192 is left whole (it was cut to the window less 32000)", async () => {
    const fits = claudeCode(turns(110));
    const tokens = countRequest(fits, counter);
    expect(tokens).toBeGreaterThan(info.contextWindow - CLAUDE_CODE_MAX_TOKENS);
    expect(tokens).toBeLessThanOrEqual(info.contextWindow - info.maxOutputTokens);
    const ctx = context();
    expect(await createCondenser({ catalog: createModelCatalog() }).condense(fits, ctx)).toBe(fits);
    expect(ctx.condensation).toBeUndefined();
  });

  it("condenses a longer one to the window less the model's output limit", async () => {
    const overflows = claudeCode(turns(145));
    expect(countRequest(overflows, counter)).toBeGreaterThan(info.contextWindow - info.maxOutputTokens);
    const ctx = context();
    const condensed = await createCondenser({ catalog: createModelCatalog() }).condense(overflows, ctx);
    // max_tokens goes on to the provider as the client sent it: only the reserve is capped
    expect(condensed.max_tokens).toBe(CLAUDE_CODE_MAX_TOKENS);
    expect(ctx.condensation!.tokensAfter).toBeLessThanOrEqual(info.contextWindow - info.maxOutputTokens);
    expect(ctx.condensation!.tokensAfter).toBeGreaterThan(info.contextWindow - CLAUDE_CODE_MAX_TOKENS);
    expect(countRequest(condensed, counter)).toBeLessThanOrEqual(ctx.condensation!.tokensAfter);
  });

  it('passes a max_tokens as large as the window on to the provider (it was refused: max_tokens leaves no room)', async () => {
    for (const field of ['max_tokens', 'max_completion_tokens'] as const) {
      const whole: ChatCompletionRequest = {
        model: 'deepseek-chat',
        messages: [{ role: 'user', content: 'hi' }],
        [field]: info.contextWindow,
      };
      expect(
        await createCondenser({ catalog: createModelCatalog() }).condense(
          whole,
          context({ condense: 'middle-out' }),
        ),
      ).toBe(whole);
    }
  });

  it('still refuses a max_tokens that leaves no room when the model writes as much as its window holds', async () => {
    const wide = createModelCatalog({
      models: { 'wide-output': { contextWindow: WINDOW, maxOutputTokens: WINDOW } },
    });
    const plugin = createCondenser({ catalog: wide });
    await expect(
      plugin.condense(
        { model: 'wide-output', messages: [{ role: 'user', content: 'hi' }], max_tokens: WINDOW },
        context(),
      ),
    ).rejects.toMatchObject({ code: 'context_length_exceeded', param: 'max_tokens' });
    expect(plugin.stats().refused).toBe(1);
  });
});

describe('condenser on messages that are long runs without spaces', () => {
  // 'a' x 130k blocked the event loop 38 s: counting and cutting were quadratic in the run
  it('counts and truncates a 1.1-million-character message to fit gpt-4o', async () => {
    const plugin = createCondenser({ catalog: createModelCatalog() });
    const ctx = context();
    const condensed = await plugin.condense(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'a'.repeat(1_100_000) }] },
      ctx,
    );
    expect(ctx.condensation?.strategy).toContain('truncate-long');
    const content = condensed.messages[0]?.content;
    expect(typeof content === 'string' && content.length < 1_100_000).toBe(true);
    const info = createModelCatalog().lookup('gpt-4o')!;
    expect(ctx.condensation!.tokensAfter).toBeLessThanOrEqual(info.contextWindow);
    expect(countRequest(condensed, await tokenCounterFor('gpt-4o'))).toBeLessThanOrEqual(
      ctx.condensation!.tokensAfter,
    );
  });
});

describe('condenser on a request with a structured-output schema', async () => {
  const counter = await tokenCounterFor('gpt-4o-mini');
  // a schema of about 2 000 tokens: providers put it in the prompt (OpenAI's structured outputs,
  // Gemini's responseSchema, Anthropic's tool input schema)
  const properties = Object.fromEntries(
    Array.from({ length: 120 }, (_, index) => [
      `field_${index}`,
      { type: 'string', description: `the value of incident attribute number ${index}` },
    ]),
  );
  const responseFormat = {
    type: 'json_schema' as const,
    json_schema: { name: 'incident', strict: true, schema: { type: 'object', properties } },
  };
  const turns: ChatMessage[] = [{ role: 'system', content: 'Report incidents.' }];
  for (let index = 0; index < 10; index += 1) {
    turns.push({ role: 'user', content: `report ${index}: ${'the disk filled up again '.repeat(60)}` });
    turns.push({ role: 'assistant', content: `noted ${index}` });
  }
  turns.push({ role: 'user', content: 'summarise the incidents' });

  it('counts the response_format schema in the prompt: a conversation that fits only without it is condensed to fit with it', async () => {
    const schemaTokens = counter.count(JSON.stringify(responseFormat.json_schema));
    const messagesOnly = countRequest({ model: 'agent-model', messages: turns }, counter);
    expect(schemaTokens).toBeGreaterThan(1_500);
    // the messages alone fit the 5 000-token budget; with the schema they do not
    expect(messagesOnly).toBeLessThan(WINDOW - OUTPUT);
    expect(messagesOnly + schemaTokens).toBeGreaterThan(WINDOW - OUTPUT);
    const ctx = context();
    const condensed = await condenser().condense(
      { model: 'agent-model', messages: turns, max_tokens: OUTPUT, response_format: responseFormat },
      ctx,
    );
    expect(ctx.condensation?.strategy).toBe('middle-out');
    const after =
      countRequest({ model: 'agent-model', messages: condensed.messages }, counter) + schemaTokens;
    expect(after).toBeLessThanOrEqual(WINDOW - OUTPUT);
    expect(ctx.condensation?.tokensAfter).toBe(after);
  });
});

describe('condenser on a conversation holding a PDF', async () => {
  const counter = await tokenCounterFor('gpt-4o-mini');
  // a linearized PDF of four pages: each page's text and image count, though the bytes are not text
  const pdf = linearizedPdf(4, 200_000).toString('base64');
  const turns = [
    { role: 'system', content: 'Answer questions about documents.' },
    { role: 'user', content: 'I will send you the quarterly report.' },
    { role: 'assistant', content: 'Go ahead.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Here it is.' },
        { type: 'file', file: { filename: 'q3.pdf', file_data: `data:application/pdf;base64,${pdf}` } },
      ],
    },
    { role: 'assistant', content: 'Revenue grew 12 % over the quarter.' },
    { role: 'user', content: 'Thanks. Draft a two-line summary for the board.' },
  ] as unknown as ChatMessage[];

  it('counts the PDF: a conversation that overflows the window only with it is condensed (it was passed on as fitting)', async () => {
    expect(countRequest({ model: 'agent-model', messages: turns }, counter)).toBeGreaterThan(WINDOW);
    const ctx = context();
    const condensed = await condenser().condense(
      { model: 'agent-model', messages: turns, max_tokens: OUTPUT },
      ctx,
    );
    expect(ctx.condensation?.strategy).toBe('middle-out');
    expect(condensed.messages).not.toContainEqual(turns[3]);
    expect(condensed.messages.at(-1)).toEqual(turns.at(-1));
    expect(countRequest(condensed, counter)).toBeLessThanOrEqual(WINDOW - OUTPUT);
  });
});

describe('condenser on an alias whose targets tokenize differently', async () => {
  // gpt-4o counts in o200k, gpt-4 in cl100k, which spends about twice as many tokens on Russian
  const o200k = await tokenCounterFor('gpt-4o');
  const cl100k = await tokenCounterFor('gpt-4');
  const info = createModelCatalog().lookup('gpt-4')!;
  const budget = info.contextWindow - CONDENSER_DEFAULTS.outputReserveTokens;
  const sentences = [
    'Сервер базы данных перезапустился ночью, и очередь задач выросла до десяти тысяч сообщений. ',
    'Дежурный инженер проверил журналы и нашёл ошибку в конфигурации балансировщика нагрузки. ',
    'После отката версии время ответа снова стало нормальным, но отчёт об инциденте ещё не готов. ',
  ];
  const turns: ChatMessage[] = Array.from({ length: 20 }, (_, index) => ({
    role: index % 2 === 0 ? 'user' : 'assistant',
    content: `Шаг ${index}. ${sentences[index % sentences.length]!.repeat(28)}`,
  }));
  const mixed: ChatCompletionRequest = { model: 'mix', messages: turns };

  it("condenses to fit the smallest window in every target's tokens (it counted only the first target's)", async () => {
    // about 12 000 tokens in o200k: the first target's count alone would keep far too much for gpt-4
    const before = countRequest(mixed, o200k);
    expect(before).toBeGreaterThan(10_000);
    expect(countRequest(mixed, cl100k)).toBeGreaterThan(before * 1.5);
    const ctx = context();
    const condensed = await createCondenser({
      catalog: createModelCatalog(),
      aliases: { mix: ['gpt-4o', 'gpt-4'] },
    }).condense(mixed, ctx);
    expect(ctx.condensation?.strategy).toBe('middle-out');
    expect(countRequest(condensed, cl100k)).toBeLessThanOrEqual(budget);
    expect(countRequest(condensed, o200k)).toBeLessThanOrEqual(budget);
    expect(ctx.condensation!.tokensAfter).toBeGreaterThanOrEqual(countRequest(condensed, cl100k));
    expect(condensed.messages.at(-1)).toEqual(turns.at(-1));
  });

  it('passes a request that fits in every target untouched', async () => {
    const short: ChatCompletionRequest = { model: 'mix', messages: turns.slice(0, 2) };
    expect(
      await createCondenser({
        catalog: createModelCatalog(),
        aliases: { mix: ['gpt-4o', 'gpt-4'] },
      }).condense(short, context()),
    ).toBe(short);
  });
});

describe('condenser on a model named like a property of Object.prototype', () => {
  it('passes "constructor", "toString" and "__proto__" through unchanged (they failed with a 500)', async () => {
    for (const model of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const plain: ChatCompletionRequest = { model, messages: [{ role: 'user', content: 'hello' }] };
      for (const plugin of [
        createCondenser({ catalog: createModelCatalog(), aliases: {} }),
        createCondenser({ catalog: createModelCatalog(), aliases: { mix: ['gpt-4o'] }, models: {} }),
      ])
        await expect(plugin.condense(plain, context())).resolves.toBe(plain);
    }
  });
});

describe("condenser on OpenAI's legacy function calling", async () => {
  const cl100k = await tokenCounterFor('gpt-4');

  it('counts `functions` like tools: a gpt-4 request whose function definitions alone overflow is refused (it was passed on as fitting)', async () => {
    const functions = Array.from({ length: 70 }, (_, index) => ({
      name: `lookup_incident_${index}`,
      description: `Looks up incident ${index} and returns ${'its fields, owners, timeline and linked alerts; '.repeat(12)}`,
      parameters: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
    }));
    expect(cl100k.count(JSON.stringify(functions))).toBeGreaterThan(9_000);
    const plugin = createCondenser({ catalog: createModelCatalog() });
    await expect(
      plugin.condense(
        { model: 'gpt-4', messages: [{ role: 'user', content: 'which incident is still open?' }], functions },
        context(),
      ),
    ).rejects.toMatchObject({ code: 'context_length_exceeded' });
  });

  it('counts an assistant `function_call` like a tool call', async () => {
    const call = {
      name: 'lookup_incident',
      arguments: JSON.stringify({ id: 'INC-1', note: 'x '.repeat(500) }),
    };
    const withCall = countRequest(
      { model: 'gpt-4', messages: [{ role: 'assistant', content: null, function_call: call }] },
      cl100k,
    );
    const without = countRequest(
      { model: 'gpt-4', messages: [{ role: 'assistant', content: null }] },
      cl100k,
    );
    expect(withCall - without).toBeGreaterThanOrEqual(cl100k.count(call.arguments) + cl100k.count(call.name));
  });

  // a long question, a small call and a long result, then the newest turn: middle-out removes the
  // result first and drop-oldest the question and the call, which split the pair when they were units apart
  const turns: ChatMessage[] = [
    { role: 'system', content: 'You investigate incidents.' },
    {
      role: 'user',
      content: `What changed on the payment service? ${'the card network timed out; '.repeat(450)}`,
    },
    {
      role: 'assistant',
      content: null,
      function_call: { name: 'get_logs', arguments: JSON.stringify({ service: 'payments' }) },
    },
    {
      role: 'function',
      name: 'get_logs',
      content: `${'timeout calling the card network after 30 s; '.repeat(330)}`,
    },
    { role: 'user', content: 'What should we fix first?' },
  ];

  for (const strategy of ['middle-out', 'drop-oldest'] as const) {
    it(`${strategy}: drops a function_call and the function result answering it together`, async () => {
      const ctx = context({ condense: strategy });
      const condensed = await condenser().condense(
        { model: 'agent-model', messages: turns, max_tokens: OUTPUT },
        ctx,
      );
      expect(ctx.condensation!.removed).toBeGreaterThan(0);
      expect(countRequest(condensed, await tokenCounterFor('gpt-4o-mini'))).toBeLessThanOrEqual(
        WINDOW - OUTPUT,
      );
      expect(toolPairsIntact(condensed.messages)).toBe(true);
      // each call is followed by its result, and each result follows its call
      condensed.messages.forEach((message, index) => {
        const call = message.role === 'assistant' ? message.function_call : undefined;
        if (call) expect(condensed.messages[index + 1]).toMatchObject({ role: 'function', name: call.name });
        if (message.role === 'function')
          expect(condensed.messages[index - 1]).toMatchObject({ function_call: { name: message.name } });
      });
    });
  }
});

describe('condenser on Claude through Bedrock and Vertex', () => {
  // Russian takes about 1.4 times as many tokens in the Anthropic estimate as in the generic one
  const russian =
    'Вчера вечером мы обсуждали план переезда офиса, сроки поставки мебели и то, кто отвечает за перенос серверов. ';
  const messages: ChatMessage[] = [];
  for (let turn = 0; turn < 700; turn += 1) {
    messages.push({ role: 'user', content: `${turn}. ${russian.repeat(8)}` });
    messages.push({ role: 'assistant', content: 'Да.' });
  }
  messages.push({ role: 'user', content: 'Итак?' });

  it('sizes and counts a Bedrock or Vertex id of Claude as Claude: a Bedrock target was counted by the generic estimate and its window unknown, so the conversation went on as fitting', async () => {
    const condensed = async (target: string) => {
      const ctx = context();
      await createCondenser({ catalog: createModelCatalog(), aliases: { sonnet: [target] } }).condense(
        { model: 'sonnet', messages, max_tokens: 1_000 },
        ctx,
      );
      return ctx.condensation;
    };
    const direct = await condensed('claude-3-5-sonnet-20240620');
    expect(direct?.tokensBefore).toBeGreaterThan(200_000);
    for (const target of [
      'anthropic.claude-3-5-sonnet-20240620-v1:0',
      'us.anthropic.claude-3-5-sonnet-20240620-v1:0',
      'claude-3-5-sonnet-v2@20241022',
    ]) {
      expect(await condensed(target), target).toEqual(direct);
    }
  });
});
