import type { MockExchange, MockRoute } from '../mock-upstream';
import { sendJson, splitText } from '../sse';
import { writeChunks } from '../stream-chunks';
import { encodeBedrockEvent, encodeBedrockException } from './bedrock-event-stream';
import { verifyBedrockAuth } from './verify-sigv4';

// Shapes follow the Bedrock Runtime API reference: Converse (JSON) and ConverseStream (a
// binary event stream of messageStart, contentBlockStart/Delta/Stop, messageStop, metadata),
// errors named by `x-amzn-errortype` with a `{message}` body.
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html

interface ConverseBody {
  messages?: Array<{ role?: string; content?: Array<Record<string, unknown>> }>;
  toolConfig?: {
    tools?: Array<{ toolSpec?: { name?: string } }>;
    toolChoice?: { any?: unknown; tool?: { name?: string } };
  };
}

function bedrockError(res: MockExchange['res'], status: number, type: string, message: string): void {
  sendJson(
    res,
    status,
    { message },
    { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` },
  );
}

function forcedTool(body: ConverseBody): string | undefined {
  const choice = body.toolConfig?.toolChoice;
  if (choice?.tool?.name !== undefined) return choice.tool.name;
  return choice?.any === undefined ? undefined : body.toolConfig?.tools?.[0]?.toolSpec?.name;
}

/**
 * What Converse refuses in a conversation's text, with its messages: a message with no content
 * blocks, an empty text block, and text blocks of whitespace only. Undefined when none.
 */
function contentProblem(body: ConverseBody): string | undefined {
  for (const [index, message] of (body.messages ?? []).entries()) {
    const content = message.content ?? [];
    if (content.length === 0)
      return `The content field in the Message object at messages.${index} is empty. Add a ContentBlock object to the content field and try again.`;
    const texts = content.flatMap((block) => (typeof block['text'] === 'string' ? [block['text']] : []));
    if (texts.includes('')) return 'messages: text content blocks must be non-empty';
    if (texts.length > 0 && texts.every((text) => text.trim().length === 0))
      return 'messages: text content blocks must contain non-whitespace text';
  }
  return undefined;
}

/** Checks what Bedrock checks before answering: the parsed body, or undefined once the error was sent. */
async function accepted(exchange: MockExchange): Promise<ConverseBody | undefined> {
  const refusal = await verifyBedrockAuth(exchange.req, exchange.url, exchange.rawBody);
  if (refusal !== undefined) {
    bedrockError(exchange.res, refusal.status, refusal.type, refusal.message);
    return undefined;
  }
  const body = (exchange.body ?? {}) as ConverseBody;
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    bedrockError(
      exchange.res,
      400,
      'ValidationException',
      'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
    );
    return undefined;
  }
  const problem = contentProblem(body);
  if (problem !== undefined) {
    bedrockError(exchange.res, 400, 'ValidationException', problem);
    return undefined;
  }
  const toolBlocks = body.messages.some((message) =>
    (message.content ?? []).some((block) => 'toolUse' in block || 'toolResult' in block),
  );
  if (toolBlocks && body.toolConfig === undefined) {
    bedrockError(
      exchange.res,
      400,
      'ValidationException',
      'The toolConfig field must be defined when using toolUse and toolResult content blocks.',
    );
    return undefined;
  }
  return body;
}

/** The mock's OpenAI-shaped usage in Bedrock's terms: `inputTokens` excludes cache reads. */
function usageOf(options: MockExchange['options']): Record<string, number> {
  const usage = options.chatUsage as {
    prompt_tokens?: number;
    completion_tokens?: number;
    prompt_tokens_details?: { cached_tokens?: number };
  };
  const prompt = usage.prompt_tokens ?? 0;
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const output = usage.completion_tokens ?? 0;
  return {
    inputTokens: prompt - cached,
    outputTokens: output,
    totalTokens: prompt + output,
    ...(cached > 0 ? { cacheReadInputTokens: cached, cacheWriteInputTokens: 0 } : {}),
  };
}
const TOOL_USE_ID = 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q';
const INPUT = { location: 'Seattle, WA' };

async function converse(exchange: MockExchange): Promise<void> {
  const body = await accepted(exchange);
  if (body === undefined) return;
  const tool = forcedTool(body);
  const content =
    tool === undefined
      ? [{ text: exchange.options.replyText }]
      : [{ toolUse: { toolUseId: TOOL_USE_ID, name: tool, input: INPUT } }];
  sendJson(exchange.res, 200, {
    output: { message: { role: 'assistant', content } },
    stopReason: tool === undefined ? 'end_turn' : 'tool_use',
    usage: usageOf(exchange.options),
    metrics: { latencyMs: 412 },
  });
}

async function converseStream(exchange: MockExchange): Promise<void> {
  const body = await accepted(exchange);
  if (body === undefined) return;
  const tool = forcedTool(body);
  const chunks: Uint8Array[] = [encodeBedrockEvent('messageStart', { role: 'assistant' })];
  if (tool === undefined) {
    for (const text of splitText(exchange.options.replyText, exchange.options.streamChunks)) {
      chunks.push(encodeBedrockEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text } }));
    }
  } else {
    chunks.push(
      encodeBedrockEvent('contentBlockStart', {
        contentBlockIndex: 0,
        start: { toolUse: { toolUseId: TOOL_USE_ID, name: tool } },
      }),
    );
    for (const input of ['{"location":', ' "Seattle, WA"}'])
      chunks.push(
        encodeBedrockEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input } } }),
      );
  }
  chunks.push(
    encodeBedrockEvent('contentBlockStop', { contentBlockIndex: 0 }),
    encodeBedrockEvent('messageStop', { stopReason: tool === undefined ? 'end_turn' : 'tool_use' }),
    encodeBedrockEvent('metadata', { usage: usageOf(exchange.options), metrics: { latencyMs: 412 } }),
  );
  await writeChunks(exchange.res, {
    contentType: 'application/vnd.amazon.eventstream',
    chunks,
    streamFault: exchange.streamFault,
    errorChunk: (message) =>
      encodeBedrockException('modelStreamErrorException', { message, originalStatusCode: 500 }),
  });
}

/** Bedrock Runtime's Converse and ConverseStream (SigV4 or API-key auth verified, under any base path). */
export const bedrockRoutes: MockRoute[] = [
  { method: 'POST', path: /\/model\/[^/]+\/converse$/, handle: converse },
  { method: 'POST', path: /\/model\/[^/]+\/converse-stream$/, handle: converseStream },
];
