import { readFileSync } from 'node:fs';
import type { ChatCompletionChunk, TextCompletion } from '@switchyard/proxy-core';
import {
  anthropicStreamProblems,
  parseNamedSse,
  replyWithFixture,
  sseChunks,
  type MockRoute,
} from '@switchyard/testing';
import { describe, expect, it } from 'vitest';
import { useListeningApp } from './support/listening-app';

// Azure OpenAI's asynchronous filter streams the answer as it is generated and sends the
// content-filter results later, in annotation chunks whose choice has no `delta`
// (https://learn.microsoft.com/azure/foundry/openai/concepts/content-streaming): before the
// content, amid it and after the finish. Every streaming route takes them, over real HTTP,
// whether the deployment is reached as `azure-openai` or as `openai` at Azure's /openai/v1.

const fixture = (name: string): string[] =>
  sseChunks(
    readFileSync(
      new URL(`../../proxy-core/src/providers/azure-openai/__fixtures__/${name}`, import.meta.url),
      'utf8',
    ),
  );
const PASSES = fixture('azure-openai-async-filter.chunks.txt');
const BLOCKED = fixture('azure-openai-async-filter-blocked.chunks.txt');

// `/passes/...` and `/blocked/...` replay the fixtures at the deployment path and at /openai/v1
const routes: MockRoute[] = (
  [
    ['passes', PASSES],
    ['blocked', BLOCKED],
  ] as const
).map(([name, chunks]) => ({
  method: 'POST',
  path: new RegExp(`^/${name}/openai/(?:deployments/[^/]+|v1)/chat/completions$`),
  handle: (exchange) =>
    replyWithFixture(exchange, {
      stream: { contentType: 'text/event-stream', chunks, errorChunk: () => '' },
    }),
}));

const gateway = useListeningApp(
  (upstream) => ({
    gateway: {
      providers: (['passes', 'blocked'] as const).flatMap((name) => [
        {
          name: `azure-${name}`,
          type: 'azure-openai',
          endpoint: `${upstream.url}/${name}`,
          apiKey: 'az-key',
        },
        {
          name: `v1-${name}`,
          type: 'openai',
          baseUrl: `${upstream.url}/${name}/openai/v1`,
          apiKey: 'az-key',
        },
      ]),
      models: (['passes', 'blocked'] as const).flatMap((name) => [
        { name: `azure-${name}`, targets: [{ provider: `azure-${name}`, model: 'my-gpt4o' }] },
        { name: `v1-${name}`, targets: [{ provider: `v1-${name}`, model: 'my-gpt4o' }] },
      ]),
    },
  }),
  { routes },
);

async function post(path: string, body: Record<string, unknown>): Promise<{ status: number; text: string }> {
  const response = await fetch(`${gateway.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ ...body, stream: true }),
  });
  return { status: response.status, text: await response.text() };
}

/** The JSON data of an OpenAI stream, which has to end with `[DONE]` and carry no error event. */
function openAIData<T>(text: string): T[] {
  const data = text
    .split('\n\n')
    .filter((event) => event.length > 0)
    .map((event) => event.replace(/^data: /, ''));
  expect(data.at(-1)).toBe('[DONE]');
  const chunks = data.slice(0, -1).map((json) => JSON.parse(json) as T & { error?: unknown });
  expect(chunks.filter((chunk) => chunk.error !== undefined)).toEqual([]);
  return chunks;
}

const chat = { messages: [{ role: 'user', content: 'Are customer managed keys supported?' }] };
const PASSED_TEXT = 'Customer managed keys are supported.';

describe("Azure's asynchronous content filter in a stream", () => {
  it('/v1/chat/completions gives the answer without the annotation chunks (no choice without a delta, no empty id)', async () => {
    const response = await post('/v1/chat/completions', { model: 'azure-passes', ...chat });
    expect(response.status).toBe(200);
    const chunks = openAIData<ChatCompletionChunk>(response.text);
    expect(chunks.map((chunk) => chunk.id)).toEqual(chunks.map(() => 'chatcmpl-AAzureAsync1'));
    for (const chunk of chunks) for (const choice of chunk.choices) expect(choice.delta).toBeTypeOf('object');
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(PASSED_TEXT);
    expect(chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.finish_reason)).at(-1)).toBe(
      'stop',
    );
  });

  it("/v1/chat/completions ends a refused answer with the filter's content_filter finish", async () => {
    const response = await post('/v1/chat/completions', { model: 'azure-blocked', ...chat });
    expect(response.status).toBe(200);
    const chunks = openAIData<ChatCompletionChunk>(response.text);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('Here are the lyrics');
    expect(chunks.at(-1)).toMatchObject({
      id: 'chatcmpl-AAzureAsync2',
      choices: [{ index: 0, delta: {}, finish_reason: 'content_filter' }],
    });
  });

  it.each(['azure-passes', 'v1-passes'])('/v1/completions streams the text of %s', async (model) => {
    const response = await post('/v1/completions', { model, prompt: 'Are customer managed keys supported?' });
    expect(response.status).toBe(200);
    const chunks = openAIData<TextCompletion>(response.text);
    expect(chunks.map((chunk) => chunk.choices[0]?.text ?? '').join('')).toBe(PASSED_TEXT);
    expect(chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.finish_reason)).at(-1)).toBe(
      'stop',
    );
  });

  it.each(['azure-blocked', 'v1-blocked'])('/v1/completions ends %s with content_filter', async (model) => {
    const response = await post('/v1/completions', { model, prompt: 'Sing me the lyrics' });
    expect(response.status).toBe(200);
    const chunks = openAIData<TextCompletion>(response.text);
    expect(chunks.map((chunk) => chunk.choices[0]?.text ?? '').join('')).toBe('Here are the lyrics');
    expect(chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.finish_reason)).at(-1)).toBe(
      'content_filter',
    );
  });

  it.each([
    ['azure-passes', PASSED_TEXT, 'end_turn'],
    ['v1-passes', PASSED_TEXT, 'end_turn'],
    ['azure-blocked', 'Here are the lyrics', 'refusal'],
    ['v1-blocked', 'Here are the lyrics', 'refusal'],
  ])('/v1/messages streams %s as well-formed Anthropic events', async (model, text, stopReason) => {
    const response = await post('/v1/messages', { model, max_tokens: 64, ...chat });
    expect(response.status).toBe(200);
    const events = parseNamedSse(response.text);
    expect(anthropicStreamProblems(events)).toEqual([]);
    expect(events.map((event) => event.event)).not.toContain('error');
    const deltas = events.flatMap(({ data }) => {
      const delta = (data as { type: string; delta?: { type?: string; text?: string } }).delta;
      return delta?.type === 'text_delta' ? [delta.text ?? ''] : [];
    });
    expect(deltas.join('')).toBe(text);
    expect(events.find((event) => event.event === 'message_delta')?.data).toMatchObject({
      delta: { stop_reason: stopReason },
    });
  });

  it('/v1/chat/completions through the openai type at /openai/v1 passes the stream on, annotation chunks included, without failing', async () => {
    const response = await post('/v1/chat/completions', { model: 'v1-passes', ...chat });
    expect(response.status).toBe(200);
    const chunks = openAIData<ChatCompletionChunk>(response.text);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('')).toBe(PASSED_TEXT);
  });
});
