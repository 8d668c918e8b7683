import { describe, expect, it } from 'vitest';
import type { UsageSoFar } from './stream-usage-so-far';
import { usageSoFarOf, withUsageSoFar } from './stream-usage-so-far';

const source = (total: number): UsageSoFar => ({
  usageSoFar: () => ({ prompt_tokens: total, completion_tokens: 0, total_tokens: total }),
});

describe('withUsageSoFar', () => {
  it('stamps the stream itself, invisibly, and usageSoFarOf finds the source', () => {
    const stream = { kind: 'stream' };
    const first = source(1);
    expect(usageSoFarOf(stream)).toBeUndefined();
    expect(withUsageSoFar(stream, first)).toBe(stream);
    expect(usageSoFarOf(stream)).toBe(first);
    expect(Object.keys(stream)).toEqual(['kind']);
    expect(JSON.stringify(stream)).toBe('{"kind":"stream"}');
  });

  it('replaces the source of a stream stamped again, where adding the field twice would throw', () => {
    const stream = { kind: 'stream' };
    const second = source(2);
    withUsageSoFar(stream, source(1));
    expect(withUsageSoFar(stream, second)).toBe(stream);
    expect(usageSoFarOf(stream)?.usageSoFar()?.total_tokens).toBe(2);
  });
});
