import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../../meter-exchange';
import { createPricingRegistry } from '../../../pricing/pricing-registry';
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
