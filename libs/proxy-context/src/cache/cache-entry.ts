import type { ChatCompletion, ChatCompletionChunk, ChatUsage } from '@switchyard/proxy-core';

/** One cached answer: a whole response, or the chunks of a complete stream. */
export type CacheEntry =
  | { kind: 'response'; response: ChatCompletion; /** Epoch ms. */ expiresAt: number }
  | { kind: 'stream'; chunks: ChatCompletionChunk[]; usage?: ChatUsage; /** Epoch ms. */ expiresAt: number };

/** Whether a parsed value has the shape of a {@link CacheEntry} (a stored value is untrusted input). */
export function isCacheEntry(value: unknown): value is CacheEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  if (typeof entry['expiresAt'] !== 'number') return false;
  if (entry['kind'] === 'response') return typeof entry['response'] === 'object' && entry['response'] !== null;
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
