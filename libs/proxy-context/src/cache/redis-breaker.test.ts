import { describe, expect, it } from 'vitest';
import { RedisBreaker, type RedisTierState } from './redis-breaker';

function breaker(): { breaker: RedisBreaker; moves: string[]; advance(ms: number): void } {
  let clock = 0;
  const moves: string[] = [];
  const b = new RedisBreaker(
    { failureThreshold: 3, resetTimeoutMs: 1_000 },
    () => clock,
    (state: RedisTierState, previous: RedisTierState) => void moves.push(`${previous}>${state}`),
  );
  return { breaker: b, moves, advance: (ms) => void (clock += ms) };
}

describe('Redis tier breaker', () => {
  it('opens only on consecutive failures: a success in between starts the count again', () => {
    const { breaker: b, moves } = breaker();
    b.failed();
    b.failed();
    b.succeeded();
    b.failed();
    b.failed();
    expect(b.state).toBe('closed');
    b.failed();
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
    expect(moves).toEqual(['closed>open']);
  });

  it('lets one probe through after the reset time; its failure reopens, its success closes', () => {
    const { breaker: b, moves, advance } = breaker();
    for (let i = 0; i < 3; i++) b.failed();
    advance(999);
    expect(b.allow()).toBe(false);
    advance(1);
    expect(b.allow()).toBe(true);
    expect(b.allow()).toBe(false);
    b.failed();
    expect(b.state).toBe('open');
    advance(1_000);
    expect(b.allow()).toBe(true);
    b.succeeded();
    expect(b.state).toBe('closed');
    expect(b.allow()).toBe(true);
    expect(moves).toEqual([
      'closed>open',
      'open>half-open',
      'half-open>open',
      'open>half-open',
      'half-open>closed',
    ]);
  });
});
