import { EventEmitter } from 'node:events';
import { MAX_TIMER_MS } from '@switchyard/proxy-core';
import type { FastifyReply } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clientAbort } from '../http/request-signal';
import { DrainController } from './drain-controller';

describe('DrainController', () => {
  it('takes a listener per request in flight without a listener-leak warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    const drain = new DrainController(1000);
    const listeners = Array.from({ length: 50 }, () => () => undefined);
    try {
      for (const listener of listeners) drain.signal.addEventListener('abort', listener, { once: true });
    } finally {
      for (const listener of listeners) drain.signal.removeEventListener('abort', listener);
    }
    // warnings are emitted on a later tick
    await new Promise<void>((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(
      warnings
        .filter((warning) => warning.name === 'MaxListenersExceededWarning')
        .map((warning) => warning.message),
    ).toEqual([]);
  });

  describe('the drain deadline', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('is not armed by begin(): a preStop hook drains readiness only, requests go on being served', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const drain = new DrainController(1_000);
      drain.begin();
      expect(drain.draining).toBe(true);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(drain.signal.aborted).toBe(false);
      drain.dispose();
    });

    it('counts from startDeadline(), once: a later call does not push it back', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const drain = new DrainController(1_000);
      drain.begin();
      await vi.advanceTimersByTimeAsync(5_000);
      drain.startDeadline();
      await vi.advanceTimersByTimeAsync(600);
      drain.startDeadline();
      await vi.advanceTimersByTimeAsync(399);
      expect(drain.signal.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(drain.signal.aborted).toBe(true);
      expect(drain.signal.reason).toMatchObject({ code: 'overloaded' });
      drain.dispose();
    });
  });

  describe('with a drain deadline near the longest timer', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('waits for the request in flight: the second after the deadline does not overflow into a timer of 1 ms', async () => {
      // fake timers fire a delay past MAX_TIMER_MS after 1 ms, as Node does
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const drain = new DrainController(MAX_TIMER_MS);
      const raw = Object.assign(new EventEmitter(), { writableFinished: false, destroyed: false });
      clientAbort({ raw } as unknown as FastifyReply, drain.signal);
      drain.startDeadline();
      let settled = false;
      const done = drain.settled().then(() => {
        settled = true;
      });
      await vi.advanceTimersByTimeAsync(60_000);
      expect(settled).toBe(false);
      raw.writableFinished = true;
      raw.emit('close');
      await done;
      drain.dispose();
    });

    it('is refused past it, saying why', () => {
      expect(() => new DrainController(3_000_000_000)).toThrow(
        'DrainController: drainTimeoutMs: 3000000000 ms is above 2147483647 ms (about 24.8 days), the longest a Node.js timer waits',
      );
    });
  });
});
