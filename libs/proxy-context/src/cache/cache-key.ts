import { createHash } from 'node:crypto';
import type { ChatCompletionRequest } from '@switchyard/proxy-core';

/**
 * Request fields that do not change the answer: transport (`stream`, `stream_options`),
 * attribution (`user`, `metadata`, `safety_identifier`) and provider-side storage hints.
 * Every other field, known or not, is part of the key, so an unknown sampling knob never
 * makes two different requests collide.
 */
const IRRELEVANT_FIELDS: ReadonlySet<string> = new Set([
  'stream',
  'stream_options',
  'user',
  'metadata',
  'store',
  'service_tier',
  'prompt_cache_key',
  'safety_identifier',
]);

/**
 * Members that hold a JSON Schema (`tools[].function.parameters`, `response_format.json_schema.schema`,
 * the legacy `functions[].parameters`), where `null` is a value (`{"const": null}`,
 * `{"default": null}`), not an absent field: null members under a member of these names are kept,
 * at any depth, so two schemas differing only there never share a key (a member of such a name
 * elsewhere keeps its nulls too, which only separates keys).
 */
const SCHEMA_MEMBERS: ReadonlySet<string> = new Set(['parameters', 'schema']);

/**
 * JSON with object keys sorted and `undefined` members dropped, so equal requests serialise
 * equally; `null` members are dropped too (OpenAI reads a null field as an absent one), except
 * within a JSON Schema ({@link SCHEMA_MEMBERS}).
 */
export function canonicalJson(value: unknown, keepNulls = false): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((item: unknown) => (item === undefined ? 'null' : canonicalJson(item, keepNulls))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined || (member === null && !keepNulls)) continue;
    members.push(`${JSON.stringify(key)}:${canonicalJson(member, keepNulls || SCHEMA_MEMBERS.has(key))}`);
  }
  return `{${members.join(',')}}`;
}

/** The parts of a request that decide its answer. */
export function normaliseRequest(request: ChatCompletionRequest): Record<string, unknown> {
  const normalised: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(request)) {
    if (!IRRELEVANT_FIELDS.has(key)) normalised[key] = value;
  }
  // max_tokens and max_completion_tokens mean the same limit (a null one is an absent one)
  if (normalised['max_completion_tokens'] == null && normalised['max_tokens'] != null) {
    normalised['max_completion_tokens'] = normalised['max_tokens'];
    delete normalised['max_tokens'];
  }
  return normalised;
}

/**
 * The version of the key's serialisation, hashed in: it changes whenever a request that had one
 * key gets another, so that no entry stored under the old serialisation answers a request it
 * does not match. v2: null members inside JSON Schemas count (under v1 a schema holding
 * `{"const": null}` had the key of one holding `{}`).
 */
const KEY_VERSION = 'v2';

/**
 * The cache key of a request: a SHA-256 over the key version, the tenant scope, the answer mode
 * (whole response or stream) and the canonical normalised request. The scope is inside the hash,
 * so keys reveal no tenant id.
 */
export function cacheKey(request: ChatCompletionRequest, scope: string, mode: 'response' | 'stream'): string {
  return createHash('sha256')
    .update(`${KEY_VERSION}\n${scope}\n${mode}\n`)
    .update(canonicalJson(normaliseRequest(request)))
    .digest('hex');
}
