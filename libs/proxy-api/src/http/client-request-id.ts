import type { IncomingMessage } from 'node:http';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A client's `x-request-id` when it is well-formed (1–128 of `[A-Za-z0-9._:-]`), else undefined:
 * its correlation id, stored and logged as `clientRequestId` next to the request's own id.
 */
export function clientRequestIdOf(req: IncomingMessage): string | undefined {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : undefined;
}
