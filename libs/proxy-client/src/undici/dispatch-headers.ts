import type { Dispatcher } from 'undici';

/**
 * The headers of a dispatch as `[lowercase name, value]` pairs, whatever form undici was
 * given (flat array, record, or iterable of pairs), `host` included: a call that keeps its
 * origin keeps it, one re-targeted to the gateway drops it.
 */
export function dispatchHeaderPairs(headers: Dispatcher.DispatchOptions['headers']): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const add = (name: unknown, value: unknown): void => {
    const key = headerText(name)?.toLowerCase();
    if (key === undefined) return;
    for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
      const text = headerText(item);
      if (text !== undefined) pairs.push([key, text]);
    }
  };
  if (headers === undefined || headers === null) return pairs;
  if (Array.isArray(headers)) {
    const flat = headers as unknown[];
    for (let i = 0; i + 1 < flat.length; i += 2) add(flat[i], flat[i + 1]);
  } else if (
    Symbol.iterator in headers &&
    typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function'
  ) {
    for (const entry of headers as Iterable<readonly [unknown, unknown]>) add(entry[0], entry[1]);
  } else {
    for (const [name, value] of Object.entries(headers as Record<string, unknown>)) add(name, value);
  }
  return pairs;
}

/** Header pairs as the record undici accepts; repeated names become arrays. */
export function headerRecord(
  pairs: ReadonlyArray<readonly [string, string]>,
): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  for (const [name, value] of pairs) {
    const existing = record[name];
    if (existing === undefined) record[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else record[name] = [existing, value];
  }
  return record;
}

// undici takes header names and values as strings, numbers or latin1 buffers
function headerText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('latin1');
  return undefined;
}
