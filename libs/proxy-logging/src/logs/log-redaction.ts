import { pino, type LoggerOptions as PinoOptions, type SerializerFn } from 'pino';
import { LOG_REDACT_CENSOR, SECRET_FIELDS, SECRET_HEADERS } from './log-redact-paths';

// Why not pino's `redact` paths: a path starting with `*` runs for every property of every line,
// and @pinojs/redact re-walks the object once per path. With the ~60 paths a secret needs at the
// depths our objects reach, that was about 300 µs per line, more than the whole rest of a
// proxied request. One walk that knows the secret names costs about a microsecond per line.

/** Field names (lower-cased) whose values are secrets wherever they appear. */
const SECRET_NAMES: ReadonlySet<string> = new Set([...SECRET_HEADERS, ...SECRET_FIELDS].map((name) => name.toLowerCase()));
/** Containers whose every entry holds a secret in one field: `keys[].key`, `providerKeys.<name>.value`. */
const ENTRY_SECRETS: ReadonlyMap<string, string> = new Map([
  ['keys', 'key'],
  ['providerkeys', 'value'],
]);
/** Secret fields given as a child logger's bindings (`logger.child({ apiKey })`), by pino path. */
const CHILD_BINDING_PATHS: readonly string[] = [
  ...SECRET_HEADERS.flatMap((name) => [`["${name}"]`, `headers["${name}"]`]),
  ...SECRET_FIELDS,
  'keys[*].key',
  'providerKeys.*.value',
];
/** Deeper than any object the gateway logs (`{ err: { request: { headers } } }` is 3); bounds cycles. */
const MAX_DEPTH = 8;

/** The prototype of what pino's error serializer makes (a plain record otherwise). */
const SERIALIZED_ERROR: unknown = Object.getPrototypeOf(pino.stdSerializers.err(new Error('prototype probe')));

function walkable(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value) || value instanceof Error) return true;
  const proto: unknown = Object.getPrototypeOf(value);
  // class instances (sockets, buffers, dates, URLs) are not walked: JSON gives their `toJSON` or nothing of ours
  return proto === Object.prototype || proto === null || proto === SERIALIZED_ERROR;
}

/**
 * A copy of `value` with every secret replaced by `[redacted]`, or `value` itself when it holds
 * none (copy on write: nothing is allocated for a clean line). Errors with a secret become plain
 * objects of their enumerable fields, which is what JSON would have written of them.
 * `field`: one more secret field of this object; `entryField`: this is a container, and each
 * entry's `entryField` is secret. `skip`: a key left as it is (the line's `err`, serialized later).
 */
function censor(value: unknown, depth: number, field?: string, entryField?: string, skip?: string): unknown {
  if (depth > MAX_DEPTH || !walkable(value)) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const clean = censor(item, depth + 1, entryField);
      if (clean !== item) {
        copy ??= value.slice();
        copy[i] = clean;
      }
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    if (key === skip || !Object.prototype.hasOwnProperty.call(value, key)) continue;
    const item = value[key];
    if (item === undefined || item === null) continue;
    const name = key.toLowerCase();
    const clean = SECRET_NAMES.has(name) || name === field ? LOG_REDACT_CENSOR : censor(item, depth + 1, entryField, ENTRY_SECRETS.get(name));
    if (clean !== item) {
      copy ??= Object.assign({}, value);
      copy[key] = clean;
    }
  }
  return copy ?? value;
}

/** `value` with client keys, provider keys and credentials replaced by `[redacted]` at any depth up to 8 (never modified in place). */
export function censorSecrets<T>(value: T): T {
  return censor(value, 0) as T;
}

/** A log line's fields: `err` is left to the error serializer, which censors after serializing. */
function censorLine<T extends object>(object: T): T {
  return censor(object, 0, undefined, undefined, 'err') as T;
}

const serializeError: SerializerFn = (error: Error) => censorSecrets(pino.stdSerializers.err(error));

/**
 * pino options that redact what {@link LOG_REDACT_PATHS} names (client-key and provider-key
 * headers, provider credentials, static client keys, the universal proxy's provider keys) by
 * name at any depth, in one walk per line: spread them into your own pino options
 * (`pino({ ...logRedaction(), level })`). Formatters or an `err` serializer of your own given
 * as `own` run first, then the redaction.
 */
export function logRedaction(own: Pick<PinoOptions, 'formatters' | 'serializers'> = {}): Required<Pick<PinoOptions, 'formatters' | 'serializers' | 'redact'>> {
  const ownLog = own.formatters?.log;
  const ownBindings = own.formatters?.bindings;
  const ownError = own.serializers?.['err'];
  return {
    formatters: {
      ...own.formatters,
      log: ownLog === undefined ? censorLine : (object) => censorLine(ownLog(object)),
      bindings: ownBindings === undefined ? censorLine : (bindings) => censorLine(ownBindings(bindings)),
    },
    serializers: { ...own.serializers, err: ownError === undefined ? serializeError : (error: unknown): unknown => censorSecrets(ownError(error)) },
    // pino formats a child logger's bindings without `formatters.bindings`; its redact paths do
    // reach them, and paths without a wildcard cost nothing on a line that lacks their first key
    redact: { paths: [...CHILD_BINDING_PATHS], censor: LOG_REDACT_CENSOR },
  };
}
