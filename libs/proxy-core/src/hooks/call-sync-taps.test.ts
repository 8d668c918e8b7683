import { AsyncSeriesHook, AsyncSeriesWaterfallHook } from 'tapable';
import { describe, expect, it } from 'vitest';
import { runSeries, runWaterfall } from './call-sync-taps';

describe('runWaterfall', () => {
  it('hands the value through synchronous taps without a promise, as tapable would (undefined hands on what it was given)', async () => {
    const hook = new AsyncSeriesWaterfallHook<[number, string]>(['value', 'context']);
    const seen: Array<[number, string]> = [];
    hook.tap('double', (value, context) => {
      seen.push([value, context]);
      return value * 2;
    });
    hook.tap('look', (value, context) => {
      seen.push([value, context]);
      // a tap written in JavaScript may return nothing: the value goes on unchanged
      return undefined as unknown as number;
    });
    hook.tap('add', (value) => value + 1);
    expect(runWaterfall(hook, 5, 'c')).toBe(11);
    expect(seen).toEqual([
      [5, 'c'],
      [10, 'c'],
    ]);
    expect(await hook.promise(5, 'c')).toBe(11);
  });

  it('gives the value itself with no tap', () => {
    const hook = new AsyncSeriesWaterfallHook<[{ n: number }, string]>(['value', 'context']);
    const value = { n: 1 };
    expect(runWaterfall(hook, value, 'c')).toBe(value);
  });

  it("uses tapable's promise when a tap is asynchronous or the hook is intercepted", async () => {
    const promised = new AsyncSeriesWaterfallHook<[number, string]>(['value', 'context']);
    promised.tap('double', (value) => value * 2);
    promised.tapPromise('later', async (value) => value + 1);
    const result = runWaterfall(promised, 5, 'c');
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toBe(11);

    const intercepted = new AsyncSeriesWaterfallHook<[number, string]>(['value', 'context']);
    const calls: number[] = [];
    intercepted.intercept({ call: (value) => calls.push(value) });
    intercepted.tap('double', (value) => value * 2);
    const answer = runWaterfall(intercepted, 5, 'c');
    expect(answer).toBeInstanceOf(Promise);
    expect(await answer).toBe(10);
    expect(calls).toEqual([5]);
  });

  it('throws what a synchronous tap throws, and runs no later tap', () => {
    const hook = new AsyncSeriesWaterfallHook<[number, string]>(['value', 'context']);
    const later: number[] = [];
    hook.tap('refuse', () => {
      throw new Error('refused');
    });
    hook.tap('later', (value) => {
      later.push(value);
      return value;
    });
    expect(() => runWaterfall(hook, 5, 'c')).toThrow('refused');
    expect(later).toEqual([]);
  });
});

describe('runSeries', () => {
  it('runs synchronous taps in order and gives undefined, else a promise that waits for every tap', async () => {
    const hook = new AsyncSeriesHook<[number, string]>(['value', 'context']);
    const order: string[] = [];
    hook.tap('a', (value, context) => void order.push(`a${value}${context}`));
    hook.tap('b', () => void order.push('b'));
    expect(runSeries(hook, 1, 'c')).toBeUndefined();
    expect(order).toEqual(['a1c', 'b']);

    hook.tapPromise('later', async () => void order.push('later'));
    const waiting = runSeries(hook, 2, 'c');
    expect(waiting).toBeInstanceOf(Promise);
    await waiting;
    expect(order).toEqual(['a1c', 'b', 'a2c', 'b', 'later']);
  });

  it('throws what a synchronous tap throws', () => {
    const hook = new AsyncSeriesHook<[number, string]>(['value', 'context']);
    hook.tap('refuse', () => {
      throw new Error('refused');
    });
    expect(() => runSeries(hook, 1, 'c')).toThrow('refused');
  });
});
