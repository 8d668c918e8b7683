import { createMockUpstream, replyWithFixture, sseChunks, type MockUpstream } from '@switchyard/testing';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basicRequest,
  callContext,
  collect,
  rejection,
  streamedText,
} from '../../../test/support/provider-test-kit';
import { silentLogger } from '../../options/logger';
import type { TextCompletion } from '../../wire/openai-completions';
import { openAIStreamExpectation } from './from-openai-stream';
import { OpenAIAdapter } from './openai-adapter';

// When an OpenAI-compatible stream ends without `[DONE]`: the bodies below are served over HTTP
// and end cleanly (a complete chunked body), so only the mapper can tell a cut stream.

let upstream: MockUpstream;
let dispatcher: Agent;
let adapter: OpenAIAdapter;
let body = '';

beforeAll(async () => {
  upstream = await createMockUpstream({
    routes: [
      {
        method: 'POST',
        path: /^\/end\//,
        handle: (exchange) =>
          replyWithFixture(exchange, {
            stream: { contentType: 'text/event-stream', chunks: sseChunks(body), errorChunk: () => '' },
          }),
      },
    ],
  });
  dispatcher = new Agent();
  adapter = new OpenAIAdapter(
    { name: 'host', type: 'vllm', baseUrl: `${upstream.url}/end/v1` },
    { dispatcher, logger: silentLogger },
  );
});
afterAll(async () => {
  await dispatcher.close();
  await upstream.close();
});

const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1694268190, model: 'm' };
const usage = { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 };

/** A chat chunk event: `[index, content, finish_reason]` per choice, and the chunk's usage when given. */
function chunk(choices: Array<[number, string, string | null]>, extra: { usage?: unknown } = {}): string {
  const data = {
    ...base,
    choices: choices.map(([index, content, finish]) => ({
      index,
      delta: { content },
      logprobs: null,
      finish_reason: finish,
    })),
    ...extra,
  };
  return `data: ${JSON.stringify(data)}\n\n`;
}

async function stream(text: string, n?: number): Promise<Awaited<ReturnType<typeof collect>>> {
  body = text;
  return collect(
    await adapter.stream({ ...basicRequest, ...(n === undefined ? {} : { n }) }, callContext('m')),
  );
}

describe('openai stream: every choice asked for has to finish', () => {
  it('fails a stream of two choices that ends after only one finished', async () => {
    const text =
      chunk([
        [0, 'Hi', null],
        [1, 'Hey', null],
      ]) + chunk([[0, '', 'stop']]);
    const error = await rejection(stream(text, 2));
    expect(error).toMatchObject({ code: 'upstream_stream_error', provider: 'host' });
    expect(error.message).toContain('before it finished');
  });

  it('takes a stream of two choices as finished when both finished, in separate chunks or the same one', async () => {
    const chunks = await stream(
      chunk([
        [0, 'Hi', null],
        [1, 'Hey', null],
      ]) +
        chunk([[1, '', 'length']]) +
        chunk([[0, '', 'stop']]),
      2,
    );
    expect(chunks).toHaveLength(3);
    expect(
      await stream(
        chunk([
          [0, 'Hi', 'stop'],
          [1, 'Hey', 'stop'],
        ]),
        2,
      ),
    ).toHaveLength(1);
  });

  it('counts a choice that finishes twice once', async () => {
    const text = chunk([[0, 'Hi', 'stop']]) + chunk([[0, '', 'stop']]);
    expect((await rejection(stream(text, 2))).code).toBe('upstream_stream_error');
  });

  it('keeps [DONE] sufficient, whatever finished', async () => {
    const chunks = await stream(chunk([[0, 'Hi', null]]) + 'data: [DONE]\n\n', 3);
    expect(streamedText(chunks)).toBe('Hi');
  });

  it('refuses n > 1 for a host that drops `n` (an unsupported parameter), which would stream one choice', async () => {
    const dropping = new OpenAIAdapter(
      { name: 'host', type: 'deepseek', baseUrl: `${upstream.url}/end/v1`, unsupportedParams: ['n'] },
      { dispatcher, logger: silentLogger },
    );
    const sent = upstream.requests.length;
    expect(await rejection(dropping.stream({ ...basicRequest, n: 2 }, callContext('m')))).toMatchObject({
      code: 'unsupported_feature',
      param: 'n',
    });
    expect(upstream.requests).toHaveLength(sent);
    body = chunk([[0, 'Hi', 'stop']]);
    const chunks = await collect(await dropping.stream({ ...basicRequest, n: 1 }, callContext('m')));
    expect(upstream.requests.at(-1)?.body).not.toHaveProperty('n');
    expect(streamedText(chunks)).toBe('Hi');
  });

  it('fails a legacy completion stream of two choices that ends after only one finished', async () => {
    body = [
      {
        choices: [
          { text: 'a', index: 0, logprobs: null, finish_reason: null },
          { text: 'b', index: 1, logprobs: null, finish_reason: null },
        ],
      },
      { choices: [{ text: '', index: 1, logprobs: null, finish_reason: 'length' }] },
    ]
      .map(
        (data) =>
          `data: ${JSON.stringify({ id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm', ...data })}\n\n`,
      )
      .join('');
    const read = async (): Promise<TextCompletion[]> => {
      const chunks: TextCompletion[] = [];
      for await (const item of await adapter.streamComplete(
        { model: 'm', prompt: 'Say this is a test', n: 2 },
        callContext('m'),
      ))
        chunks.push(item);
      return chunks;
    };
    expect((await rejection(read())).code).toBe('upstream_stream_error');
  });
});

