import { SwitchyardError } from '../errors/switchyard-error';
import type { ChatCompletionChunk } from '../wire/openai-chat';

/** A stream whose opening chunks were read up to the first real content. */
export interface PrimedStream {
  /** Chunks read while priming, to be delivered first. */
  readonly head: ChatCompletionChunk[];
  /** The rest of the upstream stream. */
  readonly iterator: AsyncIterator<ChatCompletionChunk>;
  /** True when the upstream ended during priming. */
  readonly ended: boolean;
  /** True when the chunks came from a verbatim adapter, so their source text may be written (see chunk-source-text.ts). */
  readonly verbatim?: boolean;
}

function hasSubstance(chunk: ChatCompletionChunk): boolean {
  if (chunk.usage) return true;
  return chunk.choices.some(
    (choice) =>
      (typeof choice.delta.content === 'string' && choice.delta.content.length > 0) ||
      (choice.delta.tool_calls?.length ?? 0) > 0 ||
      (typeof choice.delta.refusal === 'string' && choice.delta.refusal.length > 0) ||
      choice.finish_reason !== null,
  );
}

/**
 * Reads a stream until its first chunk with content, a tool call or a finish reason, so a
 * provider that answers 200 and then fails before any content counts as a failed attempt
 * (and can be retried or fall back) rather than a broken response.
 */
export async function primeStream(iterable: AsyncIterable<ChatCompletionChunk>, provider: string): Promise<PrimedStream> {
  const iterator = iterable[Symbol.asyncIterator]();
  const head: ChatCompletionChunk[] = [];
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) {
        if (head.length === 0) {
          throw new SwitchyardError('upstream_stream_error', `Provider "${provider}" sent an empty stream.`, { provider });
        }
        return { head, iterator, ended: true };
      }
      head.push(next.value);
      if (hasSubstance(next.value)) return { head, iterator, ended: false };
    }
  } catch (error) {
    await iterator.return?.();
    throw error;
  }
}

/** Whether a chunk carries content, for time-to-first-token. */
export function isContentChunk(chunk: ChatCompletionChunk): boolean {
  return chunk.choices.some((choice) => (choice.delta.content?.length ?? 0) > 0 || (choice.delta.tool_calls?.length ?? 0) > 0);
}
