import type { ChatMessage, ChatToolCall } from '@switchyard/proxy-core';

/**
 * The name and input text of an assistant's tool call, either form: a function's JSON
 * `arguments`, a custom tool's free-form `input` (GPT-5), both in the prompt as text.
 */
export function toolCallParts(call: ChatToolCall): { name: string; input: string } {
  return call.type === 'custom'
    ? { name: call.custom.name, input: call.custom.input }
    : { name: call.function.name, input: call.function.arguments };
}

/**
 * The calls an assistant message makes, as name and input text: its tool calls, and a legacy
 * `function_call` (OpenAI's deprecated function calling, which the gateway still forwards) read
 * like one. Counting and summarising both go through it, so they see the same calls.
 */
export function callsOf(message: ChatMessage): Array<{ name: string; input: string }> {
  if (message.role !== 'assistant') return [];
  const calls = (message.tool_calls ?? []).map((call) => toolCallParts(call));
  const legacy = message.function_call;
  if (legacy !== undefined && legacy !== null) calls.push({ name: legacy.name, input: legacy.arguments });
  return calls;
}
