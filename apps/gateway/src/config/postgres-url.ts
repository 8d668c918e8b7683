import { parse } from 'pg-connection-string';

const NOT_PARSED =
  "is not a URL the PostgreSQL driver can parse: percent-encode a '/', '?', '#' or '%' in its user name or password (%2F, %3F, %23, %25), and give a port from 0 to 65535";

/**
 * Why the PostgreSQL driver would refuse a `postgres://` URL, else undefined; never echoes the
 * URL, which may carry a password. The schema takes any text after `postgres://`, and a URL pg
 * cannot parse (a generated password holding `/` or `#`, a port past 65535) passed it: the
 * request log then failed every write with "Invalid URL" and the key store every lookup. Read
 * with pg's own parser (`pg-connection-string`), so what passes here is what pg takes.
 */
export function postgresUrlProblem(url: string): string | undefined {
  try {
    parse(url);
    return undefined;
  } catch {
    return NOT_PARSED;
  }
}
