import { readdirSync, readFileSync } from 'node:fs';
import { encodeBedrockEvent } from '@switchyard/testing';
import { describe, expect, it } from 'vitest';
import { createPricingRegistry } from '../../pricing/pricing-registry';
import type { MeterExchange } from '../meter-exchange';
import { BUILTIN_METERS, createMeterRegistry } from '../meter-registry';
import { readOpenAIUsage } from './openai/read-openai-usage';

// Every provider folder holds documented-example fixtures: request, response, and the
// usage and cost they must meter to. Token prices come from the bundled catalog (clock
// pinned); non-token rates are the test's own, not list prices.

interface Fixture {
  source: string;
  request: { method: string; url: string; headers: Record<string, string>; body?: unknown };
  response: {
    status: number;
    headers: Record<string, string>;
    body?: unknown;
    sse?: (string | { event: string; data: string })[];
    /** Newline-delimited JSON, one value a line (Cohere v1's chat stream). */
    ndjson?: unknown[];
    /**
     * AWS binary event-stream messages (`application/vnd.amazon.eventstream`): a ConverseStream
     * event and its payload, or an InvokeModelWithResponseStream `chunk`, whose model JSON
     * travels base64-encoded in the frame (`{"bytes":"..."}`).
     */
    eventStream?: ({ event: string; payload: unknown } | { chunk: unknown })[];
    bytes?: number;
  };
  expected: { usage: unknown; costUsd: number | null };
}

const root = new URL('./', import.meta.url);
const folders = readdirSync(root, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

const pricing = createPricingRegistry({
  now: () => new Date('2026-11-23T12:00:00Z'),
  models: {
    'ai21/jamba-large': { inputPerMTok: 2, outputPerMTok: 8 },
    'huggingface/meta-llama/Llama-3.1-8B-Instruct': { inputPerMTok: 0.1, outputPerMTok: 0.1 },
  },
  units: {
    // ElevenLabs bills credits (half a credit a character on Flash and Turbo)
    elevenlabs: { perUnit: { credits: 0.00018 } },
    assemblyai: { perUnit: { audio_seconds: 0.00025 } },
    deepgram: { perUnit: { audio_seconds: 0.0043 / 60, characters: 0.000015 } },
    playht: { perUnit: { characters: 0.00004 } },
    'azure-speech': { perUnit: { characters: 0.000016, audio_seconds: 1 / 3600 } },
    'aws-polly/neural': { perUnit: { characters: 0.000016 } },
    'aws-transcribe': { perUnit: { jobs: 0.024 } },
    replicate: { perUnit: { predict_seconds: 0.001525 } },
    stability: { perUnit: { images: 0.03 } },
    runway: { perUnit: { video_seconds: 0.05, images: 0.08 } },
    'aws-rekognition': { perUnit: { images: 0.001 } },
    pinecone: { perUnit: { read_units: 16 / 1e6, records_written: 4 / 1e6 } },
    weaviate: { perUnit: { queries: 0.0001, objects_written: 0.00001 } },
    qdrant: { perUnit: { queries: 0.00001, points_written: 0.000001 } },
    milvus: { perUnit: { vcu: 0.000004 } },
    chroma: { perUnit: { queries: 0.0000025, records_written: 0.0000025 } },
    'mongodb-atlas': {
      perUnit: { operations: 0.000001, documents_read: 0.0000001, documents_written: 0.000001 },
    },
    redis: { perUnit: { commands: 0.000002 } },
    elasticsearch: { perUnit: { search_requests: 0.00001, documents_written: 0.000001 } },
    algolia: { perUnit: { search_requests: 0.0005, records_written: 0.0004 } },
    twilio: { perUnit: { messages: 0.0083, calls: 0.014 } },
    sendgrid: { perUnit: { emails: 0.001 } },
    graphql: { perUnit: { operations: 0.00001 } },
  },
});
const meters = createMeterRegistry();

function toExchange(fixture: Fixture): MeterExchange {
  const { request, response } = fixture;
  let responseText: string | undefined;
  if (response.sse !== undefined) {
    responseText = response.sse
      .map((item) =>
        typeof item === 'string' ? `data: ${item}\n\n` : `event: ${item.event}\ndata: ${item.data}\n\n`,
      )
      .join('');
  } else if (response.ndjson !== undefined) {
    responseText = response.ndjson.map((line) => `${JSON.stringify(line)}\n`).join('');
  } else if (response.eventStream !== undefined) {
    // the proxy captures the frames as text, as a textual type's bytes decode
    const frames = response.eventStream.map((item) =>
      'chunk' in item
        ? encodeBedrockEvent('chunk', { bytes: Buffer.from(JSON.stringify(item.chunk)).toString('base64') })
        : encodeBedrockEvent(item.event, item.payload),
    );
    responseText = Buffer.concat(frames).toString('utf8');
  } else if (response.body !== undefined) {
    responseText = JSON.stringify(response.body);
  }
  const exchange: MeterExchange = {
    method: request.method,
    url: new URL(request.url),
    status: response.status,
    requestHeaders: request.headers,
    responseHeaders: response.headers,
    responseBytes: response.bytes ?? Buffer.byteLength(responseText ?? ''),
  };
  if (request.body !== undefined)
    exchange.requestText = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  if (responseText !== undefined) exchange.responseText = responseText;
  return exchange;
}

function fixturesOf(folder: string): [string, Fixture][] {
  const dir = new URL(`./${folder}/__fixtures__/`, root);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => [name, JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as Fixture]);
}

