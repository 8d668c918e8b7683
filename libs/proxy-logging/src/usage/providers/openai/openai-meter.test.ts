import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../../meter-exchange';
import { createPricingRegistry } from '../../../pricing/pricing-registry';
import { createMeterRegistry } from '../../meter-registry';
import { openAIMeter } from './openai-meter';

const INPUT = 'The quick brown fox jumped over the lazy dog.';

function speech(
  request: Pick<MeterExchange, 'requestText' | 'requestTruncated'>,
  responseText?: string,
): MeterExchange {
  return {
    method: 'POST',
    url: new URL('https://api.openai.com/v1/audio/speech'),
    requestHeaders: { 'content-type': 'application/json' },
    ...request,
    status: 200,
    responseHeaders: { 'content-type': responseText === undefined ? 'audio/mpeg' : 'text/event-stream' },
    ...(responseText === undefined ? {} : { responseText }),
    responseBytes: responseText?.length ?? 48_213,
  };
}

const body = (model: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ model, input: INPUT, voice: 'alloy', ...extra });

// tts-1 and tts-1-hd bill the characters of `input`, which only the request holds; gpt-4o-mini-tts
// bills tokens, reported only by its event stream's `speech.audio.done`
// (https://platform.openai.com/docs/api-reference/audio/createSpeech)
describe('openai meter: speech', () => {
  it('counts the characters of the input', () => {
    expect(openAIMeter.meter(speech({ requestText: body('tts-1') }))?.units).toEqual({ characters: 45 });
  });

  it('meters no usage, rather than 0 characters or those of a part, when the request was not captured whole', () => {
    for (const request of [
      {},
      { requestText: '' },
      { requestText: '{"voice":"alloy"}' },
      // head and tail joined by the capture bound may still parse: its input is not the whole one
      { requestText: body('tts-1'), requestTruncated: true },
      { requestText: body('gpt-4o-mini-tts'), requestTruncated: true },
    ])
      expect(openAIMeter.meter(speech(request))).toBeUndefined();
  });

  it('meters the tokens a stream reports without the characters it could not count', () => {
    const done = `event: speech.audio.done\ndata: ${JSON.stringify({
      type: 'speech.audio.done',
      usage: { input_tokens: 14, output_tokens: 101, total_tokens: 115 },
    })}\n\n`;
    const usage = openAIMeter.meter(
      speech(
        { requestText: body('gpt-4o-mini-tts', { stream_format: 'sse' }), requestTruncated: true },
        done,
      ),
    );
    expect(usage?.tokens).toMatchObject({ inputTokens: 14, outputTokens: 101 });
    expect(usage?.attributes).toBeUndefined();
    expect(usage?.units).toEqual({});
  });
});

function answered(path: string, responseText: string, stream = false): MeterExchange {
  return {
    method: 'POST',
    url: new URL(`https://api.openai.com/v1${path}`),
    requestHeaders: { 'content-type': 'application/json' },
    requestText: JSON.stringify({ model: 'gpt-4o-mini' }),
    status: 200,
    responseHeaders: { 'content-type': stream ? 'text/event-stream' : 'application/json' },
    responseText,
    responseBytes: responseText.length,
  };
}

const sse = (...events: unknown[]): string =>
  events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('');

