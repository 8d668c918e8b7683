/** A new run id: a random UUID (v4). */
export function createRunId(): string {
  return globalThis.crypto.randomUUID();
}

/** A new span id: 8 random bytes as 16 lowercase hex characters, as W3C trace context spans. */
export function createSpanId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(8));
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
