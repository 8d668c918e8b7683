import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMockUpstream, type MockUpstream } from './mock-upstream';
import { OLLAMA_MOCK_THINKING } from './ollama/ollama-routes';

let upstream: MockUpstream;
beforeAll(async () => {
  upstream = await createMockUpstream({ streamChunks: 4 });
});
afterAll(() => upstream.close());

const post = (path: string, body: unknown) =>
  fetch(`${upstream.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('mock upstream', () => {
  it('answers OpenAI chat and records the request', async () => {
    const response = await post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [] });
    expect(((await response.json()) as { object: string }).object).toBe('chat.completion');
    expect(upstream.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      body: { model: 'gpt-4o-mini' },
    });
  });

  it('streams the configured number of content chunks, then usage on request, then [DONE]', async () => {
    const text = await (
      await post('/v1/chat/completions', {
        model: 'm',
        stream: true,
        stream_options: { include_usage: true },
      })
    ).text();
    const events = text.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(events.filter((e) => e.includes('"content":"') && !e.includes('"content":""'))).toHaveLength(4);
    expect(events.at(-2)).toContain('"usage"');
  });

  it('refuses OpenAI tool-call ids as OpenAI does: over 40 characters, or a result answering no call', async () => {
    const long = `call_${'x'.repeat(36)}`;
    const conversation = (callId: string, resultId: string) => ({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: callId, type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: resultId, content: 'sunny' },
      ],
    });
    const tooLong = await post('/v1/chat/completions', conversation(long, long));
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toEqual({
      error: {
        message:
          "Invalid 'messages[1].tool_calls[0].id': string too long. Expected a string with maximum length 40, but got a string with length 41 instead.",
        type: 'invalid_request_error',
        param: 'messages[1].tool_calls[0].id',
        code: 'string_above_max_length',
      },
    });
    const unmatched = await post('/v1/chat/completions', conversation('call_1', 'call_2'));
    expect(unmatched.status).toBe(400);
    expect(await unmatched.json()).toMatchObject({
      error: { param: 'messages.[2].tool_call_id', type: 'invalid_request_error' },
    });
    expect((await post('/v1/chat/completions', conversation('call_1', 'call_1'))).status).toBe(200);
  });

  it('refuses Anthropic tool_use and tool_result blocks in a request that defines no tools, as Anthropic does', async () => {
    const conversation = (tools: unknown[]) =>
      fetch(`${upstream.url}/v1/messages`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': 'sk-ant-test',
          'anthropic-version': '2023-06-01',
        },
        body: JSON.stringify({
          model: 'claude-sonnet-4-5',
          max_tokens: 64,
          ...(tools.length === 0 ? {} : { tools }),
          messages: [
            { role: 'user', content: 'Weather?' },
            {
              role: 'assistant',
              content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }],
            },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }] },
          ],
        }),
      });
    const without = await conversation([]);
    expect(without.status).toBe(400);
    expect(await without.json()).toEqual({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: 'Requests which include `tool_use` or `tool_result` blocks must define tools.',
      },
    });
    const tool = { name: 'get_weather', input_schema: { type: 'object', properties: {} } };
    expect((await conversation([tool])).status).toBe(200);
  });

  it("decides Ollama's thinking as Ollama does: refusals of a think a model cannot take, reasoning apart from the content", async () => {
    const chat = async (model: string, think?: unknown) =>
      post('/api/chat', { model, stream: false, messages: [], ...(think === undefined ? {} : { think }) });
    for (const [model, think, error] of [
      ['llama3.2', true, '"llama3.2" does not support thinking'],
      ['qwen3:8b', 'high', 'think value "high" is not supported for this model'],
      ['gpt-oss:20b', 'max', 'invalid think value: "max" (must be "high", "medium", "low", true, or false)'],
    ] as const) {
      const response = await chat(model, think);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error });
    }
    const message = async (response: Response) =>
      ((await response.json()) as { message: { content: string; thinking?: string } }).message;
    expect((await message(await chat('qwen3:8b'))).thinking).toBe(OLLAMA_MOCK_THINKING);
    expect((await message(await chat('gpt-oss:20b', 'low'))).thinking).toBe(OLLAMA_MOCK_THINKING);
    expect(await message(await chat('qwen3:8b', false))).not.toHaveProperty('thinking');
    expect(await message(await chat('llama3.2', false))).not.toHaveProperty('thinking');
  });

  it('injects a status fault a bounded number of times, matched by model', async () => {
    upstream.fault({
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '2' },
      times: 1,
      match: { model: 'limited' },
    });
    expect((await post('/v1/chat/completions', { model: 'other' })).status).toBe(200);
    const limited = await post('/v1/chat/completions', { model: 'limited' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect((await post('/v1/chat/completions', { model: 'limited' })).status).toBe(200);
  });

  it('answers unknown routes with an OpenAI-shaped 404', async () => {
    const response = await post('/v1/nothing', {});
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('reports a client abort', async () => {
    upstream.fault({ kind: 'hang', times: 1 });
    const controller = new AbortController();
    const aborted = upstream.nextAbort();
    const arrived = once(upstream.events, 'request');
    const request = fetch(`${upstream.url}/v1/chat/completions`, {
      method: 'POST',
      body: '{}',
      signal: controller.signal,
    }).catch(() => undefined);
    await arrived;
    controller.abort();
    expect((await aborted).aborted).toBe(true);
    await request;
  });

  it('keeps only the latest maxRecordedRequests, dropping the oldest, so long runs stay bounded', async () => {
    const bounded = await createMockUpstream({ maxRecordedRequests: 2 });
    try {
      for (const model of ['first', 'second', 'third']) {
        await fetch(`${bounded.url}/v1/chat/completions`, {
          method: 'POST',
          body: JSON.stringify({ model, messages: [] }),
        });
      }
      expect(bounded.requests.map((request) => (request.body as { model: string }).model)).toEqual([
        'second',
        'third',
      ]);
    } finally {
      await bounded.close();
    }
  });

  it('records nothing with maxRecordedRequests 0, and still emits each request', async () => {
    const silent = await createMockUpstream({ maxRecordedRequests: 0 });
    try {
      const seen: string[] = [];
      silent.events.on('request', (request: { path: string }) => seen.push(request.path));
      const response = await fetch(`${silent.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'm', messages: [] }),
      });
      expect(response.status).toBe(200);
      expect(silent.requests).toEqual([]);
      expect(seen).toEqual(['/v1/chat/completions']);
    } finally {
      await silent.close();
    }
  });

  it('refuses a negative or fractional bound', async () => {
    await expect(createMockUpstream({ maxRecordedRequests: -1 })).rejects.toThrow(RangeError);
    await expect(createMockUpstream({ maxRecordedRequests: 1.5 })).rejects.toThrow(RangeError);
  });
});
