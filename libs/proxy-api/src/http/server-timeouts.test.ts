import { MAX_TIMER_MS, isSwitchyardError, timerDelayProblem } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import { createApp } from '../create-app';

const gateway = { providers: [{ name: 'mock', type: 'mock' }] };

// Node's HTTP server reads requestTimeout and headersTimeout as 32-bit numbers: 2^32 + 100 ms,
// meant as "almost never", answered a request still sending after 100 ms with a 408. Its
// keep-alive timer is the keep-alive timeout + 1 s: past MAX_TIMER_MS every response logs a
// TimeoutOverflowWarning.
const WRAPPING = 2 ** 32 + 100;
// the longest keep-alive timeout: Node adds 1 s to it (MAX_KEEP_ALIVE_TIMEOUT_MS)
const MAX_KEEP_ALIVE_TIMEOUT_MS = MAX_TIMER_MS - 1_000;

function refusalOf(options: Partial<Parameters<typeof createApp>[0]>): string {
  try {
    createApp({ gateway, ...options });
  } catch (error) {
    expect(isSwitchyardError(error) && error.code).toBe('invalid_options');
    return (error as Error).message;
  }
  throw new Error('createApp accepted the options');
}

describe("createApp's server timeouts", () => {
  it('refuses a request or headers timeout past MAX_TIMER_MS, and a keep-alive past MAX_KEEP_ALIVE_TIMEOUT_MS, saying why', () => {
    const message = refusalOf({
      requestTimeoutMs: WRAPPING,
      headersTimeoutMs: WRAPPING,
      keepAliveTimeoutMs: MAX_TIMER_MS,
    });
    const wraps = `${WRAPPING} ms is above ${MAX_TIMER_MS} ms (about 24.8 days): Node's HTTP server checks its request and headers timeouts as 32-bit numbers, so a longer one can wrap around and time requests out early`;
    expect(message).toBe(
      [
        'Invalid Switchyard options:',
        `/requestTimeoutMs: ${wraps}`,
        `/headersTimeoutMs: ${wraps}`,
        `/keepAliveTimeoutMs: ${MAX_TIMER_MS} ms is above ${MAX_KEEP_ALIVE_TIMEOUT_MS} ms: Node's HTTP server arms an idle connection's timer with the keep-alive timeout plus 1 s, which must stay within ${MAX_TIMER_MS} ms (about 24.8 days), or every response logs a TimeoutOverflowWarning`,
      ].join('\n- '),
    );
  });

  it("reports them in one error with the other options' problems", () => {
    const message = refusalOf({ keepAliveTimeoutMs: -1, drainTimeoutMs: MAX_TIMER_MS + 1 });
    expect(message).toContain('/keepAliveTimeoutMs: Expected integer to be greater or equal to 0');
    expect(message).toContain(`/drainTimeoutMs: ${timerDelayProblem(MAX_TIMER_MS + 1)}`);
  });

  it('takes the longest timeouts there are, and 0 (none, as in Node)', async () => {
    const longest = createApp({
      gateway,
      requestTimeoutMs: MAX_TIMER_MS,
      headersTimeoutMs: MAX_TIMER_MS,
      keepAliveTimeoutMs: MAX_KEEP_ALIVE_TIMEOUT_MS,
    });
    try {
      await longest.ready();
      expect(longest.server).toMatchObject({
        requestTimeout: MAX_TIMER_MS,
        headersTimeout: MAX_TIMER_MS,
        keepAliveTimeout: MAX_KEEP_ALIVE_TIMEOUT_MS,
      });
    } finally {
      await longest.close();
    }
    const none = createApp({ gateway, requestTimeoutMs: 0, headersTimeoutMs: 0, keepAliveTimeoutMs: 0 });
    await none.close();
  });
});