// the answer names the tier it was served on (`service_tier`: default, flex, priority), whose rates
// differ: the /v1 path prices by it, and the pass-through priced every answer at the standard rates
// (https://platform.openai.com/docs/api-reference/chat/object#chat/object-service_tier)
describe('openai meter: service tier', () => {
  const pricing = createPricingRegistry({
    models: {
      'openai/gpt-4o-mini': {
        inputPerMTok: 1,
        outputPerMTok: 2,
        serviceTiers: { flex: { inputPerMTok: 0.5, outputPerMTok: 1 } },
      },
    },
  });
  const usage = { prompt_tokens: 1_000_000, completion_tokens: 1_000_000, total_tokens: 2_000_000 };

  it('prices a whole chat completion by the tier it names', () => {
    const flex = openAIMeter.meter(
      answered(
        '/chat/completions',
        JSON.stringify({ id: 'chatcmpl-1', model: 'gpt-4o-mini', service_tier: 'flex', usage }),
      ),
    );
    expect(flex?.tokens?.serviceTier).toBe('flex');
    expect(pricing.meteredCostUsd(flex!)).toBe(1.5);
    const standard = openAIMeter.meter(
      answered('/chat/completions', JSON.stringify({ model: 'gpt-4o-mini', service_tier: 'default', usage })),
    );
    expect(pricing.meteredCostUsd(standard!)).toBe(3);
  });

  it('leaves an answer on a tier its price has no rates for unpriced, not priced at the standard rates', () => {
    const priority = openAIMeter.meter(
      answered(
        '/chat/completions',
        JSON.stringify({ model: 'gpt-4o-mini', service_tier: 'priority', usage }),
      ),
    );
    expect(pricing.meteredCostUsd(priority!)).toBeNull();
  });

  it('prices a chat completion stream by the tier its chunks name, the last one with the usage', () => {
    const chunk = {
      id: 'chatcmpl-2',
      object: 'chat.completion.chunk',
      model: 'gpt-4o-mini',
      service_tier: 'flex',
    };
    const streamed = openAIMeter.meter(
      answered(
        '/chat/completions',
        `${sse({ ...chunk, choices: [{ index: 0, delta: { content: 'Hi' } }] }, { ...chunk, choices: [], usage })}data: [DONE]\n\n`,
        true,
      ),
    );
    expect(streamed?.tokens?.serviceTier).toBe('flex');
    expect(pricing.meteredCostUsd(streamed!)).toBe(1.5);
  });

  it('prices a Responses API answer, whole or streamed, by the tier of the finished response', () => {
    const responsesUsage = { input_tokens: 1_000_000, output_tokens: 1_000_000, total_tokens: 2_000_000 };
    const response = {
      id: 'resp_1',
      object: 'response',
      model: 'gpt-4o-mini',
      service_tier: 'flex',
      usage: responsesUsage,
    };
    const whole = openAIMeter.meter(answered('/responses', JSON.stringify(response)));
    expect(pricing.meteredCostUsd(whole!)).toBe(1.5);
    // the created event names the tier asked for (`auto`); the completed one the tier served
    const streamed = openAIMeter.meter(
      answered(
        '/responses',
        sse(
          {
            type: 'response.created',
            response: { ...response, id: 'resp_2', service_tier: 'auto', usage: null },
          },
          { type: 'response.completed', response: { ...response, id: 'resp_2' } },
        ),
        true,
      ),
    );
    expect(streamed?.tokens?.serviceTier).toBe('flex');
    expect(pricing.meteredCostUsd(streamed!)).toBe(1.5);
  });
});

/**
 * `text` as the proxy keeps an answer past its capture bound: the first `keep` characters and the
 * last `keep`, joined by a blank line (the middle, most of the vectors, dropped).
 */
function cutByTheCaptureBound(text: string, keep: number): string {
  return `${text.slice(0, keep)}\n\n${text.slice(-keep)}`;
}

/** An embeddings exchange whose answer, `answer`, was cut by the capture bound. */
function cutEmbeddings(
  answer: string,
  request: Pick<MeterExchange, 'requestText' | 'requestTruncated'>,
): MeterExchange {
  const responseText = cutByTheCaptureBound(answer, 4_000);
  return {
    method: 'POST',
    url: new URL('https://api.openai.com/v1/embeddings'),
    requestHeaders: { 'content-type': 'application/json' },
    ...request,
    status: 200,
    responseHeaders: { 'content-type': 'application/json' },
    responseText,
    responseTruncated: true,
    responseBytes: answer.length,
  };
}

const VECTOR = Buffer.from(new Float32Array(64).map((_, index) => index / 64).buffer).toString('base64');

/** An embeddings answer (`encoding_format: "base64"`), pretty-printed as OpenAI sends it when `indent` is set. */
function embeddingsAnswer(items: number, indent?: number): string {
  return JSON.stringify(
    {
      object: 'list',
      data: Array.from({ length: items }, (_, index) => ({ object: 'embedding', index, embedding: VECTOR })),
      model: 'text-embedding-3-small',
      usage: { prompt_tokens: 250_000, total_tokens: 250_000 },
    },
    null,
    indent,
  );
}

