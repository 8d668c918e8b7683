// Failures that happen before any byte of the request reached the gateway, so sending the
// call direct cannot duplicate it. A name lookup fails before any socket exists, and undici
// raises its connect timeout only while connecting.
const BEFORE_CONNECT_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
// Socket errors count only when raised by the connect call itself: the same ETIMEDOUT (or
// EHOSTUNREACH) on a kept-alive socket's read comes after the gateway may have the request,
// and sending it again direct would make the LLM call twice.
const CONNECT_SYSCALL_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
]);

function connectPhaseCode(error: object): string | undefined {
  const { code, syscall } = error as { code?: unknown; syscall?: unknown };
  if (typeof code !== 'string') return undefined;
  if (BEFORE_CONNECT_CODES.has(code)) return code;
  if (CONNECT_SYSCALL_CODES.has(code) && syscall === 'connect') return code;
  return undefined;
}

/**
 * The network code when `error` (or one of its causes) says the gateway could not be
 * connected to, else `undefined`.
 */
export function gatewayUnreachableCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    const code = connectPhaseCode(current);
    if (code !== undefined) return code;
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
