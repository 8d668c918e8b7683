import type {
  ChatCompletionRequest,
  ChatMessage,
  ChatTool,
  ChatToolCall,
  ChatToolReference,
  ChatUsage,
} from '../../wire/openai-chat';

/** What the mock provider answers for one request. */
export interface MockReply {
  content: string | null;
  toolCalls: ChatToolCall[];
  /** A legacy function call (OpenAI's deprecated function calling), answered instead of tool calls. */
  functionCall?: { name: string; arguments: string };
  finishReason: 'stop' | 'tool_calls' | 'function_call' | 'length';
  usage: ChatUsage;
}

function textOf(message: ChatMessage): string {
  const content = message.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (part.type === 'text' ? part.text : '[image]')).join(' ');
}

/** A rough token estimate (4 characters a token), the same for prompt and reply. */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

/**
 * The indexes of the choices a request asks for (`n`, 1 when absent or not a number of at least
 * 1): the mock answers every one, as OpenAI does, so clients of several choices can be tested.
 */
export function choiceIndexes(request: Pick<ChatCompletionRequest, 'n'>): number[] {
  const n = request.n;
  const count = typeof n === 'number' && Number.isFinite(n) && n >= 1 ? Math.floor(n) : 1;
  return Array.from({ length: count }, (_, index) => index);
}

/** A tool the mock must call: a function or a custom tool, by name. */
interface ForcedTool {
  type: 'function' | 'custom';
  name: string;
}

function toolOf(tool: ChatTool | ChatToolReference | undefined): ForcedTool | undefined {
  if (tool === undefined) return undefined;
  return tool.type === 'custom'
    ? { type: 'custom', name: tool.custom.name }
    : { type: 'function', name: tool.function.name };
}

/**
 * The tool a request makes the model call, if any: the one `tool_choice` names, the first
 * `allowed_tools` names in `required` mode, the first of `tools` for `required`.
 */
function forcedTool(request: ChatCompletionRequest): ForcedTool | undefined {
  const choice = request.tool_choice;
  if (choice === 'required') return toolOf(request.tools?.[0]);
  if (typeof choice !== 'object') return undefined;
  if (choice.type !== 'allowed_tools') return toolOf(choice);
  return choice.allowed_tools.mode === 'required' ? toolOf(choice.allowed_tools.tools[0]) : undefined;
}

/**
 * The function a legacy `function_call` names (OpenAI's deprecated function calling), which the
 * model must call; `"none"`, `"auto"` or none leaves it to the model.
 */
function forcedFunction(request: ChatCompletionRequest): string | undefined {
  const call: unknown = request.function_call;
  if (typeof call !== 'object' || call === null) return undefined;
  const name = (call as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

/**
 * The mock provider's deterministic answer: it repeats the last user turn, or calls the
 * requested tool (function or custom) with empty input when a tool call is required, or, as
 * OpenAI answers legacy function calling, makes a `function_call` of the function a legacy
 * `function_call` names (finish reason `function_call`). Same input, same output.
 * Every choice of `n` gets this answer; `usage` counts them all.
 */
export function mockReply(request: ChatCompletionRequest, model: string): MockReply {
  const prompt = request.messages.map(textOf).join('\n');
  const promptTokens = estimateTokens(prompt) + request.messages.length * 3;
  const choices = choiceIndexes(request).length;
  const forced = forcedTool(request);
  const legacy = forced === undefined ? forcedFunction(request) : undefined;
  if (legacy !== undefined) {
    const completion = (estimateTokens(legacy) + 2) * choices;
    return {
      content: null,
      toolCalls: [],
      functionCall: { name: legacy, arguments: '{}' },
      finishReason: 'function_call',
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completion,
        total_tokens: promptTokens + completion,
      },
    };
  }
  if (forced !== undefined) {
    const toolCalls: ChatToolCall[] = [
      forced.type === 'custom'
        ? { id: 'call_mock_0', type: 'custom', custom: { name: forced.name, input: '' } }
        : { id: 'call_mock_0', type: 'function', function: { name: forced.name, arguments: '{}' } },
    ];
    const completion = (estimateTokens(forced.name) + 2) * choices;
    return {
      content: null,
      toolCalls,
      finishReason: 'tool_calls',
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completion,
        total_tokens: promptTokens + completion,
      },
    };
  }
  const lastUser = [...request.messages].reverse().find((message) => message.role === 'user');
  const said = lastUser === undefined ? '' : textOf(lastUser).replace(/\s+/g, ' ').trim().slice(0, 200);
  let content = `This is the mock provider (model ${model}). You said: ${said || '(nothing)'}`;
  let finishReason: MockReply['finishReason'] = 'stop';
  const limit = request.max_completion_tokens ?? request.max_tokens;
  if (typeof limit === 'number' && estimateTokens(content) > limit) {
    content = content.slice(0, Math.max(0, limit * 4));
    finishReason = 'length';
  }
  const completion = estimateTokens(content) * choices;
  return {
    content,
    toolCalls: [],
    finishReason,
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completion,
      total_tokens: promptTokens + completion,
    },
  };
}

/** Splits a reply into stream pieces at word boundaries, keeping every character. */
export function splitForStream(content: string): string[] {
  return content.match(/\S+\s*|\s+/g) ?? [];
}
