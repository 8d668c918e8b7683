import type { MockExchange, MockRoute } from '../mock-upstream';
import { sendJson, splitText, startSse } from '../sse';
import { replaySse, type SseFrame } from '../sse-replay';

// Shapes follow Anthropic's documented Messages API examples (responses, the streaming
// event sequence, error bodies): https://docs.anthropic.com/en/api/messages and
// https://docs.anthropic.com/en/docs/build-with-claude/streaming

type MessageContent = string | Array<{ type?: string; text?: unknown }>;

interface MessagesBody {
  model?: string;
  stream?: boolean;
  system?: MessageContent;
  messages?: Array<{ role?: string; content?: MessageContent }>;
  tools?: Array<{ name: string }>;
  tool_choice?: { type: string; name?: string };
  stop_sequences?: unknown;
}

let counter = 0;

function anthropicError(res: MockExchange['res'], status: number, type: string, message: string): void {
  sendJson(res, status, { type: 'error', error: { type, message } });
}

function blankText(where: string, content: MessageContent | undefined): string | undefined {
  const texts =
    typeof content === 'string'
      ? [content]
      : (content ?? [])
          .filter((block) => block.type === 'text')
          .map((block) => (typeof block.text === 'string' ? block.text : ''));
  if (typeof content !== 'string' && texts.includes(''))
    return `${where}: text content blocks must be non-empty`;
  // a whitespace-only block passes next to text that says something
  if (texts.some((text) => text.length > 0) && texts.every((text) => text.trim().length === 0))
    return `${where}: text content blocks must contain non-whitespace text`;
  return undefined;
}

/**
 * What Anthropic refuses in a request's text, with its messages: an empty text block, text
 * blocks of whitespace only (in a message or the system prompt), a message with no content but a
 * final assistant one, and tool call or result blocks in a request that defines no tools.
 * Undefined when the request passes.
 */
function contentProblem(body: MessagesBody): string | undefined {
  // Anthropic's refusal of a stop sequence of whitespace only (OpenAI takes `"\n"`)
  if (
    Array.isArray(body.stop_sequences) &&
    body.stop_sequences.some((stop) => typeof stop === 'string' && stop.trim().length === 0)
  )
    return 'stop_sequences: each stop sequence must contain non-whitespace';
  const messages = body.messages ?? [];
  for (const [index, message] of messages.entries()) {
    const empty = message.content === undefined || message.content.length === 0;
    if (empty && !(message.role === 'assistant' && index === messages.length - 1)) {
      return `messages.${index}: all messages must have non-empty content except for the optional final assistant message`;
    }
    const blank = blankText('messages', message.content);
    if (blank !== undefined) return blank;
  }
  const toolBlocks = messages.some(
    (message) =>
      typeof message.content !== 'string' &&
      (message.content ?? []).some((block) => block.type === 'tool_use' || block.type === 'tool_result'),
  );
  if (toolBlocks && (body.tools ?? []).length === 0)
    return 'Requests which include `tool_use` or `tool_result` blocks must define tools.';
  return body.system === undefined || body.system === '' ? undefined : blankText('system', body.system);
}

function forcedTool(body: MessagesBody): string | undefined {
  if (body.tool_choice?.type === 'tool') return body.tool_choice.name;
  return body.tool_choice?.type === 'any' ? body.tools?.[0]?.name : undefined;
}

const frame = (data: Record<string, unknown>): SseFrame => ({
  event: data['type'] as string,
  data: JSON.stringify(data),
});

async function messages(exchange: MockExchange): Promise<void> {
  const { req, res, body } = exchange;
  if (typeof req.headers['x-api-key'] !== 'string') {
    anthropicError(res, 401, 'authentication_error', 'x-api-key header is required');
    return;
  }
  if (typeof req.headers['anthropic-version'] !== 'string') {
    anthropicError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    return;
  }
  await answerMessages(exchange, {
    model: (body as MessagesBody | undefined)?.model ?? 'claude-sonnet-4-20250514',
    idPrefix: 'msg_mock',
  });
}

/** How a host serving the Messages shapes answers: the model it names and its message ids. */
export interface MessagesAnswer {
  /** The `model` of the answer. */
  model: string;
  /** The start of each message id (`msg_mock`, Vertex AI's `msg_vrtx_`). */
  idPrefix: string;
  /** Whether to stream the answer. @default the request's `stream` */
  stream?: boolean;
}

/**
 * Answers a Messages request in Anthropic's wire format, after the host's own checks (its
 * headers, its auth): Anthropic's API and the hosts that serve its shapes (Claude on Vertex AI).
 */
export async function answerMessages(
  { res, body, streamFault, options }: MockExchange,
  answer: MessagesAnswer,
): Promise<void> {
  const request = (body ?? {}) as MessagesBody;
  if (typeof (body as { max_tokens?: unknown } | undefined)?.max_tokens !== 'number') {
    anthropicError(res, 400, 'invalid_request_error', 'max_tokens: Field required');
    return;
  }
  const problem = contentProblem(request);
  if (problem !== undefined) {
    anthropicError(res, 400, 'invalid_request_error', problem);
    return;
  }
  const model = answer.model;
  const id = `${answer.idPrefix}${String(++counter).padStart(4, '0')}`;
  const tool = forcedTool(request);
  const input = { location: 'San Francisco, CA' };
  const usage = {
    input_tokens: 25,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: 15,
  };
  if ((answer.stream ?? request.stream) !== true) {
    const content =
      tool === undefined
        ? [{ type: 'text', text: options.replyText }]
        : [{ type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: tool, input }];
    sendJson(res, 200, {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: tool === undefined ? 'end_turn' : 'tool_use',
      stop_sequence: null,
      usage,
    });
    return;
  }
  startSse(res);
  const frames: SseFrame[] = [
    frame({
      type: 'message_start',
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 1 },
      },
    }),
  ];
  if (tool === undefined) {
    frames.push(
      frame({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      frame({ type: 'ping' }),
    );
    for (const text of splitText(options.replyText, options.streamChunks))
      frames.push(frame({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }));
  } else {
    frames.push(
      frame({
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: tool, input: {} },
      }),
      frame({ type: 'ping' }),
    );
    for (const partial_json of ['', '{"location":', ' "San Francisco, CA"}'])
      frames.push(
        frame({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json } }),
      );
  }
  frames.push(
    frame({ type: 'content_block_stop', index: 0 }),
    frame({
      type: 'message_delta',
      delta: { stop_reason: tool === undefined ? 'end_turn' : 'tool_use', stop_sequence: null },
      usage: { output_tokens: usage.output_tokens },
    }),
    frame({ type: 'message_stop' }),
  );
  const complete = await replaySse(res, frames, streamFault, (message) =>
    frame({ type: 'error', error: { type: 'api_error', message: message ?? 'Internal server error' } }),
  );
  if (complete) res.end();
}

/** Anthropic's Messages endpoint (under any base path), streaming and not, with tools. */
export const anthropicRoutes: MockRoute[] = [{ method: 'POST', path: /\/messages$/, handle: messages }];
