import { describe, expect, it } from 'vitest';
import { createRequestContext } from './request-context';
import { timeOrderedUuid } from './time-ordered-uuid';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('timeOrderedUuid', () => {
  it('is a version 7 UUID with the time in its first 48 bits', () => {
    const nowMs = Date.UTC(2026, 11, 1, 5, 30);
    const id = timeOrderedUuid(nowMs);
    expect(id).toMatch(UUID_V7);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(nowMs);
  });

  it('sorts ids of later milliseconds after earlier ones, so the request log index appends', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => timeOrderedUuid(1_764_566_400_000 + i * 7));
    expect([...ids].sort()).toEqual(ids);
  });

  it('differs within a millisecond, past a refill of its random bytes', () => {
    const ids = new Set(Array.from({ length: 5000 }, () => timeOrderedUuid(1_764_566_400_000)));
    expect(ids.size).toBe(5000);
    for (const id of ids) expect(id).toMatch(UUID_V7);
  });

  it('uses all four variant digits (two random bits)', () => {
    const variants = new Set(Array.from({ length: 400 }, () => timeOrderedUuid().charAt(19)));
    expect([...variants].sort()).toEqual(['8', '9', 'a', 'b']);
  });
});

describe('the default request id', () => {
  it('is a time-ordered UUID carrying the time the context started', () => {
    const context = createRequestContext();
    expect(context.requestId).toMatch(UUID_V7);
    expect(Number.parseInt(context.requestId.slice(0, 8) + context.requestId.slice(9, 13), 16)).toBe(
      context.startedAt,
    );
    expect(createRequestContext({ requestId: 'from-the-caller' }).requestId).toBe('from-the-caller');
  });
});
