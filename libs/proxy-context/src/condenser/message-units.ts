import type { ChatMessage } from '@switchyard/proxy-core';

/**
 * Messages that are kept or removed together: a single message, or an assistant message
 * with tool calls followed by the tool results answering them, or with a legacy
 * `function_call` followed by the `function` message answering it (never split: a provider
 * refuses a tool result without its call, and a call without its result).
 */
export interface MessageUnit {
  /** Index of the unit's first message in the original list. */
  start: number;
  messages: ChatMessage[];
  tokens: number;
  /**
   * System/developer instructions, at the head of the conversation or between its turns (a mode
   * switch, a reminder): kept by every strategy, in place, never summarised.
   */
  system: boolean;
}

/** Groups messages into units, in order; `counts[i]` is message i's tokens. */
export function toUnits(messages: readonly ChatMessage[], counts: readonly number[]): MessageUnit[] {
  const units: MessageUnit[] = [];
  let i = 0;
  while (i < messages.length) {
    const message = messages[i]!;
    const group: ChatMessage[] = [message];
    if (message.role === 'assistant') {
      const ids = new Set((message.tool_calls ?? []).map((call) => call.id));
      // OpenAI's deprecated function calling: one call, answered by a `function` message of its name
      let legacy = message.function_call?.name;
      while (i + group.length < messages.length) {
        const next = messages[i + group.length]!;
        if (next.role === 'tool' && ids.has(next.tool_call_id)) {
          group.push(next);
        } else if (next.role === 'function' && legacy !== undefined && next.name === legacy) {
          group.push(next);
          legacy = undefined;
        } else {
          break;
        }
      }
    }
    units.push({
      start: i,
      messages: group,
      tokens: counts.slice(i, i + group.length).reduce((sum, n) => sum + n, 0),
      system: message.role === 'system' || message.role === 'developer',
    });
    i += group.length;
  }
  return units;
}

/**
 * Whether every tool result in a message list follows the assistant call it answers, and every
 * legacy `function` result the assistant `function_call` it answers.
 */
export function toolPairsIntact(messages: readonly ChatMessage[]): boolean {
  const open = new Set<string>();
  let legacy: string | undefined;
  for (const message of messages) {
    if (message.role === 'assistant') {
      open.clear();
      for (const call of message.tool_calls ?? []) open.add(call.id);
      legacy = message.function_call?.name;
    } else if (message.role === 'tool') {
      if (!open.has(message.tool_call_id)) return false;
    } else if (message.role === 'function') {
      if (legacy !== message.name) return false;
      legacy = undefined;
    } else {
      open.clear();
      legacy = undefined;
    }
  }
  return true;
}
