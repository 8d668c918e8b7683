import { readFileSync } from 'node:fs';
import {
  OpenAIAdapter,
  openAIProvider,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type GatewayPlugin,
  type ProviderCallContext,
} from '@switchyard/proxy-core';
import {
  createMockUpstream,
  replyWithFixture,
  sseChunks,
  type FixtureReply,
  type MockUpstream,
} from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppOptions } from '../src/app-options';
import { createApp } from '../src/create-app';

// The engine forwards the upstream's own JSON text of the OpenAI chunks nothing changed,
// instead of serialising them again: these tests hold the client's bytes to what
// re-serialising gave, and check that a changed chunk is never written as it arrived.

const FIXTURE = readFileSync(
  new URL('../../proxy-core/src/providers/openai/__fixtures__/stream.chunks.txt', import.meta.url),
  'utf8',
);
const fixtureEvents = sseChunks(FIXTURE);
/** The fixture's chunks as JSON texts, `[DONE]` left out. */
const fixtureData = fixtureEvents
  .map((event) => event.slice('data: '.length, -2))
  .filter((data) => data !== '[DONE]');
const ANTHROPIC_FIXTURE = readFileSync(
  new URL('../../proxy-core/src/providers/anthropic/__fixtures__/anthropic-text.chunks.txt', import.meta.url),
  'utf8',
);

let upstream: MockUpstream;
let next: FixtureReply = {};
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  upstream = await createMockUpstream({
    routes: [
      { method: 'POST', path: /^\/fixture\//, handle: (exchange) => replyWithFixture(exchange, next) },
    ],
  });
});
afterEach(async () => {
  upstream.reset();
  await Promise.all(apps.splice(0).map(async (app) => app.close()));
});
afterAll(async () => {
  await upstream.close();
});

function app(extra: Partial<AppOptions> = {}, plugins: GatewayPlugin[] = []): FastifyInstance {
  const instance = createApp({
    ...extra,
    gateway: {
      providers: [
        { name: 'openai', type: 'openai', apiKey: 'sk-test', baseUrl: `${upstream.url}/fixture/v1` },
      ],
      models: [{ name: 'gpt', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      plugins,
    },
  });
  apps.push(instance);
  return instance;
}

function replyWith(events: string[]): void {
  next = { stream: { contentType: 'text/event-stream', chunks: events, errorChunk: () => '' } };
}

/** The data of each server-sent event, read as a client does (data lines joined with LF). */
function sseData(body: string): string[] {
  expect(body.endsWith('\n\n')).toBe(true);
  return body
    .slice(0, -2)
    .split('\n\n')
    .map((event) => {
      const lines = event.split('\n');
      for (const line of lines) expect(line.startsWith('data: ')).toBe(true);
      return lines.map((line) => line.slice('data: '.length)).join('\n');
    });
}

async function stream(
  instance: FastifyInstance,
  includeUsage: boolean,
): Promise<{ data: string[]; chunks: ChatCompletionChunk[]; cache: unknown }> {
  const response = await instance.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    payload: {
      model: 'gpt',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
      ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
    },
  });
  expect(response.statusCode).toBe(200);
  const data = sseData(response.body);
  return {
    data,
    chunks: data.filter((text) => text !== '[DONE]').map((text) => JSON.parse(text) as ChatCompletionChunk),
    cache: response.headers['x-switchyard-cache'],
  };
}

