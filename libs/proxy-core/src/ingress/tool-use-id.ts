import { randomUUID } from 'node:crypto';

/** A tool call id as a provider sent it; none for an empty one (LM Studio sends `""`). */
export function toolCallIdOf(id: string | null | undefined): string | undefined {
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

/**
 * A made-up tool call id in Anthropic's form, for a call its provider gave none (llama.cpp's
 * server, LM Studio): the client's `tool_result` must name the call it answers.
 */
export function madeUpToolUseId(): string {
  return `toolu_${randomUUID().replaceAll('-', '')}`;
}
