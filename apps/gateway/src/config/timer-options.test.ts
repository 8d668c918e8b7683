import { MAX_TIMER_MS } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../start-gateway';
import type { ConfigError } from './config-error';
import type { ConfigFile } from './config-schema';
import { validateConfig } from './load-config';
import { postgresPoolOptions } from './observability-config';
import { withServerEnv } from './server-env';

// Node fires a timer of more than 2^31 - 1 ms after 1 ms: `requestTimeoutMs: 3000000000`, meant
// as "almost never", answered every request at once with a 504. Every option a timer is armed
// with is refused past it, saying why.

const providers = [{ name: 'mock', type: 'mock' }];
const TOO_LONG = 3_000_000_000;
const WHY = `${TOO_LONG} ms is above 2147483647 ms (about 24.8 days), the longest a Node.js timer waits: a longer delay would fire after 1 ms`;

async function problemsOf(config: Record<string, unknown>): Promise<string[]> {
  return validateConfig({ providers, ...config }, {}, 'test.yaml').then(
    () => [],
    (error: unknown) => (error as ConfigError).problems,
  );
}

describe('timer options of the config file', () => {
  it('are refused past MAX_TIMER_MS, each with the reason', async () => {
    const pool = { connectTimeoutMs: TOO_LONG, statementTimeoutMs: TOO_LONG, queryTimeoutMs: TOO_LONG };
    const problems = await problemsOf({
      requestTimeoutMs: TOO_LONG,
      attemptTimeoutMs: TOO_LONG,
      streamIdleTimeoutMs: TOO_LONG,
      retry: { baseDelayMs: TOO_LONG, maxDelayMs: TOO_LONG },
      breaker: { resetTimeoutMs: TOO_LONG },
      limiter: { maxWaitMs: TOO_LONG },
      server: { shutdownTimeoutMs: TOO_LONG, shutdownDelayMs: TOO_LONG, idleMemoryReleaseMs: TOO_LONG },
      limits: { spendFlushIntervalMs: TOO_LONG },
      redis: { url: 'redis://127.0.0.1:6379', commandTimeoutMs: TOO_LONG },
      cache: { redisCommandTimeoutMs: TOO_LONG },
      proxy: { requestTimeoutMs: TOO_LONG, headersTimeoutMs: TOO_LONG, bodyIdleTimeoutMs: TOO_LONG },
      requestLog: {
        store: 'postgres',
        url: 'postgres://db/x',
        flushIntervalMs: TOO_LONG,
        flushTimeoutMs: TOO_LONG,
        retentionDays: 30,
        retentionStartDelayMs: TOO_LONG,
        postgres: pool,
      },
      admin: {
        keyStore: { url: 'postgres://db/keys', postgres: pool },
        keyCache: { staleIfErrorMs: TOO_LONG, lookupTimeoutMs: TOO_LONG },
      },
    });
    const paths = [
      '/requestTimeoutMs',
      '/attemptTimeoutMs',
      '/streamIdleTimeoutMs',
      '/retry/baseDelayMs',
      '/retry/maxDelayMs',
      '/breaker/resetTimeoutMs',
      '/limiter/maxWaitMs',
      '/server/shutdownTimeoutMs',
      '/server/shutdownDelayMs',
      '/server/idleMemoryReleaseMs',
      '/limits/spendFlushIntervalMs',
      '/redis/commandTimeoutMs',
      '/cache/redisCommandTimeoutMs',
      '/proxy/requestTimeoutMs',
      '/proxy/headersTimeoutMs',
      '/proxy/bodyIdleTimeoutMs',
      '/requestLog/flushIntervalMs',
      '/requestLog/flushTimeoutMs',
      '/requestLog/retentionStartDelayMs',
      '/requestLog/postgres/connectTimeoutMs',
      '/requestLog/postgres/statementTimeoutMs',
      '/requestLog/postgres/queryTimeoutMs',
      '/admin/keyStore/postgres/connectTimeoutMs',
      '/admin/keyStore/postgres/statementTimeoutMs',
      '/admin/keyStore/postgres/queryTimeoutMs',
      '/admin/keyCache/staleIfErrorMs',
      '/admin/keyCache/lookupTimeoutMs',
    ];
    expect([...problems].sort()).toEqual(paths.map((path) => `${path}: ${WHY}`).sort());
  });

  // Node's HTTP server checks requestTimeout and headersTimeout as 32-bit numbers (2^32 + 100 ms
  // timed a request still sending out after 100 ms, with a 408), and arms an idle keep-alive
  // connection's timer with keepAliveTimeout + 1 s (past MAX_TIMER_MS, a TimeoutOverflowWarning on
  // every response)
  it("refuses the HTTP server's timeouts past what Node's server takes, each with the reason", async () => {
    const wrapping = 2 ** 32 + 100;
    const problems = await problemsOf({
      server: { requestTimeoutMs: wrapping, headersTimeoutMs: wrapping, keepAliveTimeoutMs: MAX_TIMER_MS },
    });
    const wraps = `${wrapping} ms is above 2147483647 ms (about 24.8 days): Node's HTTP server checks its request and headers timeouts as 32-bit numbers, so a longer one can wrap around and time requests out early`;
    expect(problems).toEqual([
      `/server/requestTimeoutMs: ${wraps}`,
      `/server/headersTimeoutMs: ${wraps}`,
      "/server/keepAliveTimeoutMs: 2147483647 ms is above 2147482647 ms: Node's HTTP server arms an idle connection's timer with the keep-alive timeout plus 1 s, which must stay within 2147483647 ms (about 24.8 days), or every response logs a TimeoutOverflowWarning",
    ]);
    await expect(
      problemsOf({
        server: {
          requestTimeoutMs: MAX_TIMER_MS,
          headersTimeoutMs: MAX_TIMER_MS,
          keepAliveTimeoutMs: MAX_TIMER_MS - 1_000,
        },
      }),
    ).resolves.toEqual([]);
  });

  it('take the longest timer there is', async () => {
    await expect(
      problemsOf({
        requestTimeoutMs: MAX_TIMER_MS,
        server: { shutdownTimeoutMs: MAX_TIMER_MS, shutdownDelayMs: MAX_TIMER_MS },
        retry: { baseDelayMs: MAX_TIMER_MS, maxDelayMs: MAX_TIMER_MS },
        proxy: {
          requestTimeoutMs: MAX_TIMER_MS,
          headersTimeoutMs: MAX_TIMER_MS,
          bodyIdleTimeoutMs: MAX_TIMER_MS,
        },
      }),
    ).resolves.toEqual([]);
  });

  it('start a gateway with the shutdown delay and timeout each at the longest timer (the drain deadline, their sum, is kept to one)', async () => {
    const config = await validateConfig(
      {
        providers,
        server: { shutdownDelayMs: MAX_TIMER_MS, shutdownTimeoutMs: MAX_TIMER_MS },
        requestLog: { store: 'none' },
      },
      {},
      'test.yaml',
    );
    const running = await startGateway({ config, port: 0, host: '127.0.0.1', logLevel: 'silent' });
    // closed without the shutdown delay, which would wait for it
    await running.app.close();
  });

  it('SWITCHYARD_SHUTDOWN_DELAY_MS is refused past it too', () => {
    const config: ConfigFile = { providers };
    expect(() => withServerEnv(config, { SWITCHYARD_SHUTDOWN_DELAY_MS: String(TOO_LONG) })).toThrow(
      `SWITCHYARD_SHUTDOWN_DELAY_MS: ${WHY}`,
    );
    expect(withServerEnv(config, { SWITCHYARD_SHUTDOWN_DELAY_MS: String(MAX_TIMER_MS) }).server).toEqual({
      shutdownDelayMs: MAX_TIMER_MS,
    });
  });

  it("keeps a PostgreSQL pool's default query timeout (a second past the statement timeout) within a timer", () => {
    // PostgreSQL's own longest statement_timeout: the query timeout after it would not fit a timer
    expect(postgresPoolOptions({ statementTimeoutMs: MAX_TIMER_MS })).toEqual({
      timeoutMs: MAX_TIMER_MS,
      queryTimeoutMs: MAX_TIMER_MS,
    });
    expect(postgresPoolOptions({ statementTimeoutMs: 30_000 })).toEqual({ timeoutMs: 30_000 });
    expect(postgresPoolOptions({ statementTimeoutMs: MAX_TIMER_MS, queryTimeoutMs: 60_000 })).toEqual({
      timeoutMs: MAX_TIMER_MS,
      queryTimeoutMs: 60_000,
    });
  });
});
