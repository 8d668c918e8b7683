import { describe, expect, it } from 'vitest';
import { TailWindow } from './logs-tail-window';

const row = (id: string, ts: number): Record<string, unknown> => ({ id, ts, status: 200 });
const ids = (rows: readonly Readonly<Record<string, unknown>>[]): unknown[] => rows.map((r) => r['id']);

describe('TailWindow', () => {
  it('starts without a bound, then bounds the next poll at the newest ts seen minus the lookback', () => {
    const window = new TailWindow(5_000);
    expect(window.since).toBeUndefined();
    window.take([row('b', 20_000), row('a', 12_000)]);
    expect(window.since).toBe(15_000);
    // an older row never moves the bound back
    window.take([row('c', 16_000)]);
    expect(window.since).toBe(15_000);
  });

  it('returns each row once across overlapping polls, oldest first, a late row in the poll that finds it', () => {
    const window = new TailWindow(10_000);
    expect(ids(window.take([row('r3', 3_000), row('r1', 1_000)]))).toEqual(['r1', 'r3']);
    // the next poll's window holds the rows seen already, newest first as the API answers
    expect(ids(window.take([row('r5', 5_000), row('r3', 3_000), row('r1', 1_000)]))).toEqual(['r5']);
    // r2 arrived before r3 and r5 but was logged after them
    expect(
      ids(
        window.take([
          row('r6', 6_000),
          row('r5', 5_000),
          row('r3', 3_000),
          row('r2', 2_000),
          row('r1', 1_000),
        ]),
      ),
    ).toEqual(['r2', 'r6']);
    expect(
      ids(
        window.take([
          row('r6', 6_000),
          row('r5', 5_000),
          row('r3', 3_000),
          row('r2', 2_000),
          row('r1', 1_000),
        ]),
      ),
    ).toEqual([]);
    // the same millisecond: ordered by id, each once
    expect(ids(window.take([row('r7b', 7_000), row('r7a', 7_000), row('r7b', 7_000)]))).toEqual([
      'r7a',
      'r7b',
    ]);
  });

  it('forgets ids stamped before the next poll can reach, so a long tail keeps a flat set', () => {
    const window = new TailWindow(30_000);
    const sizes: number[] = [];
    let printed = 0;
    const all = new Set<string>();
    // an hour of one row every 100 ms, polled each second: every poll returns its whole window
    const rows: Record<string, unknown>[] = [];
    for (let second = 1; second <= 3_600; second += 1) {
      for (let tenth = 0; tenth < 10; tenth += 1)
        rows.push(row(`${second}.${tenth}`, second * 1_000 + tenth * 100));
      const since = window.since ?? 0;
      // the store's side: the rows stamped at or after the poll's bound
      while (rows.length > 0 && (rows[0]?.['ts'] as number) < since) rows.shift();
      const poll = [...rows].reverse();
      for (const fresh of window.take(poll)) {
        const id = fresh['id'] as string;
        expect(all.has(id)).toBe(false);
        all.add(id);
        printed += 1;
      }
      sizes.push(window.size);
    }
    expect(printed).toBe(36_000);
    // the rows of one lookback window: 30 s of 10 a second, and the newest one's
    expect(Math.max(...sizes)).toBe(301);
    expect(sizes.at(-1)).toBe(301);
  });

  it('refuses a negative or fractional lookback', () => {
    expect(() => new TailWindow(-1)).toThrow(RangeError);
    expect(() => new TailWindow(1.5)).toThrow(RangeError);
  });
});