/** A plugin that upper-cases each chunk's text in place (an onStreamChunk tap). */
const shout: GatewayPlugin = {
  name: 'shout',
  apply(hooks) {
    hooks.onStreamChunk.tap('shout', (chunk) => {
      for (const choice of chunk.choices)
        if (typeof choice.delta.content === 'string')
          choice.delta.content = choice.delta.content.toUpperCase();
      return chunk;
    });
  },
};
describe('chat streams: the upstream text of unchanged chunks', () => {
  it('gives the client the fixture chunks, each event one data line, ending with [DONE]', async () => {
    replyWith(fixtureEvents);
    const { data, chunks } = await stream(app(), true);
    expect(chunks).toEqual(fixtureData.map((text) => JSON.parse(text) as unknown));
    expect(data.at(-1)).toBe('[DONE]');
    // unchanged chunks are written as the upstream wrote them
    expect(data.slice(0, -1)).toEqual(fixtureData);
  });

  it('keeps unusual spacing and escapes readable, and re-serialises a chunk whose data spanned several lines', async () => {
    const spaced =
      '{ "id" : "c1", "object":"chat.completion.chunk",\t"created":1, "model":"m", "choices":[{"index":0,"delta":{"content":"caf\\u00e9 "},"finish_reason":null}] }  ';
    const multiLine = [
      '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",',
      '"choices":[{"index":0,"delta":{"content":"two lines"},"finish_reason":null}]}',
    ];
    const last =
      '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}';
    replyWith([
      `data:  ${spaced}\n\n`,
      `data: ${multiLine[0]}\ndata: ${multiLine[1]}\n\n`,
      `data: ${last}\n\n`,
      'data: [DONE]\n\n',
    ]);
    const { data, chunks } = await stream(app(), true);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content)).toEqual(['café ', 'two lines', undefined]);
    expect(chunks[1]).toEqual(JSON.parse(multiLine.join('\n')));
    // the data after the one space the SSE format strips, spaces and escapes kept
    expect(data[0]).toBe(` ${spaced}`);
    // the two-line event reached the client as one line of JSON (sseData checked every line)
    expect(data[1]).toBe(JSON.stringify(JSON.parse(multiLine.join(''))));
    expect(data).toHaveLength(4);
  });

  it('strips usage the client did not ask for, from a usage-only chunk and from a chunk with choices', async () => {
    const withUsage =
      '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}';
    replyWith([fixtureEvents[1] as string, `data: ${withUsage}\n\n`, 'data: [DONE]\n\n']);
    const { data, chunks } = await stream(app(), false);
    expect(chunks).toHaveLength(2);
    expect(chunks[1]?.choices[0]?.finish_reason).toBe('stop');
    expect(data.some((text) => text.includes('usage'))).toBe(false);

    replyWith(fixtureEvents);
    const plain = await stream(app(), false);
    expect(plain.chunks.some((chunk) => 'usage' in chunk)).toBe(false);
    expect(plain.chunks).toHaveLength(fixtureData.length - 1);
  });

  it('shows the client what an onStreamChunk tap changed in place', async () => {
    replyWith(fixtureEvents);
    const { chunks } = await stream(app({}, [shout]), true);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('HELLO');
  });

  it('gives onStreamChunkDelivered observers the chunks the client receives, after the transforms', async () => {
    const seen: string[] = [];
    const plugin: GatewayPlugin = {
      name: 'watch',
      apply(hooks) {
        hooks.onStreamChunk.tap('watch', (chunk) => ({ ...chunk, model: 'renamed' }));
        hooks.onStreamChunkDelivered.tap('watch', (chunk) => {
          seen.push(chunk.model);
        });
      },
    };
    replyWith(fixtureEvents);
    const { chunks } = await stream(app({}, [plugin]), true);
    expect(chunks.every((chunk) => chunk.model === 'renamed')).toBe(true);
    expect(seen).toEqual(chunks.map(() => 'renamed'));
  });

  it('shows the client what a plugin adapter built on the OpenAI adapter changed in place', async () => {
    // a subclass and a wrapper of the built-in adapter, each renaming the model in place
    async function* renamed(chunks: AsyncIterable<ChatCompletionChunk>): AsyncGenerator<ChatCompletionChunk> {
      for await (const chunk of chunks) {
        chunk.model = 'renamed';
        yield chunk;
      }
    }
    class RenamingAdapter extends OpenAIAdapter {
      override async stream(
        request: ChatCompletionRequest,
        context: ProviderCallContext,
      ): Promise<AsyncIterable<ChatCompletionChunk>> {
        return renamed(await super.stream(request, context));
      }
    }
    const plugin: GatewayPlugin = {
      name: 'renaming',
      apply(hooks) {
        hooks.registerProviders.tap('renaming', (registry) => {
          registry.register({
            type: 'renaming-subclass',
            optionsSchema: openAIProvider.optionsSchema,
            create: (options, kit) => new RenamingAdapter(options, kit),
          });
          registry.register({
            type: 'renaming-wrapper',
            optionsSchema: openAIProvider.optionsSchema,
            create: (options, kit) => {
              const inner = openAIProvider.create(options, kit);
              return Object.assign(Object.create(inner) as OpenAIAdapter, {
                stream: async (request: ChatCompletionRequest, context: ProviderCallContext) =>
                  renamed(await inner.stream(request, context)),
              });
            },
          });
        });
      },
    };
    for (const type of ['renaming-subclass', 'renaming-wrapper']) {
      const instance = createApp({
        gateway: {
          providers: [{ name: 'renaming', type, apiKey: 'sk-test', baseUrl: `${upstream.url}/fixture/v1` }],
          models: [{ name: 'gpt', targets: [{ provider: 'renaming', model: 'gpt-4o-mini' }] }],
          plugins: [plugin],
        },
      });
      apps.push(instance);
      replyWith(fixtureEvents);
      const { chunks } = await stream(instance, true);
      expect(chunks.length).toBeGreaterThan(0);
      expect(chunks.every((chunk) => chunk.model === 'renamed')).toBe(true);
    }
  });

  it('replays a cached stream as the same chunks', async () => {
    const instance = app({ context: { cache: { memory: { maxBytes: 1024 * 1024 } } } });
    replyWith(fixtureEvents);
    const first = await stream(instance, true);
    const second = await stream(instance, true);
    expect([first.cache, second.cache]).toEqual(['MISS', 'HIT']);
    expect(second.chunks).toEqual(first.chunks);
    expect(upstream.requests).toHaveLength(1);
  });

  it('ends a stream cut after the first content with an error event, never [DONE]', async () => {
    replyWith(fixtureEvents);
    upstream.fault({ kind: 'cut-stream', afterChunks: 2, times: 1 });
    const cut = await stream(app(), true);
    expect(cut.data).not.toContain('[DONE]');
    expect(JSON.parse(cut.data.at(-1) as string)).toMatchObject({
      error: { code: 'upstream_connection_error' },
    });
    expect(cut.data.slice(0, 2)).toEqual(fixtureData.slice(0, 2));

    // a body that ends cleanly before the stream finished is cut too
    replyWith(fixtureEvents.slice(0, 2));
    const ended = await stream(app(), true);
    expect(ended.data).not.toContain('[DONE]');
    expect(JSON.parse(ended.data.at(-1) as string)).toMatchObject({
      error: { code: 'upstream_stream_error' },
    });
  });
});