describe('provider meters', () => {
  it("cover the 37 providers of the issue, the client SDK's other default hosts (DeepSeek, OpenRouter, Fireworks AI, xAI), Vertex AI's partner endpoints and GraphQL, one folder each", () => {
    expect(BUILTIN_METERS).toHaveLength(42);
    expect(folders).toEqual([...BUILTIN_METERS.map((meter) => meter.name), 'graphql'].sort());
  });

  describe.each(folders)('%s', (folder) => {
    const fixtures = fixturesOf(folder);

    it('has at least one documented-example fixture', () => {
      expect(fixtures.length).toBeGreaterThan(0);
      for (const [, fixture] of fixtures) expect(fixture.source).toMatch(/^https:\/\//);
    });

    it.each(fixtures)('%s meters the expected usage and cost to the micro-dollar', (_name, fixture) => {
      const exchange = toExchange(fixture);
      if (folder !== 'graphql') expect(meters.detect(exchange.url)?.name).toBe(folder);
      const usage = meters.meter(exchange);
      expect(usage).toEqual(fixture.expected.usage);
      const cost = usage === undefined ? null : pricing.meteredCostUsd(usage);
      if (fixture.expected.costUsd === null) {
        expect(cost).toBeNull();
      } else {
        expect(cost).not.toBeNull();
        expect(Math.round((cost ?? 0) * 1e6)).toBe(Math.round(fixture.expected.costUsd * 1e6));
        expect(cost).toBeCloseTo(fixture.expected.costUsd, 9);
      }
    });
  });

  it('reads which cached tokens were audio or images where OpenAI says (realtime usage)', () => {
    const usage = {
      input_tokens: 1000,
      output_tokens: 0,
      input_token_details: {
        cached_tokens: 600,
        audio_tokens: 700,
        cached_tokens_details: { text_tokens: 100, audio_tokens: 500, image_tokens: 0 },
      },
    };
    expect(readOpenAIUsage(usage)).toEqual({
      inputTokens: 1000,
      outputTokens: 0,
      cachedInputTokens: 600,
      audioInputTokens: 700,
      cachedAudioInputTokens: 500,
      cachedImageInputTokens: 0,
    });
  });

  it("reads DeepSeek's cache hits (`prompt_cache_hit_tokens`) as cached input where the details give none", () => {
    const deepseek = {
      prompt_tokens: 1000,
      completion_tokens: 50,
      prompt_cache_hit_tokens: 800,
      prompt_cache_miss_tokens: 200,
    };
    expect(readOpenAIUsage(deepseek)).toEqual({
      inputTokens: 1000,
      outputTokens: 50,
      cachedInputTokens: 800,
    });
    // OpenAI's own field wins where both are given
    expect(readOpenAIUsage({ ...deepseek, prompt_tokens_details: { cached_tokens: 640 } })).toEqual({
      inputTokens: 1000,
      outputTokens: 50,
      cachedInputTokens: 640,
    });
    // and priced at the cache-hit rate: 200 x $0.66 + 800 x $0.022 + 50 x $1.98 per 1M at the pinned clock
    const usage = meters.meter({
      method: 'POST',
      url: new URL('https://api.deepseek.com/chat/completions'),
      status: 200,
      requestHeaders: { 'content-type': 'application/json' },
      responseHeaders: { 'content-type': 'application/json' },
      requestText: JSON.stringify({ model: 'deepseek-v4-pro', messages: [] }),
      responseText: JSON.stringify({ model: 'deepseek-v4-pro', usage: deepseek }),
      responseBytes: 0,
    });
    expect(usage?.tokens?.cachedInputTokens).toBe(800);
    expect(pricing.meteredCostUsd(usage!)).toBeCloseTo((200 * 0.66 + 800 * 0.022 + 50 * 1.98) / 1e6, 12);
  });

  it("counts Grok's reasoning tokens once, whether or not its completion tokens include them", () => {
    const exchange = (usage: Record<string, unknown>): MeterExchange => ({
      method: 'POST',
      url: new URL('https://api.x.ai/v1/chat/completions'),
      status: 200,
      requestHeaders: { 'content-type': 'application/json' },
      responseHeaders: { 'content-type': 'application/json' },
      responseText: JSON.stringify({ model: 'grok-4.3', usage }),
      responseBytes: 0,
    });
    const apart = {
      prompt_tokens: 32,
      completion_tokens: 9,
      completion_tokens_details: { reasoning_tokens: 94 },
    };
    expect(meters.meter(exchange({ ...apart, total_tokens: 135 }))?.tokens).toEqual({
      inputTokens: 32,
      outputTokens: 103,
      reasoningTokens: 94,
    });
    expect(meters.meter(exchange(apart))?.tokens?.outputTokens).toBe(103);
    const included = {
      prompt_tokens: 32,
      completion_tokens: 103,
      completion_tokens_details: { reasoning_tokens: 94 },
    };
    expect(meters.meter(exchange({ ...included, total_tokens: 135 }))?.tokens?.outputTokens).toBe(103);
  });

  it.each([
    [
      'gemini',
      'https://generativelanguage.googleapis.com/v1beta/openai/chat/completions',
      'gemini-2.0-flash',
    ],
    ['anthropic', 'https://api.anthropic.com/v1/chat/completions', 'claude-sonnet-4-20250514'],
  ])(
    "meters %s's OpenAI-compatible chat completions streamed, the usage in the last chunk",
    (name, url, model) => {
      const chunk = (extra: Record<string, unknown>) =>
        `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model, ...extra })}\n\n`;
      const responseText = [
        chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' }, finish_reason: null }] }),
        chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
        chunk({ choices: [], usage: { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 } }),
        'data: [DONE]\n\n',
      ].join('');
      const usage = meters.meter({
        method: 'POST',
        url: new URL(url),
        status: 200,
        requestHeaders: { 'content-type': 'application/json' },
        responseHeaders: { 'content-type': 'text/event-stream' },
        requestText: JSON.stringify({
          model,
          stream: true,
          stream_options: { include_usage: true },
          messages: [],
        }),
        responseText,
        responseBytes: responseText.length,
      });
      expect(usage).toEqual({
        provider: name,
        model,
        operation: 'chat',
        tokens: { inputTokens: 11, outputTokens: 5 },
        units: {},
      });
      expect(pricing.meteredCostUsd(usage!)).not.toBeNull();
    },
  );

  describe('an object read again after it was billed', () => {
    const fixture = (folder: string, name: string): Fixture =>
      (fixturesOf(folder).find(([file]) => file === name) as [string, Fixture])[1];

    it('bills a Responses API response once, and its later reads (GET /responses/{id}) at no cost', () => {
      const registry = createMeterRegistry();
      const created = toExchange(fixture('openai', 'responses-reasoning.json'));
      const first = registry.meter(created);
      expect(pricing.meteredCostUsd(first!)).toBeGreaterThan(0);
      const id = first?.billedObject as string;
      // the stored response, read back: the same body, now for a GET of it
      const read = { ...created, method: 'GET', url: new URL(`https://api.openai.com/v1/responses/${id}`) };
      delete read.requestText;
      const again = registry.meter(read);
      expect(again).toEqual({
        provider: 'openai',
        model: first?.model,
        operation: 'responses',
        units: {},
        attributes: { billed_before: id },
        alreadyBilled: id,
      });
      expect(pricing.meteredCostUsd(again!)).toBe(0);
    });

    it('bills a background response at the poll that finds it done, and the polls after it at no cost', () => {
      const registry = createMeterRegistry();
      const done = toExchange(fixture('openai', 'responses-reasoning.json'));
      const id = registry.meter(done)?.billedObject as string;
      const poll = { ...done, method: 'GET', url: new URL(`https://api.openai.com/v1/responses/${id}`) };
      delete poll.requestText;
      // a fresh registry (the first poll that sees the usage) bills it; the next poll does not
      const polling = createMeterRegistry();
      expect(pricing.meteredCostUsd(polling.meter(poll)!)).toBeGreaterThan(0);
      expect(pricing.meteredCostUsd(polling.meter(poll)!)).toBe(0);
    });

    it('meters a stored chat completion read back (GET /chat/completions/{id}) at no cost: it was billed when made', () => {
      const [, made] = fixturesOf('openai').find(
        ([, f]) => /\/chat\/completions$/.test(f.request.url) && f.response.body !== undefined,
      )!;
      const exchange = toExchange(made);
      const id = (made.response.body as { id: string }).id;
      const read = {
        ...exchange,
        method: 'GET',
        url: new URL(`https://api.openai.com/v1/chat/completions/${id}`),
      };
      delete read.requestText;
      const usage = createMeterRegistry().meter(read);
      expect(usage).toMatchObject({
        provider: 'openai',
        operation: 'chat',
        units: {},
        attributes: { billed_before: id },
        alreadyBilled: id,
      });
      expect(usage?.tokens).toBeUndefined();
      expect(pricing.meteredCostUsd(usage!)).toBe(0);
    });

    it.each([
      ['replicate', 'prediction.json'],
      ['assemblyai', 'transcript-completed.json'],
    ])('bills a finished %s job once, whatever the polls that read it after', (folder, name) => {
      const registry = createMeterRegistry();
      const exchange = toExchange(fixture(folder, name));
      const first = registry.meter(exchange);
      expect(pricing.meteredCostUsd(first!)).toBeGreaterThan(0);
      const second = registry.meter(exchange);
      expect(second?.attributes?.['billed_before']).toBe(first?.billedObject);
      expect(pricing.meteredCostUsd(second!)).toBe(0);
      // remembering nothing, every read is billed
      const forgetful = createMeterRegistry({ billedObjectsKept: 0 });
      forgetful.meter(exchange);
      expect(pricing.meteredCostUsd(forgetful.meter(exchange)!)).toBeGreaterThan(0);
    });
  });

  it('meters nothing for a failed exchange', () => {
    const [, fixture] = fixturesOf('openai')[0]!;
    expect(meters.meter({ ...toExchange(fixture), status: 429 })).toBeUndefined();
  });

  it('assigns configured hosts to a provider (self-hosted and test endpoints)', () => {
    const mapped = createMeterRegistry({
      hostProviders: { 'llm.internal': 'openai', '127.0.0.1': 'anthropic' },
    });
    expect(mapped.detect(new URL('http://llm.internal:8000/v1/chat/completions'))?.name).toBe('openai');
    expect(mapped.detect(new URL('http://127.0.0.1:9999/v1/messages'))?.name).toBe('anthropic');
    expect(mapped.detect(new URL('https://unknown.example/'))).toBeUndefined();
  });

  it('detects Vertex AI by its regional hosts (`*-aiplatform.googleapis.com`) and its global one', () => {
    const registry = createMeterRegistry();
    expect(
      registry.detect(
        new URL(
          'https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent',
        ),
      )?.name,
    ).toBe('gemini');
    expect(
      registry.detect(
        new URL(
          'https://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/google/models/gemini-2.0-flash:generateContent',
        ),
      )?.name,
    ).toBe('gemini');
  });

  it("detects Claude, the other partner models and the OpenAI-compatible endpoint on Vertex AI's hosts by their paths", () => {
    const registry = createMeterRegistry();
    const project = 'https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5';
    for (const path of [
      '/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict',
      '/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict',
      '/publishers/anthropic/models/count-tokens:rawPredict',
      '/publishers/mistralai/models/mistral-small-2503:rawPredict',
      '/endpoints/openapi/chat/completions',
    ]) {
      expect(registry.detect(new URL(`${project}${path}`))?.name, path).toBe('vertex');
      expect(
        registry.detect(
          new URL(`https://aiplatform.googleapis.com/v1beta1/projects/p/locations/global${path}`),
        )?.name,
        path,
      ).toBe('vertex');
    }
    // Gemini's own paths stay Gemini's, and another host keeps its meter whatever its path
    for (const path of [
      '/publishers/google/models/gemini-2.5-flash:streamGenerateContent',
      '/publishers/google/models/gemini-2.5-flash:rawPredict',
      '/publishers/google/models/text-embedding-005:predict',
    ]) {
      expect(registry.detect(new URL(`${project}${path}`))?.name, path).toBe('gemini');
    }
    expect(
      registry.detect(
        new URL('https://api.openai.com/v1/projects/p/locations/l/endpoints/openapi/chat/completions'),
      )?.name,
    ).toBe('openai');
    // a configured host mapping still wins over paths
    const mapped = createMeterRegistry({ hostProviders: { '*-aiplatform.googleapis.com': 'gemini' } });
    expect(
      mapped.detect(new URL(`${project}/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`))
        ?.name,
    ).toBe('gemini');
  });

  it("detects a plugin meter narrowed by paths the same way on every call, whatever its patterns' flags", () => {
    const narrowed = {
      name: 'internal-claude',
      label: 'Internal Claude',
      hosts: ['llm.internal'],
      paths: [/\/claude\//g],
      units: 'tokens',
      meter: () => undefined,
    };
    const whole = {
      name: 'internal',
      label: 'Internal',
      hosts: ['llm.internal'],
      units: 'tokens',
      meter: () => undefined,
    };
    const registry = createMeterRegistry({ meters: [whole, narrowed] });
    // the same matching URL on consecutive calls: a kept g flag would start the second test
    // past the first match (lastIndex) and miss it
    for (let call = 0; call < 3; call += 1) {
      expect(registry.detect(new URL('https://llm.internal/v1/claude/messages'))?.name, `call ${call}`).toBe(
        'internal-claude',
      );
    }
    expect(registry.detect(new URL('https://llm.internal/v1/chat/completions'))?.name).toBe('internal');
  });

  it("consults a plugin meter of a whole host before the built-ins' meters narrowed by paths", () => {
    const own = {
      name: 'own-vertex',
      label: 'Own Vertex',
      hosts: ['aiplatform.googleapis.com', '*-aiplatform.googleapis.com'],
      units: 'tokens',
      meter: () => undefined,
    };
    const registry = createMeterRegistry({ meters: [own] });
    for (const path of [
      '/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict',
      '/endpoints/openapi/chat/completions',
      '/publishers/google/models/gemini-2.5-flash:generateContent',
    ]) {
      expect(
        registry.detect(new URL(`https://aiplatform.googleapis.com/v1/projects/p/locations/global${path}`))
          ?.name,
        path,
      ).toBe('own-vertex');
    }
  });

  it('detects the plugin meter that replaces a built-in of its name, never the built-in by its paths', () => {
    const own = {
      name: 'vertex',
      label: 'Own Vertex',
      hosts: ['*-aiplatform.googleapis.com'],
      units: 'tokens',
      meter: () => undefined,
    };
    const registry = createMeterRegistry({ meters: [own] });
    const url = new URL(
      'https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict',
    );
    expect(registry.get('vertex')).toBe(own);
    expect(registry.detect(url)).toBe(own);
    // the built-in's paths no longer take the global host from Gemini
    expect(registry.detect(new URL(`https://aiplatform.googleapis.com${url.pathname}`))?.name).toBe('gemini');
  });
});
