import type { ChatToolCall } from '@switchyard/proxy-core';

/**
 * The name and input text of an assistant's tool call, either form: a function's JSON
 * `arguments`, a custom tool's free-form `input` (GPT-5), both in the prompt as text.
 */
export function toolCallParts(call: ChatToolCall): { name: string; input: string } {
  return call.type === 'custom'
    ? { name: call.custom.name, input: call.custom.input }
    : { name: call.function.name, input: call.function.arguments };
}
