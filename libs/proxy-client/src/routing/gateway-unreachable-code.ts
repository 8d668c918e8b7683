// Failures that happen before any byte of the request reached the gateway, so sending the
// call direct cannot duplicate it. Resets and socket errors after connecting are excluded.
const CONNECT_PHASE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * The network code when `error` (or one of its causes) says the gateway could not be
 * connected to, else `undefined`.
 */
export function gatewayUnreachableCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECT_PHASE_CODES.has(code)) return code;
    // `fetch` wraps the socket error as `cause`; an AggregateError (happy eyeballs) in `errors`
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors)) {
      for (const inner of errors) {
        const innerCode = gatewayUnreachableCode(inner);
        if (innerCode !== undefined) return innerCode;
      }
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
