import { hostMatches } from '@switchyard/proxy-core';
import type { IncomingHttpHeaders } from 'node:http';
import { KEY_PREFIX } from '../keys/key-secret';
import type { EchoedSecret } from './echoed-key-mask';
import { withinRouteBase } from './resolve-proxy-target';

// `expect` too: the gateway's own server answered the client's 100-continue, and undici
// refuses to send the header at all (the exchange failed as an unreachable provider)
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'http2-settings',
  'expect',
]);

/**
 * Headers a key may travel in: any whose name says so (`authorization`, `x-api-key`, `api-key`,
 * `x-goog-api-key`, `xi-api-key`, `ocp-apim-subscription-key`, `x-algolia-api-key`, ...).
 */
const KEY_HEADER = /key|token|auth|secret/i;
/** A client key anywhere in a value: at its start, or after a space, comma, `=` or quote. */
const CLIENT_KEY = new RegExp(`(?:^|[\\s,="'])${KEY_PREFIX}`, 'i');
/** What separates the parts of a value that could each be a secret: a scheme's space, Node's `, ` between repeated headers, `=`, quotes. */
const SEPARATORS = /[\s,="']+/;
/**
 * Most parts of a value compared one by one with the master key, each an HMAC: an SDK's key
 * header has one or two. A longer value (Digest credentials, say) is compared whole only, so a
 * header of thousands of commas costs one comparison, not thousands.
 */
const MAX_COMPARED_PARTS = 16;

/**
 * Whether a presented secret is one of the gateway's own that carries no prefix (the master
 * key): compared in constant time by the caller.
 */
export type GatewaySecretTest = (secret: string) => boolean;

/**
 * Whether a header carries a gateway secret (an SDK given its gateway key as its provider key):
 * a client key (`sk-sy-`, as every static and stored key is) anywhere in the value, or one
 * `isGatewaySecret` knows as the whole value or one of its parts (the token after a scheme, one
 * of the values Node joins with `, ` when a header is repeated, a quoted or `name=` value), in the
 * value itself or as the user id or password of `Basic` credentials in it.
 */
function isGatewayKey(name: string, value: string | string[], isGatewaySecret?: GatewaySecretTest): boolean {
  if (!KEY_HEADER.test(name)) return false;
  for (const entry of Array.isArray(value) ? value : [value]) {
    if (holdsGatewaySecret(entry, isGatewaySecret)) return true;
    for (const secret of basicSecrets(entry)) if (holdsGatewaySecret(secret, isGatewaySecret)) return true;
  }
  return false;
}

/** A client key anywhere in `text`, or the secret `isGatewaySecret` knows as the whole of it or one of its parts. */
function holdsGatewaySecret(text: string, isGatewaySecret: GatewaySecretTest | undefined): boolean {
  if (CLIENT_KEY.test(text)) return true;
  if (isGatewaySecret === undefined) return false;
  const whole = text.trim();
  // the master key may itself hold a separator (a base64 key ends in `=`): compared whole, as
  // the value, each of Node's `, `-joined values, each without a scheme and without quotes
  const values = whole.split(/,\s*/);
  const candidates = new Set<string>();
  for (const value of values.length > MAX_COMPARED_PARTS ? [whole] : [whole, ...values]) {
    const unschemed = /^\S+\s+(\S.*)$/s.exec(value)?.[1] ?? value;
    for (const form of [value, unschemed]) {
      candidates.add(form.trim());
      candidates.add(form.trim().replace(/^(["'])(.*)\1$/s, '$2'));
    }
  }
  for (const candidate of candidates) if (candidate !== '' && isGatewaySecret(candidate)) return true;
  const parts = whole.split(SEPARATORS);
  if (parts.length < 2 || parts.length > MAX_COMPARED_PARTS) return false;
  for (const part of parts) if (part !== '' && !candidates.has(part) && isGatewaySecret(part)) return true;
  return false;
}

/** `Basic <base64>` credentials (RFC 7617) anywhere in a value: Node joins a repeated header with `, `. */
const BASIC = /(?:^|[\s,])basic\s+([A-Za-z0-9+/_-]+=*)/gi;
/** Most `Basic` credentials decoded in one value: an SDK sends one; more is not a client's slip. */
const MAX_BASIC_CREDENTIALS = 4;

/**
 * The user ids and passwords of the `Basic` credentials in a value. A client that gives its SDK
 * the gateway key as a user or password (`https://<key>@host`, `-u :<key>`, a client library's
 * basic-auth option) sends it base64-encoded, where no prefix or comparison would find it.
 */
function basicSecrets(value: string): string[] {
  if (!/basic/i.test(value)) return [];
  const secrets: string[] = [];
  let decoded = 0;
  for (const match of value.matchAll(BASIC)) {
    if (decoded++ === MAX_BASIC_CREDENTIALS) break;
    const pair = Buffer.from(match[1] as string, 'base64').toString('utf8');
    // the first colon splits them (a password may hold colons, a user id may not); the pair
    // whole and without a trailing colon too, for a secret with a colon given as the user id
    const colon = pair.indexOf(':');
    secrets.push(pair);
    if (colon !== -1) secrets.push(pair.slice(0, colon), pair.slice(colon + 1));
    if (pair.endsWith(':')) secrets.push(pair.slice(0, -1));
  }
  return secrets;
}

/** A query parameter's name or value as a server reads it (`+` a space), or as sent when it does not decode. */
function queryText(raw: string): string {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return raw;
  }
}

/**
 * `url` without the query parameters that carry a gateway secret: a parameter whose name says
 * it holds a credential (`key`, `api_key`, `access_token`, ...: key, token, auth or secret in
 * it, as for headers) and whose value is a client key or the master key, as an SDK or a curl
 * user puts a key in the query (Gemini's `?key=`). The other parameters are kept as written.
 * The master key is compared in the first {@link MAX_COMPARED_PARTS} such parameters only (each
 * comparison is an HMAC); a client key is found in all of them.
 */
export function withoutGatewaySecretsInQuery(url: URL, isGatewaySecret?: GatewaySecretTest): URL {
  if (url.search.length <= 1) return url;
  const pairs = url.search.slice(1).split('&');
  let compared = 0;
  const kept = pairs.filter((pair) => {
    const at = pair.indexOf('=');
    if (!KEY_HEADER.test(queryText(at === -1 ? pair : pair.slice(0, at)))) return true;
    compared += 1;
    const value = at === -1 ? '' : queryText(pair.slice(at + 1));
    return !holdsGatewaySecret(value, compared <= MAX_COMPARED_PARTS ? isGatewaySecret : undefined);
  });
  if (kept.length === pairs.length) return url;
  const cleaned = new URL(url);
  cleaned.search = kept.length === 0 ? '' : `?${kept.join('&')}`;
  return cleaned;
}

function connectionTokens(value: string | string[] | undefined): Set<string> {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(
    text
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter(Boolean),
  );
}

/** A key the gateway injects towards its own provider's hosts. */
export interface InjectedKey {
  header: string;
  value: string;
  /** Host patterns the key goes to over https on the default port only. */
  hosts: readonly string[];
  /** Exact origins the key goes to whatever their scheme and port (`http://10.0.0.5:8000`): configured by the operator. */
  origins: readonly string[];
  /**
   * Base URLs of the operator's routes to one of the key's hosts: the key goes under them as
   * written (plain http, any port), not to the rest of their origin.
   */
  routeBases: readonly URL[];
  /**
   * The forms an error answer may quote the key's secret in (the token of `Bearer <token>`),
   * masked there; absent when the secret is too short to tell in a body.
   */
  echoed?: EchoedSecret;
}

/**
 * True when `key` may be sent to `target`: an exact configured origin, under the base of a route
 * to one of the key's hosts, or one of the key's hosts over https on the default port. Plain http
 * would hand the key to anyone on the path, and another port or path of the same host may be
 * another service.
 */
export function injectsInto(key: InjectedKey, target: URL): boolean {
  if (key.origins.includes(target.origin)) return true;
  if (key.routeBases.length > 0 && withinRouteBase(target, key.routeBases)) return true;
  return (
    target.protocol === 'https:' &&
    target.port === '' &&
    key.hosts.some((pattern) => hostMatches(pattern, target.hostname))
  );
}

/**
 * The request headers sent upstream: hop-by-hop headers (and those `Connection` names),
 * the gateway's own `x-switchyard-*` headers, `switchyard.*` baggage entries and any key header
 * (`authorization`, `x-api-key`, ...: a name with key, token, auth or secret in it) that holds a
 * gateway secret (a `sk-sy-` key, or one `isGatewaySecret` recognises: the master key) are
 * removed; trace headers are added; a provider key is injected only where {@link injectsInto}
 * allows it.
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  target: URL,
  trace: Readonly<Record<string, string>>,
  key: InjectedKey | undefined,
  isGatewaySecret?: GatewaySecretTest,
): Record<string, string | string[]> {
  const dropped = connectionTokens(incoming.connection);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || dropped.has(lower) || lower.startsWith('x-switchyard-')) continue;
    if (isGatewayKey(lower, value, isGatewaySecret)) continue;
    if (lower === 'baggage') {
      const entries = (Array.isArray(value) ? value.join(',') : value)
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== '' && !entry.toLowerCase().startsWith('switchyard.'));
      if (entries.length > 0) out[lower] = entries.join(',');
      continue;
    }
    out[lower] = value;
  }
  for (const [name, value] of Object.entries(trace)) out[name.toLowerCase()] = value;
  if (key !== undefined && injectsInto(key, target)) out[key.header.toLowerCase()] = key.value;
  return out;
}

/**
 * Upstream response headers that would act on the gateway's own origin, where the admin UI keeps
 * the master key in sessionStorage: `clear-site-data` would wipe its storage,
 * `strict-transport-security` or `alt-svc` pin how browsers reach the gateway for months, and
 * `nel`, `report-to` or `reporting-endpoints` set a reporting policy for the origin (`nel` for
 * months) that would send reports of its pages, the admin UI's included, to the upstream's
 * collector. Not `set-cookie`: an API may pin a client to a node by a cookie (its `Domain` is
 * dropped: {@link hostOnlyCookie}).
 */
const ORIGIN_WIDE = new Set([
  'strict-transport-security',
  'alt-svc',
  'clear-site-data',
  'nel',
  'report-to',
  'reporting-endpoints',
]);

/**
 * A `Set-Cookie` value without its `Domain` attributes, so the cookie is host-only (RFC 6265
 * §5.3): the browser sends it back to the gateway's own host, never to its siblings under a
 * parent domain an upstream named (any upstream, with `allowHosts: ['*']`). The name and value
 * are what comes before the first `;`; an attribute's name is what comes before its `=`, trimmed,
 * in any case, as browsers read it. The rest is kept as written.
 */
function hostOnlyCookie(cookie: string): string {
  if (!/domain/i.test(cookie)) return cookie;
  const [pair = '', ...attributes] = cookie.split(';');
  const kept = attributes.filter(
    (attribute) => (attribute.split('=', 1)[0] ?? '').trim().toLowerCase() !== 'domain',
  );
  return kept.length === attributes.length ? cookie : [pair, ...kept].join(';');
}

/**
 * The response headers sent to the client: hop-by-hop headers removed, and the gateway's own
 * kept. `own` are the headers the gateway already set on the reply (its `x-request-id`, a key's
 * `x-ratelimit-*`, CORS): an upstream header of the same name does not replace them, except
 * `vary`, whose values are merged, and the upstream's `x-request-id` is passed on as
 * `x-upstream-request-id` (any header of that name it sent is dropped); when the gateway set a
 * key's `x-ratelimit-*`, none of the upstream's `x-ratelimit-*` headers is passed on. The upstream's `x-switchyard-*` headers (the gateway's namespace) and
 * `access-control-*` headers (the gateway's CORS settings decide which origins may read an
 * answer, not the upstream's) are dropped, and so are those that would act on the gateway's
 * origin ({@link ORIGIN_WIDE}); a `set-cookie` loses its `Domain` ({@link hostOnlyCookie}).
 * `x-content-type-options: nosniff` is set whatever the upstream
 * said: a browser renders an answer as the type it names, never as one it guesses; and
 * `content-security-policy: sandbox` is added to the upstream's policies, so a page it serves
 * neither runs script nor reads the gateway origin's storage. The rest is unchanged.
 */
export function clientResponseHeaders(
  upstream: Record<string, string | string[] | undefined>,
  own: Readonly<Record<string, string | number | string[] | undefined>> = {},
): Record<string, string | string[]> {
  const dropped = connectionTokens(upstream['connection']);
  // a key's limits are one family: the gateway's requests headers beside the upstream's tokens
  // headers would read as one set of limits
  const ownLimits = Object.keys(own).some((name) => name.startsWith('x-ratelimit-'));
  const renamesId = own['x-request-id'] !== undefined;
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || dropped.has(lower)) continue;
    if (lower.startsWith('x-switchyard-') || lower.startsWith('access-control-')) continue;
    if (ORIGIN_WIDE.has(lower) || lower === 'x-content-type-options') continue;
    if (ownLimits && lower.startsWith('x-ratelimit-')) continue;
    // the name the upstream's own request id is passed on under
    if (renamesId && lower === 'x-upstream-request-id') continue;
    const set = own[lower];
    if (lower === 'set-cookie' && set === undefined)
      out[lower] = Array.isArray(value) ? value.map(hostOnlyCookie) : hostOnlyCookie(value);
    else if (set === undefined) out[lower] = value;
    else if (lower === 'x-request-id') out['x-upstream-request-id'] = value;
    else if (lower === 'vary') out[lower] = [set, value].flat().map(String).join(', ');
  }
  out['x-content-type-options'] = 'nosniff';
  // a page the upstream serves runs on the gateway's origin: sandboxed, it has an opaque origin
  // of its own, no script and no reach into that origin's storage. A browser enforces every
  // policy it is sent, so the upstream's own stays beside it
  const policy = out['content-security-policy'];
  out['content-security-policy'] = policy === undefined ? 'sandbox' : [policy, 'sandbox'].flat();
  return out;
}
