import { MAX_TIMER_MS } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import type { ConfigFile } from '../config/config-schema';
import { withServerEnv } from '../config/server-env';
import { CLOSE_LEFT_CONNECTIONS_MS, shutdownTimes } from '../config/shutdown-times';
import { KILL_MARGIN_MS, workerKillDeadlineMs } from './run-primary';

const base: ConfigFile = { providers: [{ name: 'mock', type: 'mock' }] };

describe('shutdownTimes', () => {
  it('fills in the defaults: no delay, a 10 s drain, the request log (SQLite by default) with a 10 s last flush', () => {
    expect(shutdownTimes(base)).toEqual({ delayMs: 0, drainTimeoutMs: 10_000, requestLogFlushMs: 10_000 });
  });

  it('takes the config, the environment over the file for the delay, and no flush without a request log', () => {
    const config: ConfigFile = {
      ...base,
      server: { shutdownDelayMs: 1_000, shutdownTimeoutMs: 20_000 },
      requestLog: { store: 'postgres', flushTimeoutMs: 3_000 },
    };
    expect(shutdownTimes(withServerEnv(config, { SWITCHYARD_SHUTDOWN_DELAY_MS: '5000' }))).toEqual({
      delayMs: 5_000,
      drainTimeoutMs: 20_000,
      requestLogFlushMs: 3_000,
    });
    expect(
      shutdownTimes({ ...config, requestLog: { store: 'none', flushTimeoutMs: 3_000 } }).requestLogFlushMs,
    ).toBe(0);
  });
});

describe('workerKillDeadlineMs', () => {
  it("waits out every part of a worker's shutdown, the request log's last flush included, then a margin", () => {
    // the defaults: 0 + 10 s + 1 s + 10 s (the primary killed workers at 15 s, mid-flush)
    expect(workerKillDeadlineMs(shutdownTimes(base))).toBe(21_000 + KILL_MARGIN_MS);
    const times = { delayMs: 5_000, drainTimeoutMs: 20_000, requestLogFlushMs: 10_000 };
    expect(workerKillDeadlineMs(times)).toBe(
      5_000 + 20_000 + CLOSE_LEFT_CONNECTIONS_MS + 10_000 + KILL_MARGIN_MS,
    );
    expect(workerKillDeadlineMs({ ...times, requestLogFlushMs: 0 })).toBe(
      5_000 + 20_000 + CLOSE_LEFT_CONNECTIONS_MS + KILL_MARGIN_MS,
    );
  });

  it('stays within the longest timer (past it the timer would fire at once)', () => {
    expect(
      workerKillDeadlineMs({
        delayMs: MAX_TIMER_MS,
        drainTimeoutMs: MAX_TIMER_MS,
        requestLogFlushMs: MAX_TIMER_MS,
      }),
    ).toBe(MAX_TIMER_MS);
    expect(
      workerKillDeadlineMs({
        delayMs: 0,
        drainTimeoutMs: MAX_TIMER_MS - KILL_MARGIN_MS,
        requestLogFlushMs: 0,
      }),
    ).toBe(MAX_TIMER_MS);
  });
});
