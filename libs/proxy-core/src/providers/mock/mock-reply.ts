import type { ChatCompletionRequest, ChatMessage, ChatToolCall, ChatUsage } from '../../wire/openai-chat';

/** What the mock provider answers for one request. */
export interface MockReply {
  content: string | null;
  toolCalls: ChatToolCall[];
  finishReason: 'stop' | 'tool_calls' | 'length';
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

/**
 * The mock provider's deterministic answer: it repeats the last user turn, or calls the
 * requested tool with empty arguments when a tool call is required. Same input, same output.
 * Every choice of `n` gets this answer; `usage` counts them all.
 */
export function mockReply(request: ChatCompletionRequest, model: string): MockReply {
  const prompt = request.messages.map(textOf).join('\n');
  const promptTokens = estimateTokens(prompt) + request.messages.length * 3;
  const choices = choiceIndexes(request).length;
  const choice = request.tool_choice;
  const tools = request.tools ?? [];
  const forced =
    typeof choice === 'object'
      ? choice.function.name
      : choice === 'required'
        ? tools[0]?.function.name
        : undefined;
  if (forced !== undefined) {
    const toolCalls: ChatToolCall[] = [
      { id: 'call_mock_0', type: 'function', function: { name: forced, arguments: '{}' } },
    ];
    const completion = (estimateTokens(forced) + 2) * choices;
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
