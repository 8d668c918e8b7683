import { EventEmitter } from 'node:events';
import type { FastifyReply } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clientAbort } from './request-signal';

/** The part of a reply `clientAbort` reads: the raw response's `close` and whether it finished. */
function fakeReply(): { reply: FastifyReply; close(finished: boolean): void } {
  const raw = Object.assign(new EventEmitter(), { writableFinished: false, destroyed: false });
  return {
    reply: { raw } as unknown as FastifyReply,
    close(finished) {
      raw.writableFinished = finished;
      raw.destroyed = true;
      raw.emit('close');
    },
  };
}

describe('clientAbort', () => {
  it('aborts the signal and tells its listeners when the client leaves before the response is complete', () => {
    const { reply, close } = fakeReply();
    const abort = clientAbort(reply);
    const told: unknown[] = [];
    abort.onAbort((reason) => told.push(reason));
    close(false);
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toMatchObject({ name: 'AbortError' });
    expect(abort.aborted).toBe(true);
    expect(abort.reason).toBe(abort.signal.reason);
    expect(told).toEqual([abort.signal.reason]);
  });

  it('is aborted at once when the client left before it was made (during an earlier async hook)', () => {
    const shutdown = new AbortController();
    const { reply, close } = fakeReply();
    close(false);
    const abort = clientAbort(reply, shutdown.signal);
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toMatchObject({ name: 'AbortError' });
    // not left among the requests a shutdown would abort
    const reason = new Error('shutting down');
    shutdown.abort(reason);
    expect(abort.signal.reason).not.toBe(reason);
  });

  it('does not abort once the response has finished', () => {
    const { reply, close } = fakeReply();
    const abort = clientAbort(reply);
    close(true);
    expect(abort.signal.aborted).toBe(false);
    expect(abort.aborted).toBe(false);
  });

  it('aborts every request in flight with the shutdown reason, and none that already closed', () => {
    const shutdown = new AbortController();
    const first = fakeReply();
    const second = fakeReply();
    const done = fakeReply();
    const inFlight = [clientAbort(first.reply, shutdown.signal), clientAbort(second.reply, shutdown.signal)];
    const finished = clientAbort(done.reply, shutdown.signal);
    const told: unknown[] = [];
    for (const abort of inFlight) abort.onAbort((reason) => told.push(reason));
    const unsubscribed = inFlight[0]?.onAbort(() => told.push('unsubscribed'));
    unsubscribed?.();
    done.close(true);
    const reason = new Error('shutting down');
    shutdown.abort(reason);
    expect(inFlight.map((abort) => abort.signal.reason as unknown)).toEqual([reason, reason]);
    expect(told).toEqual([reason, reason]);
    expect(finished.signal.aborted).toBe(false);
    // a request arriving after the shutdown fired is aborted at once
    expect(clientAbort(fakeReply().reply, shutdown.signal).signal.reason).toBe(reason);
  });

  describe('with a time limit', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it("aborts with the limit's reason once it passes before the response closed, and tells the listeners", () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const timedOut = new Error('too long');
      const abort = clientAbort(fakeReply().reply, undefined, { ms: 1_000, reason: () => timedOut });
      const told: unknown[] = [];
      abort.onAbort((reason) => told.push(reason));
      vi.advanceTimersByTime(999);
      expect(abort.aborted).toBe(false);
      vi.advanceTimersByTime(1);
      expect(abort.signal.reason).toBe(timedOut);
      expect(told).toEqual([timedOut]);
    });

    it('stops its timer when the response closes, finished or not', () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const finished = fakeReply();
      const done = clientAbort(finished.reply, undefined, { ms: 1_000, reason: () => new Error('too long') });
      const left = fakeReply();
      const gone = clientAbort(left.reply, undefined, { ms: 1_000, reason: () => new Error('too long') });
      finished.close(true);
      left.close(false);
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(1_000);
      expect(done.aborted).toBe(false);
      expect(gone.signal.reason).toMatchObject({ name: 'AbortError' });
    });
  });
});
