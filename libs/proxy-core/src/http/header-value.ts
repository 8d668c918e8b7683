/**
 * What an HTTP header value may not hold, by the rule Node's `http` and undici both apply before
 * sending: any control character but tab (`\r` and `\n` included), DEL, and any character above
 * U+00FF (a typographic quote pasted with a key). A value that fails it fails every request that
 * carries it, so options are checked against it when they are given.
 */
const NOT_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Whether `value` may be sent as an HTTP header value (see the rule above). Use it to refuse a
 * configured credential or header at start-up instead of on every call.
 * @example
 * isValidHeaderValue('Bearer sk-123'); // true
 * isValidHeaderValue('sk-123\r'); // false: a .env file with CRLF line endings
 */
export function isValidHeaderValue(value: string): boolean {
  return !NOT_HEADER_VALUE.test(value);
}
