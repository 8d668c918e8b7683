import { SwitchyardError } from '../errors/switchyard-error';
import type { ChatCompletionChunk } from '../wire/openai-chat';
import { claimChunkReads, readsOfOne, type ChunkReads } from './chunk-reads';

/** A stream whose opening chunks were read up to the first real content. */
export interface PrimedStream {
  /** Chunks read while priming (to the end of the read with the first real content), to be delivered first. */
  readonly head: ChatCompletionChunk[];
  /** The rest of the upstream stream, a read at a time. */
  readonly reads: ChunkReads<ChatCompletionChunk>;
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
export async function primeStream(stream: AsyncIterable<ChatCompletionChunk>, provider: string): Promise<PrimedStream> {
  const reads = claimChunkReads(stream) ?? readsOfOne(stream);
  const head: ChatCompletionChunk[] = [];
  try {
    for (;;) {
      const next = await reads.next();
      if (next.done === true) {
        if (head.length === 0) {
          throw new SwitchyardError('upstream_stream_error', `Provider "${provider}" sent an empty stream.`, { provider });
        }
        return { head, reads, ended: true };
      }
      let substance = false;
      for (const chunk of next.value) {
        head.push(chunk);
        substance ||= hasSubstance(chunk);
      }
      if (substance) return { head, reads, ended: false };
    }
  } catch (error) {
    await reads.return?.();
    throw error;
  }
}

/** Whether a chunk carries content, for time-to-first-token. */
export function isContentChunk(chunk: ChatCompletionChunk): boolean {
  return chunk.choices.some((choice) => (choice.delta.content?.length ?? 0) > 0 || (choice.delta.tool_calls?.length ?? 0) > 0);
}