describe('openai stream: the usage asked for upstream', () => {
  it('fails a stream whose chunks promise usage (`"usage": null`) and that ends without it', async () => {
    const text = chunk([[0, 'Hi', null]], { usage: null }) + chunk([[0, '', 'stop']], { usage: null });
    const error = await rejection(stream(text));
    expect(error).toMatchObject({ code: 'upstream_stream_error', provider: 'host' });
    expect(error.message).toContain('usage');
  });

  it('takes a stream as finished when its usage chunk arrived, without [DONE]', async () => {
    const chunks = await stream(
      chunk([[0, 'Hi', null]], { usage: null }) +
        chunk([[0, '', 'stop']], { usage: null }) +
        chunk([], { usage }),
    );
    expect(chunks.at(-1)?.usage).toEqual(usage);
  });

  it('takes a stream as finished when the usage came with the finish chunk', async () => {
    const chunks = await stream(
      chunk([[0, 'Hi', null]], { usage: null }) + chunk([[0, '', 'stop']], { usage }),
    );
    expect(chunks.at(-1)?.usage).toEqual(usage);
  });

  it('keeps a host that ignores include_usage (no usage key) and closes after the finish chunk working', async () => {
    const chunks = await stream(chunk([[0, 'Hi', null]]) + chunk([[0, '', 'stop']]));
    expect((upstream.requests.at(-1)?.body as { stream_options?: unknown }).stream_options).toEqual({
      include_usage: true,
    });
    expect(streamedText(chunks)).toBe('Hi');
  });

  it('keeps [DONE] sufficient when no usage came', async () => {
    const chunks = await stream(
      chunk([[0, 'Hi', null]], { usage: null }) +
        chunk([[0, '', 'stop']], { usage: null }) +
        'data: [DONE]\n\n',
    );
    expect(streamedText(chunks)).toBe('Hi');
  });

  it('does not wait for usage when the host drops stream_options', async () => {
    const dropping = new OpenAIAdapter(
      {
        name: 'host',
        type: 'vllm',
        baseUrl: `${upstream.url}/end/v1`,
        unsupportedParams: ['stream_options'],
      },
      { dispatcher, logger: silentLogger },
    );
    body = chunk([[0, 'Hi', null]], { usage: null }) + chunk([[0, '', 'stop']], { usage: null });
    expect(streamedText(await collect(await dropping.stream(basicRequest, callContext('m'))))).toBe('Hi');
  });
});

describe('openAIStreamExpectation', () => {
  it('reads n and include_usage from the body sent upstream', () => {
    expect(openAIStreamExpectation({ n: 3, stream_options: { include_usage: true } })).toEqual({
      choices: 3,
      usage: true,
    });
    expect(openAIStreamExpectation({ n: null })).toEqual({ choices: 1, usage: false });
    expect(openAIStreamExpectation({ n: 0.5, stream_options: null })).toEqual({ choices: 1, usage: false });
    expect(openAIStreamExpectation({ n: 1_000_000 }).choices).toBe(128);
  });
});

describe("a host's own count of cached prompt tokens (DeepSeek)", () => {
  it('is read into prompt_tokens_details.cached_tokens on the usage chunk, where pricing and the log read it', async () => {
    const deepseek = {
      prompt_tokens: 9,
      completion_tokens: 4,
      total_tokens: 13,
      prompt_cache_hit_tokens: 8,
      prompt_cache_miss_tokens: 1,
    };
    const chunks = await stream(
      chunk([[0, 'Hi', 'stop']]) + chunk([], { usage: deepseek }) + 'data: [DONE]\n\n',
    );
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens_details: { cached_tokens: 8 } });
  });

  it("leaves OpenAI's own field as the host sent it", async () => {
    const both = {
      ...usage,
      prompt_cache_hit_tokens: 8,
      prompt_tokens_details: { cached_tokens: 2, audio_tokens: 0 },
    };
    const chunks = await stream(chunk([[0, 'Hi', 'stop']]) + chunk([], { usage: both }) + 'data: [DONE]\n\n');
    expect(chunks.at(-1)?.usage?.prompt_tokens_details).toEqual({ cached_tokens: 2, audio_tokens: 0 });
  });
});