// a bulk embeddings batch of base64 vectors passes the 8 MiB capture bound, and its `model` and
// `usage` come after `data`, in the kept tail (https://platform.openai.com/docs/api-reference/embeddings/object)
describe('openai meter: embeddings past the capture bound', () => {
  const pricing = createPricingRegistry({ now: () => new Date('2026-11-23T12:00:00Z') });

  it('meters the usage and model at the end of a cut answer, the request cut too', () => {
    for (const indent of [undefined, 2]) {
      const usage = openAIMeter.meter(
        cutEmbeddings(embeddingsAnswer(400, indent), {
          requestText: '{"input":["a", "b"',
          requestTruncated: true,
        }),
      );
      expect(usage).toEqual({
        provider: 'openai',
        model: 'text-embedding-3-small',
        operation: 'embeddings',
        tokens: { inputTokens: 250_000, outputTokens: 0 },
        units: {},
      });
      // $0.02 per 1M tokens in the catalog
      expect(pricing.meteredCostUsd(usage!)).toBe(0.005);
    }
  });

  it("takes the request's model when the kept tail names none", () => {
    const answer = JSON.stringify({
      object: 'list',
      data: Array.from({ length: 400 }, (_, index) => ({ object: 'embedding', index, embedding: VECTOR })),
      usage: { prompt_tokens: 12, total_tokens: 12 },
    });
    const usage = openAIMeter.meter(
      cutEmbeddings(answer, { requestText: '{"model":"text-embedding-3-large","input":"hi"}' }),
    );
    expect(usage).toMatchObject({ model: 'text-embedding-3-large', tokens: { inputTokens: 12 } });
  });

  it('meters no usage from a cut answer whose usage is not whole, or from a cut answer of another endpoint', () => {
    const answer = embeddingsAnswer(400);
    // the answer stops inside its usage (the upstream went away)
    expect(openAIMeter.meter(cutEmbeddings(answer.slice(0, -8), {}))).toBeUndefined();
    // a chat completion is not read from its tail: its text could hold anything
    const chat = JSON.stringify({
      model: 'gpt-4o-mini',
      choices: [{ message: { content: 'x'.repeat(20_000) } }],
      usage: { prompt_tokens: 5, completion_tokens: 5_000 },
    });
    expect(
      openAIMeter.meter({
        ...answered('/chat/completions', cutByTheCaptureBound(chat, 4_000)),
        responseTruncated: true,
      }),
    ).toBeUndefined();
  });
});

const THREAD = 'https://api.openai.com/v1/threads/thread_abc123';

/** A run of the Assistants API, as `GET /threads/{thread}/runs/{run}` answers it. */
const run = (status: string, usage: Record<string, number> | null): Record<string, unknown> => ({
  id: 'run_abc123',
  object: 'thread.run',
  created_at: 1699063290,
  assistant_id: 'asst_abc123',
  thread_id: 'thread_abc123',
  status,
  model: 'gpt-4o',
  tools: [{ type: 'code_interpreter' }],
  usage,
});

/** One of its steps (`GET /threads/{thread}/runs/{run}/steps/{step}`), whose usage is part of the run's. */
const step = (usage: Record<string, number>): Record<string, unknown> => ({
  id: 'step_abc123',
  object: 'thread.run.step',
  created_at: 1699063291,
  run_id: 'run_abc123',
  assistant_id: 'asst_abc123',
  thread_id: 'thread_abc123',
  type: 'message_creation',
  status: 'completed',
  step_details: { type: 'message_creation', message_creation: { message_id: 'msg_abc123' } },
  usage,
});

function assistants(method: string, path: string, answer: string, stream = false): MeterExchange {
  return {
    method,
    url: new URL(`${THREAD}${path}`),
    requestHeaders: { 'content-type': 'application/json', 'openai-beta': 'assistants=v2' },
    ...(method === 'POST'
      ? { requestText: JSON.stringify({ assistant_id: 'asst_abc123', ...(stream ? { stream: true } : {}) }) }
      : {}),
    status: 200,
    responseHeaders: { 'content-type': stream ? 'text/event-stream' : 'application/json' },
    responseText: answer,
    responseBytes: answer.length,
  };
}

const named = (...events: [string, unknown][]): string =>
  events
    .map(
      ([event, data]) =>
        `event: ${event}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`,
    )
    .join('');

