import type { ChatCompletion, ChatCompletionChunk, ChatUsage } from '@switchyard/proxy-core';

/**
 * One cached answer: a whole response, or the chunks of a complete stream. `usage` is read,
 * not written: entries stored before streams were recorded with their usage chunk carry it.
 * `model` is the upstream model that produced the answer (`RequestContext.upstreamModel`),
 * which a hit reports as its own; entries stored before it was kept have none.
 */
export type CacheEntry =
  | { kind: 'response'; response: ChatCompletion; model?: string; /** Epoch ms. */ expiresAt: number }
  | {
      kind: 'stream';
      chunks: ChatCompletionChunk[];
      usage?: ChatUsage;
      model?: string;
      /** Epoch ms. */ expiresAt: number;
    };

// Entries are written from the answers' JSON texts (the upstream's own, when the engine kept
// them), so storing an answer serialises nothing again; they parse to the same CacheEntry.

/** The `model` member of a serialised entry: empty when the model is not known. */
function modelMember(model: string | undefined): string {
  return model === undefined ? '' : `,"model":${JSON.stringify(model)}`;
}

/** The serialised entry of a whole response, from the response's JSON text and the model that produced it. */
export function responseEntryBody(responseText: string, expiresAt: number, model?: string): string {
  return `{"kind":"response","response":${responseText},"expiresAt":${JSON.stringify(expiresAt)}${modelMember(model)}}`;
}

/** The serialised entry of a stream, from its chunks' JSON texts and the model that produced it. */
export function streamEntryBody(chunkTexts: readonly string[], expiresAt: number, model?: string): string {
  return `{"kind":"stream","chunks":[${chunkTexts.join(',')}],"expiresAt":${JSON.stringify(expiresAt)}${modelMember(model)}}`;
}

/** Whether a parsed value has the shape of a {@link CacheEntry} (a stored value is untrusted input). */
export function isCacheEntry(value: unknown): value is CacheEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  if (typeof entry['expiresAt'] !== 'number') return false;
  if (entry['model'] !== undefined && typeof entry['model'] !== 'string') return false;
  if (entry['kind'] === 'response')
    return typeof entry['response'] === 'object' && entry['response'] !== null;
  return entry['kind'] === 'stream' && Array.isArray(entry['chunks']);
}

/** Parses a serialised entry, or undefined when it is not one. */
export function parseCacheEntry(body: string): CacheEntry | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return isCacheEntry(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
