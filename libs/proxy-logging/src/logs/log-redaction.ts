import { pino } from 'pino';
import { SwitchyardError } from '@switchyard/proxy-core';
import { censorUrlField, isUrlField } from './censor-url-query';
import { LOG_REDACT_CENSOR, SECRET_FIELDS, SECRET_HEADERS } from './log-redact-paths';

// Why not pino's `redact` paths: a path starting with `*` runs for every property of every line,
// and @pinojs/redact re-walks the object once per path. With the ~60 paths a secret needs at the
// depths our objects reach, that was about 300 µs per line, more than the whole rest of a
// proxied request. One walk that knows the secret names costs about a microsecond per line.

/** Field names (lower-cased) whose values are secrets wherever they appear. */
const SECRET_NAMES: ReadonlySet<string> = new Set(
  [...SECRET_HEADERS, ...SECRET_FIELDS].map((name) => name.toLowerCase()),
);
/** Containers whose every entry holds a secret in one field: `keys[].key`, `providerKeys.<name>.value`. */
const ENTRY_SECRETS: ReadonlyMap<string, string> = new Map([
  ['keys', 'key'],
  ['providerkeys', 'value'],
]);
/** Deeper than any object the gateway logs (`{ err: { request: { headers } } }` is 3); bounds cycles. */
const MAX_DEPTH = 8;

/** Field names already lower-cased: a line's keys are the same few on every line (bounded for odd callers). */
const lowerNames = new Map<string, string>();
const MAX_LOWER_NAMES = 1024;

function lowerName(key: string): string {
  let name = lowerNames.get(key);
  if (name === undefined) {
    name = key.toLowerCase();
    if (lowerNames.size < MAX_LOWER_NAMES) lowerNames.set(key, name);
  }
  return name;
}

