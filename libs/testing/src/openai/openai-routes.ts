import type { MockExchange, MockRoute } from '../mock-upstream';
import { sendJson, splitText, startSse, writeSse } from '../sse';

// Shapes and figures follow OpenAI's documented examples for chat completions, streaming
// chunks, legacy completions and embeddings (https://platform.openai.com/docs/api-reference/chat/create).

interface ChatBody {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: Array<{ function: { name: string } }>;
  tool_choice?: unknown;
  messages?: Array<{ role?: string; tool_call_id?: unknown; tool_calls?: Array<{ id?: unknown }> }>;
}

let counter = 0;

/** OpenAI's longest `tool_calls[].id` and `tool_call_id`. */
const MAX_TOOL_CALL_ID_LENGTH = 40;

/**
 * The 400 OpenAI answers for a tool-call id it refuses, in its own words: one over 40
 * characters (`string_above_max_length`), or a tool result answering no call of the
 * assistant message before it. Undefined for a conversation OpenAI accepts.
 */
function toolCallIdProblem(
  messages: NonNullable<ChatBody['messages']>,
): { message: string; param: string; code: string | null } | undefined {
  const tooLong = (id: unknown, param: string) =>
    typeof id === 'string' && id.length > MAX_TOOL_CALL_ID_LENGTH
      ? {
          message: `Invalid '${param}': string too long. Expected a string with maximum length ${MAX_TOOL_CALL_ID_LENGTH}, but got a string with length ${id.length} instead.`,
          param,
          code: 'string_above_max_length',
        }
      : undefined;
  let calls: unknown[] = [];
  for (const [index, message] of messages.entries()) {
    if (message.role === 'assistant') {
      calls = (message.tool_calls ?? []).map((call) => call.id);
      for (const [position, id] of calls.entries()) {
        const problem = tooLong(id, `messages[${index}].tool_calls[${position}].id`);
        if (problem !== undefined) return problem;
      }
    }
    if (message.role !== 'tool') continue;
    const problem = tooLong(message.tool_call_id, `messages[${index}].tool_call_id`);
    if (problem !== undefined) return problem;
    if (!calls.includes(message.tool_call_id)) {
      return {
        message: `Invalid parameter: 'tool_call_id' of '${String(message.tool_call_id)}' not found in 'tool_calls' of previous message.`,
        param: `messages.[${index}].tool_call_id`,
        code: null,
      };
    }
  }
  return undefined;
}

function toolName(body: ChatBody): string | undefined {
  const choice = body.tool_choice;
  if (typeof choice === 'object' && choice !== null)
    return (choice as { function: { name: string } }).function.name;
  return choice === 'required' ? body.tools?.[0]?.function.name : undefined;
}

/**
 * Whether a request came the way of Mistral's API (`/mistral/v1/chat/completions` here): its
 * streams put the usage on the chunk with the finish reason, unasked (Mistral takes no
 * `stream_options`), where OpenAI sends it in a chunk of its own, only when asked.
 */
function isMistral(url: URL): boolean {
  return url.pathname.startsWith('/mistral/');
}

