import { SwitchyardError } from '../errors/switchyard-error';
import { redactSecrets } from './redact-secrets';

const REDACTED = '[redacted]';

/** The credentials of one upstream call: its headers and URL. */
export interface UpstreamCall {
  readonly headers: Readonly<Record<string, string>>;
  readonly url: string;
}

// the call each response answered, for masking its credentials in an error its body holds:
// kept here, off the response object, which plugins and adapters may log or pass around
const callsOfResponses = new WeakMap<object, UpstreamCall>();

/** Remembers the call `response` answers (see {@link callOf}). */
export function rememberCall(response: object, call: UpstreamCall): void {
  callsOfResponses.set(response, call);
}

/** The call `response` answers, when the request function that made it remembered it. */
export function callOf(response: object): UpstreamCall | undefined {
  return callsOfResponses.get(response);
}

/** Header names that carry a credential, besides any whose name says so (`key`, `token`, `auth`, `secret`). */
const CREDENTIAL_HEADER = /key|token|auth|secret|signature|cookie/i;
/**
 * Query parameters whose values are credentials (compared without letter case): API keys in the
 * query as Gemini's `?key=` takes them, tokens, and the signature and credentials of a presigned
 * URL. Their values are masked where a provider's error message quotes them, and redacted from
 * logged URLs (proxy-logging's `redactLogger`).
 */
export const SECRET_QUERY_PARAMS = [
  'key',
  'api_key',
  'api-key',
  'apikey',
  'x-api-key',
  'x-goog-api-key',
  'x-switchyard-key',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'auth',
  'authorization',
  'secret',
  'client_secret',
  'password',
  'sig',
  'signature',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
] as const;
const CREDENTIAL_PARAMS: ReadonlySet<string> = new Set<string>(SECRET_QUERY_PARAMS);
/** Shorter values are not masked: they would mangle ordinary words of a message, and guess nothing. */
const MIN_SECRET_CHARS = 8;
const AUTH_SCHEME = /^[A-Za-z][A-Za-z0-9-]*[ \t]+(\S+)$/;

/**
 * The secret in a credential header's value: the token of `<scheme> <token>` (`Bearer sk-...`;
 * masking it masks the whole value too), else the value; undefined when shorter than 8
 * characters, too short to mask without mangling ordinary words.
 * @example
 * credentialSecret('Bearer sk-abc123def456'); // 'sk-abc123def456'
 */
export function credentialSecret(value: string): string | undefined {
  const secret = AUTH_SCHEME.exec(value)?.[1] ?? value;
  return secret.length >= MIN_SECRET_CHARS ? secret : undefined;
}

/**
 * The credentials an upstream call sends: the values of its credential headers (and the token of
 * an `Authorization: <scheme> <token>`), and of credential query parameters of its URL.
 */
export function callCredentials(headers: Readonly<Record<string, string>>, url: string): string[] {
  const found: string[] = [];
  const add = (value: string | undefined): void => {
    if (value !== undefined && value.length >= MIN_SECRET_CHARS) found.push(value);
  };
  for (const [name, value] of Object.entries(headers)) {
    if (!CREDENTIAL_HEADER.test(name)) continue;
    add(value);
    const secret = credentialSecret(value);
    if (secret !== value) add(secret);
  }
  if (url.includes('?')) {
    try {
      for (const [name, value] of new URL(url).searchParams)
        if (CREDENTIAL_PARAMS.has(name.toLowerCase())) add(value);
    } catch {
      // not a URL: no query to read
    }
  }
  // longest first: a whole `Bearer <token>` before the token inside it
  return found.sort((a, b) => b.length - a.length);
}

/**
 * `text` with every credential the call sent replaced by `[redacted]`: a provider's error body
 * may quote the key it was given, whatever its shape (an Azure or Mistral key has no prefix
 * that `redactSecrets` could recognise).
 * @example
 * maskCallCredentials('bad key abc123def456', { 'api-key': 'abc123def456' }, url); // 'bad key [redacted]'
 */
export function maskCallCredentials(
  text: string,
  headers: Readonly<Record<string, string>>,
  url: string,
): string {
  let masked = text;
  for (const secret of callCredentials(headers, url)) {
    if (masked.includes(secret)) masked = masked.split(secret).join(REDACTED);
    // a message `redactSecrets` went over first (a stream's error event) may hold the secret
    // partly masked by shape (`azure-[redacted]`): that form goes too
    const shaped = redactSecrets(secret);
    if (shaped !== secret && shaped !== REDACTED && masked.includes(shaped))
      masked = masked.split(shaped).join(REDACTED);
  }
  return masked;
}

/**
 * `error` with the credentials `call` sent masked in its message, and its `param` and provider
 * code left out when they quote one (they are no field name or code then, as an answered error's
 * are not passed on): the same error when it quotes none, else a copy (the original's stack would
 * still hold the message). For an error *event* inside a 200 stream, which the stream's mapper
 * turns into an error without seeing the call's headers.
 */
export function maskErrorCredentials(
  error: SwitchyardError,
  call: UpstreamCall | undefined,
): SwitchyardError {
  if (call === undefined) return error;
  const quotes = (value: string | undefined): boolean =>
    value !== undefined && maskCallCredentials(value, call.headers, call.url) !== value;
  const message = maskCallCredentials(error.message, call.headers, call.url);
  const param = quotes(error.param) ? undefined : error.param;
  const providerCode = quotes(error.providerCode) ? undefined : error.providerCode;
  if (message === error.message && param === error.param && providerCode === error.providerCode) return error;
  return new SwitchyardError(error.code, message, {
    status: error.status,
    ...(error.cause === undefined ? {} : { cause: error.cause }),
    ...(error.provider === undefined ? {} : { provider: error.provider }),
    ...(param === undefined ? {} : { param }),
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    ...(error.upstreamStatus === undefined ? {} : { upstreamStatus: error.upstreamStatus }),
    ...(providerCode === undefined ? {} : { providerCode }),
    ...(error.beforeSending ? { beforeSending: true } : {}),
  });
}
