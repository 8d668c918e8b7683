import { describe, expect, it, vi } from 'vitest';
import { SwitchyardError } from '../errors/switchyard-error';
import { startDeadline } from '../gateway/deadline';
import { AttemptTimer } from './attempt-timer';
import { AbortSourceController, followAbort, LinkedAbortController } from './linked-abort-controller';

describe('LinkedAbortController', () => {
  it('aborts with the parent’s reason when the parent aborts', () => {
    const parent = new AbortController();
    const linked = new LinkedAbortController(parent.signal);
    const reason = new SwitchyardError('overloaded', 'shutting down');
    parent.abort(reason);
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe(reason);
  });

  it('starts aborted when the parent already is', () => {
    const parent = new AbortController();
    parent.abort('gone');
    expect(new LinkedAbortController(parent.signal).signal.reason).toBe('gone');
  });

  it('keeps its own reason and stops following the parent once it aborted or unlinked', () => {
    const parent = new AbortController();
    const own = new LinkedAbortController(parent.signal);
    own.abort('mine');
    const unlinked = new LinkedAbortController(parent.signal);
    unlinked.unlink();
    parent.abort('parent');
    expect(own.signal.reason).toBe('mine');
    expect(unlinked.signal.aborted).toBe(false);
  });

  it('works without a parent', () => {
    const alone = new LinkedAbortController(undefined);
    alone.abort('x');
    expect(alone.signal.reason).toBe('x');
  });
});

describe('deadline and attempt timer signals', () => {
  it('a deadline follows its parent until cleared', () => {
    const parent = new AbortController();
    const deadline = startDeadline(60_000, 'request_timeout', 'late', parent.signal);
    parent.abort('client went away');
    expect(deadline.signal.reason).toBe('client went away');
    deadline.clear();
    const cleared = startDeadline(60_000, 'request_timeout', 'late', new AbortController().signal);
    cleared.clear();
    expect(cleared.signal.aborted).toBe(false);
  });

  it('an attempt timer reports its own timeout, not the request’s abort', () => {
    const request = new AbortController();
    const timer = new AttemptTimer(60_000, 'p', request.signal);
    request.abort(new SwitchyardError('request_timeout', 'late'));
    expect(timer.signal.aborted).toBe(true);
    expect(timer.timedOut).toBeUndefined();
    const own = new AttemptTimer(60_000, 'p', new AbortController().signal);
    const reason = new SwitchyardError('upstream_timeout', 'slow');
    own.abort(reason);
    expect(own.timedOut).toBe(reason);
    expect(own.signal.reason).toBe(reason);
    timer.dispose();
  });
});

describe('an attempt timer following a deadline directly (no deadline signal)', () => {
  it('aborts with the deadline’s reason when the deadline passes, and reads back the same reason from a late signal', () => {
    vi.useFakeTimers();
    try {
      const deadline = startDeadline(1_000, 'request_timeout', 'late', new AbortController().signal);
      const timer = new AttemptTimer(60_000, 'p', deadline);
      vi.advanceTimersByTime(1_000);
      expect(deadline.aborted).toBe(true);
      expect(timer.signal.aborted).toBe(true);
      expect(timer.signal.reason).toBeInstanceOf(SwitchyardError);
      expect((timer.signal.reason as SwitchyardError).code).toBe('request_timeout');
      expect(timer.timedOut).toBeUndefined();
      expect(deadline.signal.reason).toBe(timer.signal.reason);
      timer.dispose();
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops following the deadline once disposed, and a cleared deadline never fires', () => {
    vi.useFakeTimers();
    try {
      const client = new AbortController();
      const deadline = startDeadline(1_000, 'request_timeout', 'late', client.signal);
      const timer = new AttemptTimer(60_000, 'p', deadline);
      timer.dispose();
      client.abort('client went away');
      expect(deadline.reason).toBe('client went away');
      expect(timer.signal.aborted).toBe(false);
      const cleared = startDeadline(1_000, 'request_timeout', 'late');
      cleared.clear();
      vi.advanceTimersByTime(1_000);
      expect(cleared.aborted).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('AbortSourceController', () => {
  it('tells each listener once, with the reason the signal carries, whether the signal was read before or after', () => {
    const early = new AbortSourceController();
    const earlySignal = early.signal;
    const told: unknown[] = [];
    early.onAbort((reason) => told.push(reason));
    const dropped = early.onAbort(() => told.push('unsubscribed'));
    dropped();
    early.abort();
    early.abort(new Error('second'));
    expect(early.aborted).toBe(true);
    expect(early.reason).toMatchObject({ name: 'AbortError' });
    expect(earlySignal.reason).toBe(early.reason);
    expect(told).toEqual([early.reason]);

    const late = new AbortSourceController();
    const reason = new Error('gone');
    late.abort(reason);
    expect(late.signal.aborted).toBe(true);
    expect(late.signal.reason).toBe(reason);
  });

  it('forgets its listeners without telling them', () => {
    const source = new AbortSourceController();
    const told: unknown[] = [];
    source.onAbort((reason) => told.push(reason));
    source.forgetListeners();
    source.abort('done');
    expect(told).toEqual([]);
    expect(source.reason).toBe('done');
  });
});

describe('followAbort', () => {
  it('tells the listener at once, with the reason, when the parent has already aborted (a signal or a source)', () => {
    const signal = new AbortController();
    signal.abort('gone');
    const source = new AbortSourceController();
    source.abort('left');
    const told: unknown[] = [];
    followAbort(signal.signal, (reason) => told.push(reason))();
    followAbort(source, (reason) => told.push(reason))();
    expect(told).toEqual(['gone', 'left']);
  });

  it('tells the listener once when the parent aborts later, and not after it stopped following', () => {
    const followed = new AbortSourceController();
    const dropped = new AbortController();
    const told: unknown[] = [];
    followAbort(followed, (reason) => told.push(reason));
    followAbort(dropped.signal, (reason) => told.push(reason))();
    followed.abort('first');
    followed.abort('second');
    dropped.abort('never');
    expect(told).toEqual(['first']);
  });
});