async function chat({ res, url, body, streamFault, options }: MockExchange): Promise<void> {
  const request = (body ?? {}) as ChatBody;
  const model = request.model ?? 'gpt-4o-mini';
  const id = `chatcmpl-mock${++counter}`;
  const created = 1741569952;
  const usage = options.chatUsage;
  const tool = toolName(request);
  const problem = toolCallIdProblem(request.messages ?? []);
  if (problem !== undefined) {
    sendJson(res, 400, {
      error: {
        message: problem.message,
        type: 'invalid_request_error',
        param: problem.param,
        code: problem.code,
      },
    });
    return;
  }
  if (request.stream !== true) {
    const message =
      tool === undefined
        ? { role: 'assistant', content: options.replyText, refusal: null, annotations: [] }
        : {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_abc123',
                type: 'function',
                function: { name: tool, arguments: '{"location":"Boston, MA"}' },
              },
            ],
          };
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [
        { index: 0, message, logprobs: null, finish_reason: tool === undefined ? 'stop' : 'tool_calls' },
      ],
      usage,
      service_tier: 'default',
      system_fingerprint: 'fp_mock',
    });
    return;
  }
  startSse(res);
  const base = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_mock' };
  const pieces =
    tool === undefined
      ? splitText(options.replyText, options.streamChunks)
      : ['{"location":', '"Boston, MA"}'];
  const events: string[] = [
    JSON.stringify({
      ...base,
      choices: [
        {
          index: 0,
          delta: { role: 'assistant', content: '', refusal: null },
          logprobs: null,
          finish_reason: null,
        },
      ],
    }),
  ];
  if (tool !== undefined) {
    events.push(
      JSON.stringify({
        ...base,
        choices: [
          {
            index: 0,
            delta: {
              tool_calls: [
                { index: 0, id: 'call_abc123', type: 'function', function: { name: tool, arguments: '' } },
              ],
            },
            logprobs: null,
            finish_reason: null,
          },
        ],
      }),
    );
  }
  for (const piece of pieces) {
    const delta =
      tool === undefined
        ? { content: piece }
        : { tool_calls: [{ index: 0, function: { arguments: piece } }] };
    events.push(
      JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] }),
    );
  }
  const mistral = isMistral(url);
  events.push(
    JSON.stringify({
      ...base,
      choices: [
        { index: 0, delta: {}, logprobs: null, finish_reason: tool === undefined ? 'stop' : 'tool_calls' },
      ],
      ...(mistral ? { usage } : {}),
    }),
  );
  if (!mistral && request.stream_options?.include_usage === true)
    events.push(JSON.stringify({ ...base, choices: [], usage }));
  await replayEvents(res, events, streamFault);
}

/** Writes stream events, then `[DONE]`, honouring a configured stream fault. */
async function replayEvents(
  res: MockExchange['res'],
  events: readonly string[],
  streamFault: MockExchange['streamFault'],
): Promise<void> {
  for (const [index, data] of events.entries()) {
    if (streamFault?.kind === 'slow-stream') {
      if (index >= (streamFault.afterChunks ?? 1))
        await new Promise((resolve) => setTimeout(resolve, streamFault.delayMs));
      await writeSse(res, data);
      continue;
    }
    if (streamFault !== undefined && index === streamFault.afterChunks) {
      if (streamFault.kind === 'cut-stream') {
        // let what was written reach the client, then drop the connection mid-stream
        await new Promise<void>((resolve) => res.write('', () => resolve()));
        res.socket?.destroy();
        return;
      }
      if (streamFault.kind === 'stall-stream') return;
      await writeSse(
        res,
        JSON.stringify({
          error: streamFault.error ?? {
            message: streamFault.message ?? 'The server had an error while processing your request.',
            type: 'server_error',
            param: null,
            code: null,
          },
        }),
      );
      res.end();
      return;
    }
    await writeSse(res, data);
  }
  await writeSse(res, '[DONE]');
  res.end();
}

interface CompletionBody {
  model?: string;
  prompt?: string | string[];
  n?: number;
  echo?: boolean;
  logprobs?: number | null;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
}

// the text and usage of OpenAI's documented completions example
const COMPLETION_TOKENS = ['\n\n', 'This', ' is', ' indeed', ' a', ' test'];
const COMPLETION_USAGE = { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 };

/** Log probabilities in OpenAI's legacy shape for `tokens` starting at character `offset`. */
function completionLogprobs(tokens: readonly string[], top: number, offset: number): Record<string, unknown> {
  const offsets: number[] = [];
  let at = offset;
  for (const token of tokens) {
    offsets.push(at);
    at += token.length;
  }
  return {
    tokens,
    token_logprobs: tokens.map((_, i) => -Number((0.01 * (i + 1)).toFixed(4))),
    top_logprobs: tokens.map((token, i) => {
      const alternatives = Array.from({ length: Math.max(0, top - 1) }, (_, k): [string, number] => [
        `alt${k}`,
        -(k + 2),
      ]);
      return Object.fromEntries<number>([[token, -Number((0.01 * (i + 1)).toFixed(4))], ...alternatives]);
    }),
    text_offset: offsets,
  };
}

/**
 * `POST /v1/completions` (legacy), shaped like OpenAI's documented example: `n` choices,
 * `echo` puts the prompt in front, `logprobs` adds the legacy log-probability object, a
 * stream sends `text_completion` chunks and, when asked, a final usage chunk.
 * @see https://platform.openai.com/docs/api-reference/completions/create
 */
