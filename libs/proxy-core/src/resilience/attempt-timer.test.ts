import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AttemptTimer } from './attempt-timer';

const IDLE_MS = 1_000;

function timedOut(timer: AttemptTimer): string | undefined {
  return timer.signal.aborted ? timer.timedOut?.message : undefined;
}

describe('AttemptTimer idle deadline', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('times out a wait for the next chunk that lasts the idle timeout', () => {
    const timer = new AttemptTimer(60_000, 'p');
    timer.clear();
    timer.armIdle(IDLE_MS);
    vi.advanceTimersByTime(IDLE_MS - 1);
    expect(timer.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(timedOut(timer)).toBe(`Provider "p" sent nothing for ${IDLE_MS} ms mid-stream.`);
    expect(timer.timedOut?.code).toBe('upstream_timeout');
  });

  it('counts each wait from its own start, however long earlier chunks took to arrive', () => {
    const timer = new AttemptTimer(60_000, 'p');
    timer.clear();
    for (let chunk = 0; chunk < 5; chunk++) {
      timer.armIdle(IDLE_MS);
      vi.advanceTimersByTime(IDLE_MS - 10);
      timer.disarmIdle();
    }
    expect(timer.signal.aborted).toBe(false);
    timer.armIdle(IDLE_MS);
    vi.advanceTimersByTime(IDLE_MS - 1);
    expect(timer.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(timer.timedOut?.code).toBe('upstream_timeout');
  });

  it('does not count the time between a chunk and the next wait (a slow consumer)', () => {
    const timer = new AttemptTimer(60_000, 'p');
    timer.clear();
    timer.armIdle(IDLE_MS);
    vi.advanceTimersByTime(10);
    timer.disarmIdle();
    vi.advanceTimersByTime(IDLE_MS * 5);
    expect(timer.signal.aborted).toBe(false);
    timer.armIdle(IDLE_MS);
    vi.advanceTimersByTime(IDLE_MS - 1);
    expect(timer.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(timer.timedOut?.code).toBe('upstream_timeout');
  });

  it('never fires once disposed', () => {
    const timer = new AttemptTimer(60_000, 'p');
    timer.clear();
    timer.armIdle(IDLE_MS);
    timer.dispose();
    vi.advanceTimersByTime(IDLE_MS * 10);
    expect(timer.signal.aborted).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('AttemptTimer upstream activity', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts the first-content deadline from the last activity, and says so when it passes', () => {
    const timer = new AttemptTimer(IDLE_MS, 'p');
    for (let read = 0; read < 5; read++) {
      vi.advanceTimersByTime(IDLE_MS - 10);
      timer.heard();
    }
    expect(timer.signal.aborted).toBe(false);
    vi.advanceTimersByTime(IDLE_MS - 1);
    expect(timer.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(timedOut(timer)).toBe(`Provider "p" sent no content and nothing else for ${IDLE_MS} ms.`);
  });

  it('still times out an upstream that never answers at the attempt timeout', () => {
    const timer = new AttemptTimer(IDLE_MS, 'p');
    vi.advanceTimersByTime(IDLE_MS);
    expect(timedOut(timer)).toBe(`Provider "p" did not answer within ${IDLE_MS} ms.`);
  });

  it('restarts a wait for the next chunk on activity that brought no chunk', () => {
    const timer = new AttemptTimer(60_000, 'p');
    timer.clear();
    timer.armIdle(IDLE_MS);
    for (let read = 0; read < 5; read++) {
      vi.advanceTimersByTime(IDLE_MS - 10);
      timer.heard();
    }
    expect(timer.signal.aborted).toBe(false);
    vi.advanceTimersByTime(IDLE_MS);
    expect(timedOut(timer)).toBe(`Provider "p" sent nothing for ${IDLE_MS} ms mid-stream.`);
  });

  it('is not kept alive by activity between waits (a slow consumer)', () => {
    const timer = new AttemptTimer(60_000, 'p');
    timer.clear();
    timer.heard();
    vi.advanceTimersByTime(IDLE_MS * 5);
    expect(timer.signal.aborted).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });
});
