import { SwitchyardError } from '../errors/switchyard-error';
import type { AttemptTimer } from '../resilience/attempt-timer';
import type { ChatCompletionChunk, ChatDelta } from '../wire/openai-chat';
import { abandonReads, AbortRace } from './abort-race';
import { cancellerOf } from './cancelled-reads';
import { deltaOf } from './chunk-delta';
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

const hasText = (text: string | null | undefined): boolean => typeof text === 'string' && text.length > 0;

// reasoning counts: an OpenAI-compatible host (DeepSeek, vLLM) may stream it for minutes before
// the answer, and the client should see it as it comes rather than priming hold it all
const hasReasoning = (delta: ChatDelta): boolean =>
  hasText(delta.reasoning_content) || hasText(delta.reasoning);

function hasSubstance(chunk: ChatCompletionChunk): boolean {
  if (chunk.usage) return true;
  return chunk.choices.some((choice) => {
    const delta = deltaOf(choice);
    return (
      hasText(delta.content) ||
      (delta.tool_calls?.length ?? 0) > 0 ||
      hasText(delta.refusal) ||
      hasReasoning(delta) ||
      choice.finish_reason !== null
    );
  });
}

/**
 * Reads a stream until its first chunk with content, reasoning, a tool call or a finish
 * reason, so a provider that answers 200 and then fails before any content counts as a failed
 * attempt (and can be retried or fall back) rather than a broken response. With the attempt's
 * `timer`, each read counts as upstream activity (see AttemptTimer), and a timeout or an abort
 * ends a pending read even when the adapter's iterable ignores the signal.
 */
export async function primeStream(
  stream: AsyncIterable<ChatCompletionChunk>,
  provider: string,
  timer?: AttemptTimer,
): Promise<PrimedStream> {
  const reads = claimChunkReads(stream) ?? readsOfOne(stream);
  // as in guardStream: only reads that may ignore the abort are raced against it
  const race = timer === undefined || cancellerOf(reads) === timer ? undefined : new AbortRace(timer);
  const head: ChatCompletionChunk[] = [];
  try {
    for (;;) {
      if (timer?.aborted === true) throw timer.reason;
      const next = await (race === undefined ? reads.next() : race.race(reads.next()));
      timer?.heard();
      if (next.done === true) {
        if (head.length === 0) {
          throw new SwitchyardError('upstream_stream_error', `Provider "${provider}" sent an empty stream.`, {
            provider,
          });
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
    // a read that ignored the abort may never settle, nor then the reads' return()
    if (timer?.aborted === true) abandonReads(reads);
    else await reads.return?.();
    throw error;
  } finally {
    race?.dispose();
  }
}

/**
 * Whether a chunk carries content, for time-to-first-token: the answer's first token. Reasoning
 * does not count, as for providers whose reasoning never reaches the client (Anthropic's
 * thinking), so the figure means the same for every provider.
 */
export function isContentChunk(chunk: ChatCompletionChunk): boolean {
  return chunk.choices.some((choice) => {
    const delta = deltaOf(choice);
    return (delta.content?.length ?? 0) > 0 || (delta.tool_calls?.length ?? 0) > 0;
  });
}