// a run's `usage` is null until it reaches a terminal status, then the run's whole use, the sum of
// its steps' (https://platform.openai.com/docs/api-reference/runs/object); clients poll the run
// until then, and may read it and its steps again after
describe('openai meter: Assistants runs', () => {
  const pricing = createPricingRegistry({ now: () => new Date('2026-11-23T12:00:00Z') });
  const total = { prompt_tokens: 100_000, completion_tokens: 1_000, total_tokens: 101_000 };

  it('bills a finished run once, at the poll that finds it done, and its later reads at no cost', () => {
    const meters = createMeterRegistry();
    const poll = (answer: Record<string, unknown>) =>
      meters.meter(assistants('GET', '/runs/run_abc123', JSON.stringify(answer)));
    expect(poll(run('in_progress', null))).toBeUndefined();
    const done = poll(run('completed', total));
    expect(done).toEqual({
      provider: 'openai',
      model: 'gpt-4o',
      operation: 'chat',
      tokens: { inputTokens: 100_000, outputTokens: 1_000 },
      units: {},
      billedObject: 'run_abc123',
    });
    // 100000 x $2.50 + 1000 x $10 per 1M tokens
    expect(pricing.meteredCostUsd(done!)).toBe(0.26);
    const again = poll(run('completed', total));
    expect(again).toMatchObject({ alreadyBilled: 'run_abc123', attributes: { billed_before: 'run_abc123' } });
    expect(again?.tokens).toBeUndefined();
    expect(pricing.meteredCostUsd(again!)).toBe(0);
  });

  it("meters a run's step at no cost: its usage is billed with the run's", () => {
    const usage = createMeterRegistry().meter(
      assistants('GET', '/runs/run_abc123/steps/step_abc123', JSON.stringify(step(total))),
    );
    expect(usage).toEqual({
      provider: 'openai',
      operation: 'chat',
      units: {},
      attributes: { billed_with_run: 'run_abc123' },
      alreadyBilled: 'run_abc123',
    });
    expect(pricing.meteredCostUsd(usage!)).toBe(0);
  });

  it("bills a streamed run by the finished run's usage, not its steps', once whatever reads it after", () => {
    const meters = createMeterRegistry();
    const firstStep = { prompt_tokens: 40_000, completion_tokens: 200, total_tokens: 40_200 };
    // the run stops for a tool's output: not finished, its steps' usage is not the run's
    const paused = meters.meter(
      assistants(
        'POST',
        '/runs',
        named(
          ['thread.run.created', run('queued', null)],
          ['thread.run.step.completed', { ...step(firstStep), type: 'tool_calls' }],
          ['thread.run.requires_action', run('requires_action', null)],
          ['done', '[DONE]'],
        ),
        true,
      ),
    );
    expect(paused).toBeUndefined();
    // the tool's output submitted, the run goes on to its end: its usage counts both steps
    const finished = meters.meter(
      assistants(
        'POST',
        '/runs/run_abc123/submit_tool_outputs',
        named(
          [
            'thread.run.step.completed',
            step({ prompt_tokens: 60_000, completion_tokens: 800, total_tokens: 60_800 }),
          ],
          ['thread.run.completed', run('completed', total)],
          ['done', '[DONE]'],
        ),
        true,
      ),
    );
    expect(finished).toEqual({
      provider: 'openai',
      model: 'gpt-4o',
      operation: 'chat',
      tokens: { inputTokens: 100_000, outputTokens: 1_000 },
      units: {},
      billedObject: 'run_abc123',
    });
    const read = meters.meter(assistants('GET', '/runs/run_abc123', JSON.stringify(run('completed', total))));
    expect(pricing.meteredCostUsd(read!)).toBe(0);
  });
});

/** A base64 PNG of about `bytes` characters (no quote can occur in it). */
const png = (bytes: number): string => `iVBORw0KGgo${'A'.repeat(bytes)}`;

