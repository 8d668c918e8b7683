/** Request headers that carry a client key or a provider key. */
export const SECRET_HEADERS = [
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'x-switchyard-key',
  'x-amz-security-token',
  'cookie',
] as const;

/** Object fields that hold a provider credential or a gateway secret, at any of the first depths. */
export const SECRET_FIELDS = [
  'apiKey',
  'api_key',
  'secretAccessKey',
  'sessionToken',
  'masterKey',
  'keySecret',
  'password',
] as const;

/** Fields (compared without letter case) holding a URL whose query is logged: a request's `url` as Fastify logs it. */
export const URL_FIELDS = ['url', 'originalUrl'] as const;

// `*` in a pino redact path matches exactly one level, so each secret is listed at the depths a
// logged object reaches: `{ err: { config: { headers } } }`, `{ config: { providers: [{ apiKey }] } }`
const PREFIXES = ['', '*.', '*.*.', '*.*.*.'] as const;

function headerPaths(): string[] {
  return SECRET_HEADERS.flatMap((name) =>
    PREFIXES.slice(0, 3).map((prefix) => `${prefix}headers["${name}"]`),
  );
}

function fieldPaths(): string[] {
  return SECRET_FIELDS.flatMap((field) => PREFIXES.map((prefix) => `${prefix}${field}`));
}

/**
 * The paths `createLogger()` redacts, in pino's `redact.paths` syntax: client-key and
 * provider-key headers wherever a request's or an error's headers are logged (`req.headers`,
 * `err.headers`, `err.request.headers`), provider credentials in config objects (`*.apiKey`,
 * `*.secretAccessKey`), static client keys (`keys[].key`) and the universal proxy's provider
 * keys (`providerKeys.<name>.value`). Add them to a pino logger of your own when embedding.
 */
export const LOG_REDACT_PATHS: readonly string[] = Object.freeze([
  ...headerPaths(),
  ...fieldPaths(),
  'keys[*].key',
  '*.keys[*].key',
  'providerKeys.*.value',
  '*.providerKeys.*.value',
  '*.*.providerKeys.*.value',
]);

/** What redacted values are replaced with. */
export const LOG_REDACT_CENSOR = '[redacted]';
