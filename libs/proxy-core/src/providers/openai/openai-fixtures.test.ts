import { createMockUpstream, replyWithFixture, sseChunks, type MockUpstream } from '@switchyard/testing';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basicRequest,
  callContext,
  collect,
  fixtureJson,
  fixtureText,
  streamedText,
} from '../../../test/support/provider-test-kit';
import { silentLogger } from '../../options/logger';
import type { TextCompletion } from '../../wire/openai-completions';
import { OpenAIAdapter } from './openai-adapter';

const fixture = (name: string): URL => new URL(`./__fixtures__/${name}`, import.meta.url);
let upstream: MockUpstream;
let dispatcher: Agent;
let adapter: OpenAIAdapter;
let next: Parameters<typeof replyWithFixture>[1] = {};

beforeAll(async () => {
  upstream = await createMockUpstream({
    routes: [
      { method: 'POST', path: /^\/fixture\//, handle: (exchange) => replyWithFixture(exchange, next) },
    ],
  });
  dispatcher = new Agent();
  adapter = new OpenAIAdapter(
    { name: 'openai', type: 'openai', apiKey: 'sk-test', baseUrl: `${upstream.url}/fixture/v1` },
    { dispatcher, logger: silentLogger },
  );
});
afterAll(async () => {
  await dispatcher.close();
  await upstream.close();
});

describe('openai adapter with documented fixtures', () => {
  it('replays a documented chat completion', async () => {
    next = { json: fixtureJson(fixture('chat-completion.json')) };
    const response = await adapter.chat(basicRequest, callContext('gpt-4.1'));
    expect(response.choices[0]?.message.content).toBe('Hello! How can I assist you today?');
    expect(response.usage?.total_tokens).toBe(29);
  });

  it('replays a documented stream with its usage chunk', async () => {
    next = {
      stream: {
        contentType: 'text/event-stream',
        chunks: sseChunks(fixtureText(fixture('stream.chunks.txt'))),
        errorChunk: () => '',
      },
    };
    const chunks = await collect(await adapter.stream(basicRequest, callContext('gpt-4o-mini')));
    expect(streamedText(chunks)).toBe('Hello');
    expect(chunks.at(-1)?.usage?.total_tokens).toBe(10);
  });

  it('replays a documented legacy completion from /completions', async () => {
    next = { json: fixtureJson(fixture('text-completion.json')) };
    const response = await adapter.complete(
      { model: 'instruct', prompt: 'Say this is a test', max_tokens: 7, temperature: 0 },
      callContext('gpt-3.5-turbo-instruct'),
    );
    expect(upstream.requests.at(-1)?.path).toBe('/fixture/v1/completions');
    expect(upstream.requests.at(-1)?.body).toEqual({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Say this is a test',
      max_tokens: 7,
      temperature: 0,
      stream: false,
    });
    expect(response).toEqual(fixtureJson(fixture('text-completion.json')));
  });

  it('replays a documented legacy completion stream with its usage chunk', async () => {
    next = {
      stream: {
        contentType: 'text/event-stream',
        chunks: sseChunks(fixtureText(fixture('text-completion.chunks.txt'))),
        errorChunk: () => '',
      },
    };
    const chunks: TextCompletion[] = [];
    for await (const chunk of await adapter.streamComplete(
      { model: 'instruct', prompt: 'Say this is a test' },
      callContext('gpt-3.5-turbo-instruct'),
    ))
      chunks.push(chunk);
    expect(upstream.requests.at(-1)?.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(chunks.every((chunk) => chunk.object === 'text_completion')).toBe(true);
    expect(chunks.map((chunk) => chunk.choices[0]?.text ?? '').join('')).toBe('\n\nThis is indeed a test');
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('length');
    expect(chunks.at(-1)?.usage?.total_tokens).toBe(12);
  });
});
