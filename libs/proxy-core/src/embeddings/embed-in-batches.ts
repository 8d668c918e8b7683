import { SwitchyardError } from '../errors/switchyard-error';

/** Consecutive slices of `items` of at most `size` each, in order (none for no items). */
export function batchesOf<T>(items: readonly T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += size) batches.push(items.slice(start, start + size));
  return batches;
}

/** What one upstream embedding call answered: a vector per text of its batch, and the tokens it billed. */
export interface EmbeddedBatch {
  vectors: number[][];
  tokens: number;
}

/**
 * Embeds `texts` for a provider that takes at most `size` texts per call: one call per batch,
 * one at a time, the vectors joined in input order and the tokens summed. A batch answered with
 * another number of vectors than it sent texts is an `upstream_error`: every vector after it
 * would otherwise be handed to the wrong input.
 */
export async function embedInBatches(
  texts: readonly string[],
  size: number,
  provider: string,
  embed: (batch: string[]) => Promise<EmbeddedBatch>,
): Promise<EmbeddedBatch> {
  const vectors: number[][] = [];
  let tokens = 0;
  for (const batch of batchesOf(texts, size)) {
    const answer = await embed(batch);
    if (answer.vectors.length !== batch.length)
      throw new SwitchyardError(
        'upstream_error',
        `Provider "${provider}" sent ${answer.vectors.length} embeddings for ${batch.length} inputs.`,
        { provider },
      );
    vectors.push(...answer.vectors);
    tokens += answer.tokens;
  }
  return { vectors, tokens };
}
