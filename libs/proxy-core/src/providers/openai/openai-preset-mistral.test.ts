import { createMockUpstream, type MockExchange, type MockUpstream } from '@switchyard/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../gateway/create-gateway';
import type { ChatCompletionChunk } from '../../wire/openai-chat';

// Mistral's chat endpoint validates its body strictly: a field its API reference does not list
// is a 422 "Extra inputs are not permitted" (pydantic's extra_forbidden), where OpenAI ignores
// it. A stream reports its usage on its last chunk, with the finish reason, unasked.
// https://docs.mistral.ai/api/endpoint/chat
const MISTRAL_CHAT_FIELDS = new Set([
  'model',
  'messages',
  'temperature',
  'top_p',
  'max_tokens',
  'stream',
  'stop',
  'random_seed',
  'response_format',
  'tools',
  'tool_choice',
  'presence_penalty',
  'frequency_penalty',
  'n',
  'prediction',
  'parallel_tool_calls',
  'prompt_mode',
  'safe_prompt',
]);

const USAGE = { prompt_tokens: 7, total_tokens: 9, completion_tokens: 2 };

function mistralChat({ res, body }: MockExchange): void {
  const request = body as Record<string, unknown>;
  const extra = Object.keys(request).filter((key) => !MISTRAL_CHAT_FIELDS.has(key));
  if (extra.length > 0) {
    res.writeHead(422, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        object: 'error',
        message: {
          detail: extra.map((key) => ({
            type: 'extra_forbidden',
            loc: ['body', key],
            msg: 'Extra inputs are not permitted',
            input: request[key],
          })),
        },
        type: 'invalid_request_error',
        param: null,
        code: null,
      }),
    );
    return;
  }
  const base = { id: 'cmpl-e5cc70bb', created: 1702256327, model: 'mistral-small-latest' };
  if (request['stream'] !== true) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        ...base,
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop' }],
        usage: USAGE,
      }),
    );
    return;
  }
  const chunk = (delta: object, finish: string | null, extra: object = {}): string =>
    `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.end(
    chunk({ role: 'assistant', content: '' }, null) +
      chunk({ content: 'Hello' }, null) +
      chunk({ content: '!' }, 'stop', { usage: USAGE }) +
      'data: [DONE]\n\n',
  );
}

let upstream: MockUpstream;
let gateway: Gateway;

beforeAll(async () => {
  upstream = await createMockUpstream({
    routes: [{ method: 'POST', path: /^\/mistral\/v1\/chat\/completions$/, handle: mistralChat }],
  });
  gateway = createGateway({
    providers: [{ name: 'mistral', type: 'mistral', baseUrl: `${upstream.url}/mistral/v1`, apiKey: 'k' }],
  });
});
afterEach(() => upstream.reset());
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

async function drain(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('mistral preset: only the fields Mistral takes', () => {
  it('streams without stream_options (Mistral refuses it with 422), its usage read from the last chunk', async () => {
    const chunks = await drain(
      await gateway.stream({
        model: 'mistral/mistral-small-latest',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    expect(upstream.requests[0]?.body).not.toHaveProperty('stream_options');
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('Hello!');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.find((chunk) => chunk.usage)?.usage).toMatchObject(USAGE);
  });

  it('sends max_completion_tokens as max_tokens (Mistral refuses the OpenAI name with 422)', async () => {
    const request = {
      model: 'mistral/mistral-small-latest',
      messages: [{ role: 'user' as const, content: 'Hi' }],
    };
    const answer = await gateway.chat({ ...request, max_completion_tokens: 64 });
    expect(answer.choices[0]?.message.content).toBe('Hello!');
    expect(upstream.requests[0]?.body).toMatchObject({ max_tokens: 64 });
    expect(upstream.requests[0]?.body).not.toHaveProperty('max_completion_tokens');
    // both given: max_completion_tokens wins, as in the other translators; a null one takes nothing away
    await gateway.chat({ ...request, max_tokens: 10, max_completion_tokens: 20 });
    expect(upstream.requests[1]?.body).toMatchObject({ max_tokens: 20 });
    await gateway.chat({ ...request, max_tokens: 10, max_completion_tokens: null });
    expect(upstream.requests[2]?.body).toMatchObject({ max_tokens: 10 });
    expect(upstream.requests[2]?.body).not.toHaveProperty('max_completion_tokens');
  });

  it("names what Mistral refused from its validation detail, not only its status, and never its input (it was 'answered HTTP 422')", async () => {
    const refusal = await gateway
      .chat({
        model: 'mistral/mistral-small-latest',
        messages: [{ role: 'user', content: 'Hi' }],
        // a field Mistral does not take, its value echoed back in the detail's input
        ...({ service_tier: 'secret-tier-value' } as object),
      })
      .then(
        () => undefined,
        (error: unknown) => error as Error & { status?: number },
      );
    expect(refusal?.status).toBe(400);
    expect(refusal?.message).toContain('body.service_tier: Extra inputs are not permitted');
    expect(refusal?.message).not.toContain('secret-tier-value');
  });
});
