import { MAX_TIMER_MS, isSwitchyardError, timerDelayProblem } from '@switchyard/proxy-core';
import { connect, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { APP_DEFAULTS } from '../app-options';
import { createApp } from '../create-app';
import { MAX_TIMEOUT_CHECK_INTERVAL_MS, timeoutCheckIntervalMs } from './server-timeouts';

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

  it('keeps the headers timeout when the request timeout is off (0): a slow head is still cut', async () => {
    const configured = createApp({ gateway, requestTimeoutMs: 0, headersTimeoutMs: 200 });
    const defaulted = createApp({ gateway, requestTimeoutMs: 0 });
    try {
      await defaulted.ready();
      expect(defaulted.server).toMatchObject({
        requestTimeout: 0,
        headersTimeout: APP_DEFAULTS.headersTimeoutMs,
      });
      await configured.listen({ port: 0, host: '127.0.0.1' });
      expect(configured.server).toMatchObject({ requestTimeout: 0, headersTimeout: 200 });
      const { port } = configured.server.address() as AddressInfo;
      const answer = await slowClient(port, 'GET /health HTTP/1.1\r\nhost: localhost\r\n');
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
    } finally {
      await Promise.all([configured.close(), defaulted.close()]);
    }
  });

  it(
    "cuts a slow request or a slow head once its timeout has passed, not up to 30 s later at the next of Node's default checks",
    { timeout: 20_000 },
    async () => {
      const app = createApp({ gateway, requestTimeoutMs: 400, headersTimeoutMs: 200 });
      try {
        await app.listen({ port: 0, host: '127.0.0.1' });
        const { port } = app.server.address() as AddressInfo;
        // Node checks the timeouts every connectionsCheckingInterval (30 s unless told; not in @types/node)
        const server = app.server as typeof app.server & { connectionsCheckingInterval?: number };
        expect(server.connectionsCheckingInterval).toBeLessThanOrEqual(MAX_TIMEOUT_CHECK_INTERVAL_MS);
        const answers = await Promise.all([
          // a body that never arrives whole
          slowClient(
            port,
            'POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"model":',
          ),
          // a head that never ends
          slowClient(port, 'GET /health HTTP/1.1\r\nhost: localhost\r\n'),
        ]);
        // the test's own timeout (20 s) fails it when Node waits for its default 30 s check
        expect(answers.map((answer) => answer.split('\r\n')[0])).toEqual([
          'HTTP/1.1 408 Request Timeout',
          'HTTP/1.1 408 Request Timeout',
        ]);
      } finally {
        await app.close();
      }
    },
  );

  it('checks twice per shortest timeout, at most every second, and as Node does when both are off', () => {
    expect(timeoutCheckIntervalMs(30_000, 10_000)).toBe(MAX_TIMEOUT_CHECK_INTERVAL_MS);
    expect(timeoutCheckIntervalMs(400, 200)).toBe(100);
    expect(timeoutCheckIntervalMs(0, 300)).toBe(150);
    expect(timeoutCheckIntervalMs(1, 1)).toBe(1);
    expect(timeoutCheckIntervalMs(0, 0)).toBeUndefined();
  });
});

/** Sends `head` and nothing more; resolves with what the server answered once it closed the connection. */
function slowClient(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}
