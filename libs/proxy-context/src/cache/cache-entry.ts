import type { ChatCompletion, ChatCompletionChunk, ChatUsage } from '@switchyard/proxy-core';

/**
 * One cached answer: a whole response, or the chunks of a complete stream. `usage` is read,
 * not written: entries stored before streams were recorded with their usage chunk carry it.
 * `model` is the upstream model that produced the answer (`RequestContext.upstreamModel`),
 * which a hit reports as its own; `cost` what that answer cost in USD (`RequestContext.costUsd`),
 * which a hit reports as saved. Entries stored before either was kept, or whose cost was not
 * known, have none; {@link parseCacheEntry} drops a `cost` that is not a finite, non-negative
 * number.
 */
export type CacheEntry =
  | {
      kind: 'response';
      response: ChatCompletion;
      model?: string;
      cost?: number;
      /** Epoch ms on the writer's clock; a Redis hit goes by the key's TTL instead. */ expiresAt: number;
    }
  | {
      kind: 'stream';
      chunks: ChatCompletionChunk[];
      usage?: ChatUsage;
      model?: string;
      cost?: number;
      /** Epoch ms on the writer's clock; a Redis hit goes by the key's TTL instead. */ expiresAt: number;
    };

/** What a stored entry says of the answer besides the answer itself. */
export interface CacheEntryOrigin {
  /** The upstream model that produced the answer. */
  model?: string;
  /** What the answer cost in USD; left out unless a finite, non-negative number. */
  cost?: number | null;
}

// Entries are written from the answers' JSON texts (the upstream's own, when the engine kept
// them), so storing an answer serialises nothing again; they parse to the same CacheEntry.

/** The `model` and `cost` members of a serialised entry: empty for what is not known. */
function originMembers({ model, cost }: CacheEntryOrigin): string {
  const modelText = model === undefined ? '' : `,"model":${JSON.stringify(model)}`;
  return isCost(cost) ? `${modelText},"cost":${JSON.stringify(cost)}` : modelText;
}

function isCost(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** The serialised entry of a whole response, from the response's JSON text and where it came from. */
export function responseEntryBody(
  responseText: string,
  expiresAt: number,
  origin: CacheEntryOrigin = {},
): string {
  return `{"kind":"response","response":${responseText},"expiresAt":${JSON.stringify(expiresAt)}${originMembers(origin)}}`;
}

/** The serialised entry of a stream, from its chunks' JSON texts and where it came from. */
export function streamEntryBody(
  chunkTexts: readonly string[],
  expiresAt: number,
  origin: CacheEntryOrigin = {},
): string {
  return `{"kind":"stream","chunks":[${chunkTexts.join(',')}],"expiresAt":${JSON.stringify(expiresAt)}${originMembers(origin)}}`;
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
    if (!isCacheEntry(value)) return undefined;
    // a cost that is not one is dropped, so the entry's type holds (the entry is still served)
    if (value.cost !== undefined && !isCost(value.cost)) delete value.cost;
    return value;
  } catch {
    return undefined;
  }
}
