/**
 * The gateway's clock, as the page reads it from the `Date` header of the gateway's answers. The
 * windows the views ask for ("the last hour") end at the gateway's now, not the browser's: a
 * laptop whose clock is off by minutes, or a VM resumed with yesterday's time, asked the API for
 * a window that left out the requests just made, or held none at all.
 */

import { clockOffsetMs } from './clock-offset';

/** Milliseconds to add to the browser's clock to read the gateway's; undefined until an answer said. */
let offsetMs: number | undefined;

/** How long the page waits for the gateway's clock before it opens a view on the browser's. */
const CLOCK_WAIT_MS = 5000;

/** Takes the gateway's clock from an answer (sent and received at these browser times). */
export function noteGatewayClock(response: Response, sentAt: number, receivedAt: number): void {
  const offset = clockOffsetMs(response.headers.get('date'), sentAt, receivedAt);
  if (offset !== undefined) offsetMs = offset;
}

/** The gateway's time now, in epoch milliseconds: the browser's until an answer told otherwise. */
export function gatewayNow(): number {
  return Date.now() + (offsetMs ?? 0);
}

/**
 * Reads the gateway's clock once, before the first view asks for a window: a HEAD of the page
 * itself (public, so it needs no key). Resolves, never rejects: without an answer in
 * {@link CLOCK_WAIT_MS} or a `Date` header in it, the views use the browser's clock until an
 * API answer carries one.
 */
export async function readGatewayClock(): Promise<void> {
  if (offsetMs !== undefined) return;
  const sentAt = Date.now();
  try {
    const response = await fetch(new URL('./', location.href), {
      method: 'HEAD',
      cache: 'no-store',
      credentials: 'omit',
      signal: AbortSignal.timeout(CLOCK_WAIT_MS),
    });
    noteGatewayClock(response, sentAt, Date.now());
  } catch {
    // the views go on with the browser's clock
  }
  // asked once: without a Date header, no HEAD before every view
  offsetMs ??= 0;
}