function walkable(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return false;
  // JSON writes every own enumerable field of any object (class instances and errors too)
  // unless it has `toJSON` (dates, buffers, URLs), which writes what it chooses
  return typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/**
 * A copy of `value` with every secret replaced by `[redacted]`, or `value` itself when it holds
 * none (copy on write: nothing is allocated for a clean line). Errors with a secret become plain
 * objects of their enumerable fields, which is what JSON would have written of them.
 * `field`: one more secret field of this object; `entryField`: this is a container, and each
 * entry's `entryField` is secret.
 */
function censor(value: unknown, depth: number, field?: string, entryField?: string): unknown {
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
  return censorFields(value, (name, item) =>
    SECRET_NAMES.has(name) || name === field
      ? LOG_REDACT_CENSOR
      : typeof item === 'string'
        ? censorUrlField(name, item)
        : censor(item, depth + 1, entryField, ENTRY_SECRETS.get(name)),
  );
}

/**
 * `object` with each own field's value replaced by `clean(lower-cased name, value, key)`:
 * copied on the first change, else `object` itself. Fields without a value are left alone,
 * and so are the fields named in `plain` (keys `clean` is known to return any value of unchanged).
 */
function censorFields<T extends object>(
  object: T,
  clean: (name: string, item: unknown, key: string) => unknown,
  plain?: ReadonlySet<string>,
): T {
  let copy: Record<string, unknown> | undefined;
  const fields = object as Record<string, unknown>;
  for (const key in fields) {
    if (!Object.prototype.hasOwnProperty.call(fields, key)) continue;
    const item = fields[key];
    if (item === undefined || item === null || plain?.has(key) === true) continue;
    const cleaned = clean(lowerName(key), item, key);
    if (cleaned !== item) {
      copy ??= Object.assign({}, fields);
      copy[key] = cleaned;
    }
  }
  return (copy ?? object) as T;
}

/**
 * `value` with client keys, provider keys and credentials replaced by `[redacted]` at any depth
 * up to 8, and the secret query parameters of its `url` fields (`?key=`) too (never modified in place).
 */
export function censorSecrets<T>(value: T): T {
  return censor(value, 0) as T;
}

/**
 * The cleaner of a log line's top level, before serializers run: secret names and key
 * containers only. Values are walked in depth after their serializer, when pino turns them
 * into JSON; a field that pino's own `redact` paths handle is turned into JSON by those paths
 * instead, so it is walked here (`redacted`). Made once per logger, not per line.
 */
function topCleaner(
  redacted: (key: string) => boolean,
): (object: Record<string, unknown>) => Record<string, unknown> {
  // keys this cleaner returns every value of unchanged (no secret name, no key container, no
  // redact path): nearly every key of every line, the same few each time; a line then costs
  // one lookup per such field instead of five (bounded for odd callers, as lowerNames)
  const plain = new Set<string>();
  const clean = (name: string, item: unknown, key: string): unknown => {
    if (SECRET_NAMES.has(name)) return LOG_REDACT_CENSOR;
    // an error is serialized first, as its serializer would have (a plain record passes it unchanged)
    if (redacted(key) && item instanceof Error) return censor(pino.stdSerializers.err(item), 1);
    if (ENTRY_SECRETS.has(name) || redacted(key)) return censor(item, 1, undefined, ENTRY_SECRETS.get(name));
    // a URL's query may carry a key (`?key=`): its field is looked at on every line
    if (isUrlField(name)) return censorUrlField(name, item);
    if (plain.size < MAX_LOWER_NAMES) plain.add(key);
    return item;
  };
  return (object) => censorFields(object, clean, plain);
}

type Stringify = (value: unknown, safe?: unknown) => string;
type Child = (this: unknown, bindings: Record<string, unknown>, options?: unknown) => unknown;
type Formatters = { log?: (object: Record<string, unknown>) => Record<string, unknown> };
const { stringifySym, formattersSym, stringifiersSym, wildcardFirstSym, formatOptsSym } = pino.symbols;

/**
 * Redacts what {@link LOG_REDACT_PATHS} names (client-key and provider-key headers, provider
 * credentials, static client keys, the universal proxy's provider keys) by name, and the values
 * of secret query parameters (`?key=`, `api_key`, `token`...) in `url` fields such as a logged
 * request's, in any letter case and at any depth up to eight levels, from every line of `logger` and of every child it
 * makes later: fields, serialized values (errors, requests, your own serializers included) and
 * child bindings. Returns `logger`. Works through pino's exported `symbols`: the JSON step
 * every value goes through, the line formatter and `child()`.
 * @example
 * const logger = redactLogger(pino({ level: 'info' }));
 */
export function redactLogger<T extends object>(logger: T): T {
  const target = logger as Record<symbol, unknown> & { child?: Child };
  const stringify = target[stringifySym];
  if (typeof stringify !== 'function' || typeof target.child !== 'function') {
    throw new SwitchyardError('invalid_options', 'redactLogger: expected a pino logger (pino 9 or 10).');
  }
  // every object value of a line and of child bindings becomes JSON here, after its serializer
  target[stringifySym] = function censoredStringify(this: unknown, value: unknown, safe?: unknown): string {
    return (stringify as Stringify).call(this, censor(value, 1), safe);
  };
  const formatters = target[formattersSym] as Formatters;
  const own = formatters.log;
  const stringifiers = target[stringifiersSym] as Record<string | symbol, unknown>;
  const wildcard = stringifiers[wildcardFirstSym] !== undefined;
  const redacted = (key: string): boolean => wildcard || stringifiers[key] !== undefined;
  const cleanTop = topCleaner(redacted);
  target[formattersSym] = {
    ...formatters,
    log: own === undefined ? cleanTop : (object: Record<string, unknown>) => cleanTop(own(object)),
  };
  // objects interpolated into a message (`logger.info('%j', value)`)
  const formatOpts = target[formatOptsSym] as { stringify: Stringify };
  target[formatOptsSym] = {
    ...formatOpts,
    stringify: (value: unknown) => formatOpts.stringify(censorSecrets(value)),
  };
  // bindings that are strings never reach the JSON step: the child gets censored bindings
  const child = target.child;
  target.child = function censoredChild(
    this: unknown,
    bindings: Record<string, unknown>,
    options?: unknown,
  ): unknown {
    return child.call(this, censorSecrets(bindings), options);
  };
  return logger;
}