describe('translated streams (Anthropic upstream): the text of the chunks the mapper made', () => {
  function anthropicApp(plugins: GatewayPlugin[] = []): FastifyInstance {
    const instance = createApp({
      gateway: {
        providers: [
          { name: 'claude', type: 'anthropic', apiKey: 'sk-ant-test', baseUrl: `${upstream.url}/fixture/v1` },
        ],
        models: [{ name: 'gpt', targets: [{ provider: 'claude', model: 'claude-sonnet-4-20250514' }] }],
        plugins,
      },
    });
    apps.push(instance);
    return instance;
  }
  const delta = (text: string): string =>
    `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })}\n\n`;
  // the fixture with text that JSON escapes, one event per delta
  const events = sseChunks(ANTHROPIC_FIXTURE);
  const deltaAt = events.findIndex((event) => event.includes('"text_delta"'));
  const escaped = ['say "hi"\n', 'tab\t back\\slash', 'ü 🙂 \u2028', '</script>'];
  const translated = [...events.slice(0, deltaAt), ...escaped.map(delta), ...events.slice(deltaAt)];

  it('writes every chunk as JSON.stringify wrote it, content and order unchanged, ending with [DONE]', async () => {
    replyWith(translated);
    for (const includeUsage of [false, true]) {
      const { data, chunks } = await stream(anthropicApp(), includeUsage);
      expect(data.at(-1)).toBe('[DONE]');
      expect(data.slice(0, -1)).toEqual(chunks.map((chunk) => JSON.stringify(chunk)));
      expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(
        `${escaped.join('')}Hello!`,
      );
      expect(
        chunks.every(
          (chunk) =>
            chunk.id === 'msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY' &&
            chunk.model === 'claude-sonnet-4-20250514',
        ),
      ).toBe(true);
      expect(chunks.at(-1)?.usage?.total_tokens).toBe(includeUsage ? 40 : undefined);
    }
  });

  it('shows the client what an onStreamChunk tap changed in place', async () => {
    replyWith(translated);
    const { chunks } = await stream(anthropicApp([shout]), false);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(
      `${escaped.join('')}Hello!`.toUpperCase(),
    );
  });
});
