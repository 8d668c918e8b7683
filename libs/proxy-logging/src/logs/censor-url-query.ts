import { SECRET_QUERY_PARAMS } from '@switchyard/proxy-core';
import { LOG_REDACT_CENSOR, URL_FIELDS } from './log-redact-paths';

const SECRET_PARAMS: ReadonlySet<string> = new Set<string>(SECRET_QUERY_PARAMS);
const FIELDS: ReadonlySet<string> = new Set(URL_FIELDS.map((name) => name.toLowerCase()));
/** One `name=value` pair of a query string (a fragment ends it). */
const QUERY_PAIR = /([?&;])([^=&;#]*)=([^&;#]*)/g;

function paramName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}

/**
 * `url` with the values of its secret query parameters (Gemini's `?key=`, `api_key`, `token`,
 * a presigned URL's signature: {@link SECRET_QUERY_PARAMS}) replaced by `[redacted]`; `url`
 * itself when it has none. For a request URL a client wrote, which Fastify logs whole.
 * @example
 * censorUrlQuery('/v1beta/models/m:generateContent?key=AIza...&alt=sse'); // '/v1beta/models/m:generateContent?key=[redacted]&alt=sse'
 */
export function censorUrlQuery(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return url;
  const head = url.slice(0, query);
  const tail = url
    .slice(query)
    .replace(QUERY_PAIR, (pair, separator: string, name: string) =>
      SECRET_PARAMS.has(paramName(name)) ? `${separator}${name}=${LOG_REDACT_CENSOR}` : pair,
    );
  return `${head}${tail}`;
}

/** Whether a field (its name lower-cased) holds a URL whose query {@link censorUrlField} censors. */
export function isUrlField(name: string): boolean {
  return FIELDS.has(name);
}

/**
 * The value of a field named `name` (lower-cased) with its URL's secret query parameters
 * censored when it is a URL field holding a string with a query; else the value itself.
 */
export function censorUrlField(name: string, value: unknown): unknown {
  if (typeof value !== 'string' || !FIELDS.has(name) || !value.includes('?')) return value;
  const censored = censorUrlQuery(value);
  // the same string when nothing changed, so a clean line is not copied
  return censored === value ? value : censored;
}