/** An Images API exchange whose answer, `answer`, was cut by the capture bound. */
function cutImages(
  answer: string,
  request: Pick<MeterExchange, 'requestText' | 'requestTruncated'>,
  path = '/images/generations',
): MeterExchange {
  const responseText = cutByTheCaptureBound(answer, 4_000);
  return {
    method: 'POST',
    url: new URL(`https://api.openai.com/v1${path}`),
    requestHeaders: { 'content-type': 'application/json' },
    ...request,
    status: 200,
    responseHeaders: { 'content-type': 'application/json' },
    responseText,
    responseTruncated: true,
    responseBytes: answer.length,
  };
}

// a GPT image model's answer puts its `usage` after the base64 images of `data`
// (https://platform.openai.com/docs/api-reference/images/object): a few large images pass the
// 8 MiB capture bound, and the usage is in the kept tail
describe('openai meter: images past the capture bound', () => {
  const pricing = createPricingRegistry({ now: () => new Date('2026-11-23T12:00:00Z') });
  const usage = {
    total_tokens: 18_850,
    input_tokens: 50,
    output_tokens: 18_800,
    input_tokens_details: { text_tokens: 50, image_tokens: 0 },
  };
  const answer = (indent?: number): string =>
    JSON.stringify(
      {
        created: 1713833628,
        background: 'opaque',
        data: [{ b64_json: png(20_000) }, { b64_json: png(20_000) }, { b64_json: png(20_000) }],
        output_format: 'png',
        quality: 'high',
        size: '1536x1024',
        usage,
      },
      null,
      indent,
    );
  const request = JSON.stringify({
    model: 'gpt-image-1',
    prompt: 'A cute baby sea otter',
    n: 3,
    quality: 'high',
  });

  it('meters the usage at the end of a cut answer, and prices it as the whole one', () => {
    const whole = openAIMeter.meter({
      ...cutImages(answer(), { requestText: request }),
      responseText: answer(),
      responseTruncated: false,
    });
    for (const indent of [undefined, 2]) {
      const cut = openAIMeter.meter(cutImages(answer(indent), { requestText: request }));
      expect(cut).toEqual({
        provider: 'openai',
        model: 'gpt-image-1',
        operation: 'image',
        tokens: { inputTokens: 50, outputTokens: 18_800, imageInputTokens: 0, imageOutputTokens: 18_800 },
        units: {},
      });
      expect(cut).toEqual(whole);
      // 50 x $5 + 18800 x $40 per 1M tokens
      expect(pricing.meteredCostUsd(cut!)).toBe(0.75225);
    }
  });

  it('meters no usage from a cut answer whose usage did not come, whatever its text quotes', () => {
    // the answer stops inside its usage (the upstream went away)
    expect(openAIMeter.meter(cutImages(answer().slice(0, -20), { requestText: request }))).toBeUndefined();
    // a usage quoted in a string of the tail is not the answer's
    const quoting = JSON.stringify({
      created: 1713833628,
      data: [{ b64_json: png(20_000), revised_prompt: `An otter saying "usage": ${JSON.stringify(usage)}` }],
    });
    expect(openAIMeter.meter(cutImages(quoting, { requestText: request }))).toBeUndefined();
  });

  it("counts a cut DALL·E answer's images by the request's `n`, when the request was kept whole", () => {
    const dallE = JSON.stringify({
      created: 1713833628,
      data: Array.from({ length: 10 }, () => ({ b64_json: png(2_000) })),
    });
    const asked = (body: Record<string, unknown>) =>
      openAIMeter.meter(cutImages(dallE, { requestText: JSON.stringify(body) }));
    expect(
      asked({ model: 'dall-e-2', prompt: 'An otter', n: 10, size: '512x512', response_format: 'b64_json' }),
    ).toEqual({
      provider: 'openai',
      model: 'dall-e-2',
      operation: 'image',
      units: { images: 10 },
      priceVariant: 'standard/512x512',
    });
    // without `n`, the API's default: one image
    expect(asked({ model: 'dall-e-3', prompt: 'An otter', response_format: 'b64_json' })?.units).toEqual({
      images: 1,
    });
    // a request not kept whole may have lost its `n`: nothing is counted
    expect(
      openAIMeter.meter(
        cutImages(dallE, { requestText: '{"model":"dall-e-2","n":10', requestTruncated: true }),
      ),
    ).toBeUndefined();
    expect(openAIMeter.meter(cutImages(dallE, {}))).toBeUndefined();
  });
});