async function completions({ res, body, streamFault }: MockExchange): Promise<void> {
  const request = (body ?? {}) as CompletionBody;
  const model = request.model ?? 'gpt-3.5-turbo-instruct';
  const prompt = Array.isArray(request.prompt) ? (request.prompt[0] ?? '') : (request.prompt ?? '');
  const id = `cmpl-mock${++counter}`;
  const created = 1589478378;
  const n = request.n ?? 1;
  const tokens = request.echo === true ? [prompt, ...COMPLETION_TOKENS] : COMPLETION_TOKENS;
  const logprobs = (from: number, slice: readonly string[]) =>
    request.logprobs === undefined || request.logprobs === null
      ? null
      : completionLogprobs(slice, request.logprobs, from);
  const usage = {
    ...COMPLETION_USAGE,
    completion_tokens: COMPLETION_USAGE.completion_tokens * n,
    total_tokens: COMPLETION_USAGE.prompt_tokens + COMPLETION_USAGE.completion_tokens * n,
  };
  if (request.stream !== true) {
    const choices = Array.from({ length: n }, (_, index) => ({
      text: tokens.join(''),
      index,
      logprobs: logprobs(0, tokens),
      finish_reason: 'length',
    }));
    sendJson(res, 200, {
      id,
      object: 'text_completion',
      created,
      model,
      system_fingerprint: 'fp_44709d6fcb',
      choices,
      usage,
    });
    return;
  }
  startSse(res);
  const base = { id, object: 'text_completion', created, model, system_fingerprint: 'fp_44709d6fcb' };
  const events: string[] = [];
  let offset = 0;
  for (const token of tokens) {
    events.push(
      JSON.stringify({
        ...base,
        choices: Array.from({ length: n }, (_, index) => ({
          text: token,
          index,
          logprobs: logprobs(offset, [token]),
          finish_reason: null,
        })),
      }),
    );
    offset += token.length;
  }
  events.push(
    JSON.stringify({
      ...base,
      choices: Array.from({ length: n }, (_, index) => ({
        text: '',
        index,
        logprobs: null,
        finish_reason: 'length',
      })),
    }),
  );
  if (request.stream_options?.include_usage === true)
    events.push(JSON.stringify({ ...base, choices: [], usage }));
  await replayEvents(res, events, streamFault);
}

function embeddings({ res, body }: MockExchange): void {
  const request = (body ?? {}) as {
    model?: string;
    input?: unknown;
    dimensions?: number;
    encoding_format?: string;
  };
  const inputs = Array.isArray(request.input) ? request.input : [request.input];
  const dims = request.dimensions ?? 8;
  const data = inputs.map((_, index) => {
    const vector = Array.from({ length: dims }, (_v, i) =>
      Number((((index + 1) * (i + 1)) / 100).toFixed(6)),
    );
    return {
      object: 'embedding',
      index,
      embedding:
        request.encoding_format === 'base64'
          ? Buffer.from(new Float32Array(vector).buffer).toString('base64')
          : vector,
    };
  });
  sendJson(res, 200, {
    object: 'list',
    data,
    model: request.model ?? 'text-embedding-3-small',
    usage: { prompt_tokens: 8 * inputs.length, total_tokens: 8 * inputs.length },
  });
}

/** OpenAI's chat, legacy completions, embeddings and models endpoints (under any base path). */
export const openAIRoutes: MockRoute[] = [
  { method: 'POST', path: /\/chat\/completions$/, handle: chat },
  { method: 'POST', path: /(?<!\/chat)\/completions$/, handle: completions },
  { method: 'POST', path: /\/embeddings$/, handle: embeddings },
  {
    method: 'GET',
    path: /\/models$/,
    handle: ({ res }) =>
      sendJson(res, 200, {
        object: 'list',
        data: [
          { id: 'gpt-4o-mini', object: 'model', created: 1721172741, owned_by: 'system' },
          { id: 'text-embedding-3-small', object: 'model', created: 1705948997, owned_by: 'system' },
          { id: 'gpt-3.5-turbo-instruct', object: 'model', created: 1692901427, owned_by: 'system' },
        ],
      }),
  },
];
