import { describe, expect, it } from 'vitest';
import { RecencyMap } from './recency-map';

interface Slot {
  busy: boolean;
}

const slots = (maxEntries: number, dropped: Slot[] = []): RecencyMap<Slot> =>
  new RecencyMap<Slot>({ maxEntries, isIdle: (slot) => !slot.busy, onDrop: (slot) => dropped.push(slot) });

describe('RecencyMap', () => {
  it('makes an entry once and gives the same one back', () => {
    const map = slots(4);
    const made = map.use('a', () => ({ busy: false }));
    expect(map.use('a', () => ({ busy: true }))).toBe(made);
    expect(map.peek('a')).toBe(made);
    expect(map.peek('b')).toBeUndefined();
    expect(map.size).toBe(1);
  });

  it('drops idle entries, least recently used first, releasing each, to stay within its bound', () => {
    const dropped: Slot[] = [];
    const map = slots(2, dropped);
    const a = map.use('a', () => ({ busy: false }));
    map.use('b', () => ({ busy: false }));
    // past half full: using `a` makes `b` the least recently used
    map.use('a', () => ({ busy: false }));
    map.use('c', () => ({ busy: false }));
    expect([...map.entries()].map(([key]) => key)).toEqual(['a', 'c']);
    expect(dropped).toHaveLength(1);
    expect(map.peek('a')).toBe(a);
  });

  it('keeps a busy entry however old, and goes past its bound rather than drop one', () => {
    const dropped: Slot[] = [];
    const map = slots(2, dropped);
    map.use('busy-1', () => ({ busy: true }));
    map.use('busy-2', () => ({ busy: true }));
    map.use('idle', () => ({ busy: false }));
    expect(map.size).toBe(3);
    expect(dropped).toEqual([]);
    map.use('next', () => ({ busy: false }));
    expect([...map.entries()].map(([key]) => key)).toEqual(['busy-1', 'busy-2', 'next']);
  });

  it('does not mark an entry as used when it is only looked at (peek)', () => {
    const map = slots(2);
    map.use('a', () => ({ busy: false }));
    map.use('b', () => ({ busy: false }));
    map.peek('a');
    map.use('c', () => ({ busy: false }));
    expect([...map.values()]).toHaveLength(2);
    expect(map.peek('a')).toBeUndefined();
  });
});
