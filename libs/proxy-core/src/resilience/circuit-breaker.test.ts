import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SwitchyardErrorCode } from '../errors/error-catalog';
import { SwitchyardError } from '../errors/switchyard-error';
import { createCircuitBreaker, type CircuitBreaker } from './circuit-breaker';
import type { BreakerState } from './resilience-events';

const settings = {
  errorThresholdPercentage: 50,
  volumeThreshold: 2,
  rollingWindowMs: 10_000,
  rollingBuckets: 10,
  resetTimeoutMs: 1_000,
};
const failWith = (code: SwitchyardErrorCode) => (): Promise<never> =>
  Promise.reject(new SwitchyardError(code, 'test'));
/** A translator's refusal, raised before anything was sent upstream. */
const refuseWith = (code: SwitchyardErrorCode) => (): Promise<never> =>
  Promise.reject(new SwitchyardError(code, 'test', { beforeSending: true }));

/** A breaker driven to half-open: three upstream failures, then the reset timeout. */
async function halfOpen(states: BreakerState[]): Promise<CircuitBreaker> {
  const breaker = createCircuitBreaker('t', settings, {
    onState: (state) => states.push(state),
    onReject: () => undefined,
  });
  for (let i = 0; i < 3; i++) await breaker.run(failWith('upstream_error')).catch(() => undefined);
  expect(breaker.state).toBe('open');
  await vi.advanceTimersByTimeAsync(settings.resetTimeoutMs);
  expect(breaker.state).toBe('half-open');
  return breaker;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('createCircuitBreaker', () => {
  it('a half-open probe ending in an adapter error with no upstream answer (it may follow one) opens the circuit again', async () => {
    vi.useFakeTimers();
    const states: BreakerState[] = [];
    const breaker = await halfOpen(states);
    await expect(breaker.run(failWith('upstream_bad_request'))).rejects.toMatchObject({
      code: 'upstream_bad_request',
    });
    expect(breaker.state).toBe('open');
    expect(states).toEqual(['open', 'half-open', 'open']);
    // probed again after the reset timeout; a real success closes it
    await vi.advanceTimersByTimeAsync(settings.resetTimeoutMs);
    await breaker.run(() => Promise.resolve('ok'));
    expect(breaker.state).toBe('closed');
    breaker.close();
  });

  it.each(['client_closed_request', 'request_timeout', 'limiter_rejected'] as const)(
    'a half-open probe that ended unanswered (%s) leaves the circuit half-open, the probe to the next call',
    async (code) => {
      vi.useFakeTimers();
      const states: BreakerState[] = [];
      const breaker = await halfOpen(states);
      await expect(breaker.run(failWith(code))).rejects.toMatchObject({ code });
      // the client left or its deadline passed before the target answered: nothing was learnt of
      // the target, so no reason to hold it off for another reset timeout (before, a client that
      // kept aborting held a recovered target's circuit open)
      expect(breaker.state).toBe('half-open');
      expect(breaker.probing).toBe(false);
      expect(() => breaker.assertAdmits()).not.toThrow();
      await expect(breaker.run(() => Promise.resolve('ok'))).resolves.toBe('ok');
      expect(breaker.state).toBe('closed');
      expect(states).toEqual(['open', 'half-open', 'closed']);
      breaker.close();
    },
  );

  it('a half-open probe that ended unanswered leaves the next probe to decide: a failure opens the circuit again', async () => {
    vi.useFakeTimers();
    const states: BreakerState[] = [];
    const breaker = await halfOpen(states);
    await breaker.run(failWith('client_closed_request')).catch(() => undefined);
    await expect(breaker.run(failWith('upstream_error'))).rejects.toMatchObject({ code: 'upstream_error' });
    expect(breaker.state).toBe('open');
    expect(states).toEqual(['open', 'half-open', 'open']);
    breaker.close();
  });

  it.each(['unsupported_feature', 'invalid_request'] as const)(
    'a half-open probe its adapter refused before sending (%s) leaves the circuit half-open, the probe to the next call',
    async (code) => {
      vi.useFakeTimers();
      const states: BreakerState[] = [];
      const breaker = await halfOpen(states);
      await expect(breaker.run(refuseWith(code))).rejects.toMatchObject({ code });
      // the target was not called: no trial was spent, nothing to reopen or close on
      expect(breaker.state).toBe('half-open');
      expect(breaker.probing).toBe(false);
      expect(() => breaker.assertAdmits()).not.toThrow();
      await expect(breaker.run(() => Promise.resolve('ok'))).resolves.toBe('ok');
      expect(breaker.state).toBe('closed');
      expect(states).toEqual(['open', 'half-open', 'closed']);
      breaker.close();
    },
  );

  it('a half-open probe that fails after its adapter refused an earlier call opens the circuit again', async () => {
    vi.useFakeTimers();
    const states: BreakerState[] = [];
    const breaker = await halfOpen(states);
    await breaker.run(refuseWith('unsupported_feature')).catch(() => undefined);
    await expect(breaker.run(failWith('upstream_error'))).rejects.toMatchObject({ code: 'upstream_error' });
    expect(breaker.state).toBe('open');
    expect(states).toEqual(['open', 'half-open', 'open']);
    breaker.close();
  });

  it('refusals before sending count as neither success nor failure in the rolling window', async () => {
    const breaker = createCircuitBreaker('t', settings, {
      onState: () => undefined,
      onReject: () => undefined,
    });
    // counted as calls that succeeded, three refusals would keep two failures at 40%, under the threshold
    for (let i = 0; i < 3; i++) await breaker.run(refuseWith('unsupported_feature')).catch(() => undefined);
    for (let i = 0; i < 2; i++) await breaker.run(failWith('upstream_error')).catch(() => undefined);
    expect(breaker.state).toBe('open');
    breaker.close();
  });

  it.each(['unsupported_feature', 'invalid_request'] as const)(
    'a half-open probe failing with %s not marked as refused before sending is counted: the adapter may have called the target',
    async (code) => {
      vi.useFakeTimers();
      const states: BreakerState[] = [];
      const breaker = await halfOpen(states);
      // a plugin adapter's error made after the upstream answered (a response it could not parse)
      await expect(breaker.run(failWith(code))).rejects.toMatchObject({ code });
      // the trial was spent and, with no upstream status, learnt nothing: open again, probe later
      expect(breaker.state).toBe('open');
      expect(states).toEqual(['open', 'half-open', 'open']);
      breaker.close();
    },
  );

  it('an invalid_request the upstream answered (it has an upstream status) counts as the target being up', async () => {
    vi.useFakeTimers();
    const states: BreakerState[] = [];
    const breaker = await halfOpen(states);
    const answered = new SwitchyardError('invalid_request', 'bad', { upstreamStatus: 400 });
    await expect(breaker.run(() => Promise.reject(answered))).rejects.toBe(answered);
    expect(breaker.state).toBe('closed');
    breaker.close();
  });

  it.each(['client_closed_request', 'request_timeout'] as const)(
    'a call fired before the circuit opened that ends in %s once it is half-open (a slow answer the client left) does not close it',
    async (code) => {
      vi.useFakeTimers();
      const states: BreakerState[] = [];
      const breaker = createCircuitBreaker('t', settings, {
        onState: (state) => states.push(state),
        onReject: () => undefined,
      });
      // a long generation, in flight while the target's other calls fail
      let give: (error: SwitchyardError) => void = () => undefined;
      const slow = breaker.run(() => new Promise<never>((_resolve, reject) => (give = reject)));
      for (let i = 0; i < 3; i++) await breaker.run(failWith('upstream_error')).catch(() => undefined);
      await vi.advanceTimersByTimeAsync(settings.resetTimeoutMs);
      expect(breaker.state).toBe('half-open');
      give(new SwitchyardError(code, 'gone'));
      await expect(slow).rejects.toMatchObject({ code });
      // nothing was learnt of the target: no probe ran, and the circuit must not let every call through
      expect(breaker.state).not.toBe('closed');
      expect(states).not.toContain('closed');
      breaker.close();
    },
  );

  it('with errorThresholdPercentage 100, opens when every call in the window failed, and only then', async () => {
    const breaker = createCircuitBreaker(
      't',
      { ...settings, errorThresholdPercentage: 100, volumeThreshold: 3 },
      { onState: () => undefined, onReject: () => undefined },
    );
    await breaker.run(() => Promise.resolve('ok'));
    for (let i = 0; i < 5; i++) await breaker.run(failWith('upstream_error')).catch(() => undefined);
    // one success among six calls: not every call failed
    expect(breaker.state).toBe('closed');
    breaker.close();
    const failing = createCircuitBreaker(
      't',
      { ...settings, errorThresholdPercentage: 100, volumeThreshold: 3 },
      { onState: () => undefined, onReject: () => undefined },
    );
    for (let i = 0; i < 3; i++) await failing.run(failWith('upstream_error')).catch(() => undefined);
    expect(failing.state).toBe('open');
    failing.close();
  });

  it('a half-open probe the upstream answered with a 4xx closes the circuit: the target is up', async () => {
    vi.useFakeTimers();
    const states: BreakerState[] = [];
    const breaker = await halfOpen(states);
    const answered = new SwitchyardError('upstream_bad_request', 'bad request', { upstreamStatus: 400 });
    await expect(breaker.run(() => Promise.reject(answered))).rejects.toBe(answered);
    expect(breaker.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
    breaker.close();
  });

  it('a non-counting error of a call fired while closed still counts as neither failure nor trip', async () => {
    const breaker = createCircuitBreaker('t', settings, {
      onState: () => undefined,
      onReject: () => undefined,
    });
    for (let i = 0; i < 5; i++) await breaker.run(failWith('client_closed_request')).catch(() => undefined);
    expect(breaker.state).toBe('closed');
    breaker.close();
  });

  it.each(['client_closed_request', 'request_timeout', 'limiter_rejected'] as const)(
    'a call that ended in %s without an answer from the target counts as neither success nor failure: it does not thin out the failures',
    async (code) => {
      const breaker = createCircuitBreaker(
        't',
        { ...settings, volumeThreshold: 4 },
        { onState: () => undefined, onReject: () => undefined },
      );
      // counted as successes, four calls that learnt nothing would keep four failures at 50%, not above it
      for (let i = 0; i < 4; i++) await breaker.run(failWith(code)).catch(() => undefined);
      const failed = new SwitchyardError('upstream_error', 'boom', { upstreamStatus: 500 });
      for (let i = 0; i < 4; i++) await breaker.run(() => Promise.reject(failed)).catch(() => undefined);
      expect(breaker.state).toBe('open');
      breaker.close();
    },
  );

  it('a 4xx the target answered counts as its success in the rolling window: the target is up', async () => {
    const breaker = createCircuitBreaker(
      't',
      { ...settings, volumeThreshold: 4 },
      { onState: () => undefined, onReject: () => undefined },
    );
    const answered = new SwitchyardError('upstream_bad_request', 'bad', { upstreamStatus: 400 });
    for (let i = 0; i < 4; i++) await breaker.run(() => Promise.reject(answered)).catch(() => undefined);
    const failed = new SwitchyardError('upstream_error', 'boom', { upstreamStatus: 500 });
    for (let i = 0; i < 4; i++) await breaker.run(() => Promise.reject(failed)).catch(() => undefined);
    // four failures among eight answers: 50%, not above the threshold
    expect(breaker.state).toBe('closed');
    breaker.close();
  });

  it('an adapter error with no upstream status and not refused before sending counts as a success in the rolling window: it may follow an answer', async () => {
    const breaker = createCircuitBreaker(
      't',
      { ...settings, volumeThreshold: 4 },
      { onState: () => undefined, onReject: () => undefined },
    );
    for (let i = 0; i < 4; i++) await breaker.run(failWith('invalid_request')).catch(() => undefined);
    for (let i = 0; i < 4; i++) await breaker.run(failWith('upstream_error')).catch(() => undefined);
    // four failures among eight calls: 50%, not above the threshold
    expect(breaker.state).toBe('closed');
    breaker.close();
  });

  it('a circuit its probe closed starts a fresh rolling window: the failures that opened it count no more', async () => {
    vi.useFakeTimers();
    const states: BreakerState[] = [];
    // a reset timeout shorter than the window: the failures that opened it are still in it at the close
    const fresh = { ...settings, resetTimeoutMs: 200, rollingWindowMs: 10_000, volumeThreshold: 4 };
    const breaker = createCircuitBreaker('t', fresh, {
      onState: (state) => states.push(state),
      onReject: () => undefined,
    });
    for (let i = 0; i < 4; i++) await breaker.run(failWith('upstream_error')).catch(() => undefined);
    expect(breaker.state).toBe('open');
    await vi.advanceTimersByTimeAsync(fresh.resetTimeoutMs);
    await expect(breaker.run(() => Promise.resolve('probe'))).resolves.toBe('probe');
    expect(breaker.state).toBe('closed');
    await breaker.run(() => Promise.resolve('ok'));
    await breaker.run(failWith('upstream_error')).catch(() => undefined);
    // two calls since the close, under the volume threshold (with the old window: 5 of 7 failed)
    expect(breaker.state).toBe('closed');
    // the fresh window still opens: 4 of 5 calls failed
    for (let i = 0; i < 3; i++) await breaker.run(failWith('upstream_error')).catch(() => undefined);
    expect(breaker.state).toBe('open');
    expect(states).toEqual(['open', 'half-open', 'closed', 'open']);
    breaker.close();
    // the instance the close replaced was shut down with its window's timer
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a circuit a probe the target answered with a 4xx closed starts a fresh rolling window', async () => {
    vi.useFakeTimers();
    const states: BreakerState[] = [];
    const breaker = await halfOpen(states);
    const answered = new SwitchyardError('upstream_bad_request', 'bad', { upstreamStatus: 400 });
    await breaker.run(() => Promise.reject(answered)).catch(() => undefined);
    expect(breaker.state).toBe('closed');
    // one failure since the close: under the volume threshold of 2 (with the old window: 4 of 5 failed)
    await breaker.run(failWith('upstream_error')).catch(() => undefined);
    expect(breaker.state).toBe('closed');
    await breaker.run(failWith('upstream_error')).catch(() => undefined);
    expect(breaker.state).toBe('open');
    breaker.close();
  });

  it('assertAdmits refuses with circuit_open while open and while the half-open probe runs', async () => {
    vi.useFakeTimers();
    let rejects = 0;
    const breaker = createCircuitBreaker('t', settings, {
      onState: () => undefined,
      onReject: () => (rejects += 1),
    });
    expect(() => breaker.assertAdmits()).not.toThrow();
    // two failures reach the volume threshold at 100%: open, with no refused call yet
    for (let i = 0; i < 2; i++) await breaker.run(failWith('upstream_error')).catch(() => undefined);
    expect(() => breaker.assertAdmits()).toThrow(expect.objectContaining({ code: 'circuit_open' }));
    await vi.advanceTimersByTimeAsync(settings.resetTimeoutMs);
    expect(() => breaker.assertAdmits()).not.toThrow();
    let finish: (value: string) => void = () => undefined;
    const probe = breaker.run(() => new Promise<string>((resolve) => (finish = resolve)));
    expect(() => breaker.assertAdmits()).toThrow(expect.objectContaining({ code: 'circuit_open' }));
    finish('ok');
    await probe;
    expect(() => breaker.assertAdmits()).not.toThrow();
    expect(rejects).toBe(2);
    breaker.close();
  });

  it.each(['upstream_error', 'upstream_bad_request'] as const)(
    'admits no other call while a half-open probe that failed with %s is being counted, before the circuit opens again',
    async (code) => {
      vi.useFakeTimers();
      const states: BreakerState[] = [];
      const breaker = await halfOpen(states);
      let settled = false;
      const probe = breaker
        .run(failWith(code))
        .catch(() => undefined)
        .finally(() => (settled = true));
      // look at every microtask turn between the probe's failure and the end of its run
      const admitted: number[] = [];
      for (let turn = 0; !settled; turn++) {
        try {
          breaker.assertAdmits();
          admitted.push(turn);
        } catch {
          // refused: the probe is still the circuit's only call
        }
        await Promise.resolve();
      }
      await probe;
      expect(admitted).toEqual([]);
      expect(breaker.state).toBe('open');
      expect(states).toEqual(['open', 'half-open', 'open']);
      breaker.close();
    },
  );

  describe('a call with a rest (a stream after its first content)', () => {
    /** A call whose result is out at once and whose rest settles when the test says. */
    function streamed(): {
      call: () => Promise<string>;
      rest: () => Promise<void>;
      end: (failure?: SwitchyardError) => void;
    } {
      let end: (failure?: SwitchyardError) => void = () => undefined;
      const rest = new Promise<void>((resolve, reject) => {
        end = (failure) => (failure === undefined ? resolve() : reject(failure));
      });
      return { call: () => Promise.resolve('head'), rest: () => rest, end: (failure) => end(failure) };
    }

    it('hands the result out before the rest settles, and counts a rest that fails for the target as a failure', async () => {
      const breaker = createCircuitBreaker('t', settings, {
        onState: () => undefined,
        onReject: () => undefined,
      });
      for (let i = 0; i < 2; i++) {
        const stream = streamed();
        // the result is out while the rest is still pending
        await expect(breaker.run(stream.call, stream.rest)).resolves.toBe('head');
        expect(breaker.state).toBe('closed');
        stream.end(new SwitchyardError('upstream_stream_error', 'broke mid-stream'));
        await stream.rest().catch(() => undefined);
      }
      // two streams that broke after their first content: 100% failures at the volume threshold
      await vi.waitFor(() => expect(breaker.state).toBe('open'));
      await expect(breaker.run(() => Promise.resolve('x'))).rejects.toMatchObject({ code: 'circuit_open' });
      breaker.close();
    });

    it.each(['client_closed_request', 'request_timeout'] as const)(
      'counts a rest that ends in %s (the client, not the target) as the success of the target that answered',
      async (code) => {
        const breaker = createCircuitBreaker('t', settings, {
          onState: () => undefined,
          onReject: () => undefined,
        });
        for (let i = 0; i < 4; i++) {
          const stream = streamed();
          await breaker.run(stream.call, stream.rest);
          stream.end(new SwitchyardError(code, 'gone'));
          await stream.rest().catch(() => undefined);
        }
        // the target answered each (its first content arrived): two that failed for the target
        // among four it answered stay under 50% (uncounted, the four would leave 2 of 2 failed)
        for (let i = 0; i < 2; i++) {
          const broken = streamed();
          await breaker.run(broken.call, broken.rest);
          broken.end(new SwitchyardError('upstream_stream_error', 'broke'));
          await broken.rest().catch(() => undefined);
        }
        await new Promise((resolve) => setImmediate(resolve));
        expect(breaker.state).toBe('closed');
        breaker.close();
      },
    );

    it('closes a half-open circuit when the probe has its result, without waiting for the rest', async () => {
      vi.useFakeTimers();
      const states: BreakerState[] = [];
      const breaker = await halfOpen(states);
      const probe = streamed();
      await expect(breaker.run(probe.call, probe.rest)).resolves.toBe('head');
      expect(breaker.state).toBe('closed');
      expect(() => breaker.assertAdmits()).not.toThrow();
      await expect(breaker.run(() => Promise.resolve('other'))).resolves.toBe('other');
      expect(states).toEqual(['open', 'half-open', 'closed']);
      // the probe's stream breaking later counts as a failure of the now closed circuit, in the
      // window it started at its close (the three failures that opened it count no more): 1 of 2
      probe.end(new SwitchyardError('upstream_stream_error', 'broke'));
      await probe.rest().catch(() => undefined);
      await vi.advanceTimersByTimeAsync(0);
      expect(states).toEqual(['open', 'half-open', 'closed']);
      // it was counted: one more failure makes 2 of 3
      await breaker.run(failWith('upstream_error')).catch(() => undefined);
      expect(states).toEqual(['open', 'half-open', 'closed', 'open']);
      breaker.close();
    });

    it('behaves as a whole call when the rest is undefined (nothing was retained), and refuses while open', async () => {
      vi.useFakeTimers();
      const states: BreakerState[] = [];
      const breaker = await halfOpen(states);
      await expect(breaker.run(failWith('upstream_error'), () => undefined)).rejects.toMatchObject({
        code: 'upstream_error',
      });
      expect(breaker.state).toBe('open');
      const stream = streamed();
      await expect(breaker.run(stream.call, stream.rest)).rejects.toMatchObject({ code: 'circuit_open' });
      await vi.advanceTimersByTimeAsync(settings.resetTimeoutMs);
      await expect(
        breaker.run(
          () => Promise.resolve('ok'),
          () => undefined,
        ),
      ).resolves.toBe('ok');
      expect(breaker.state).toBe('closed');
      breaker.close();
    });

    it('lets a call through a breaker dropped before it ran, and awaits its failing rest (nothing unhandled)', async () => {
      const breaker = createCircuitBreaker('t', settings, {
        onState: () => undefined,
        onReject: () => undefined,
      });
      breaker.close();
      const stream = streamed();
      await expect(breaker.run(stream.call, stream.rest)).resolves.toBe('head');
      // left unawaited, this rejection would be unhandled: vitest fails the run on it, Node exits
      stream.end(new SwitchyardError('upstream_stream_error', 'broke'));
      await new Promise((resolve) => setImmediate(resolve));
      expect(breaker.state).toBe('closed');
    });

    it('reports nothing when a rest settles after the breaker was dropped', async () => {
      const states: BreakerState[] = [];
      const breaker = createCircuitBreaker(
        't',
        { ...settings, volumeThreshold: 1 },
        {
          onState: (state) => states.push(state),
          onReject: () => undefined,
        },
      );
      const stream = streamed();
      await breaker.run(stream.call, stream.rest);
      breaker.close();
      stream.end(new SwitchyardError('upstream_stream_error', 'broke'));
      await stream.rest().catch(() => undefined);
      await new Promise((resolve) => setImmediate(resolve));
      expect(states).toEqual([]);
    });

    it.each([undefined, 'upstream_stream_error', 'client_closed_request'] as const)(
      'a stream that began before the circuit opened and ends (%s) once it is half-open decides nothing: the probe does',
      async (code) => {
        vi.useFakeTimers();
        const states: BreakerState[] = [];
        const breaker = createCircuitBreaker('t', settings, {
          onState: (state) => states.push(state),
          onReject: () => undefined,
        });
        const stale = streamed();
        await breaker.run(stale.call, stale.rest);
        for (let i = 0; i < 3; i++) await breaker.run(failWith('upstream_error')).catch(() => undefined);
        await vi.advanceTimersByTimeAsync(settings.resetTimeoutMs);
        expect(breaker.state).toBe('half-open');
        stale.end(code === undefined ? undefined : new SwitchyardError(code, 'ended'));
        await stale.rest().catch(() => undefined);
        await vi.advanceTimersByTimeAsync(0);
        expect(breaker.state).toBe('half-open');
        await expect(breaker.run(() => Promise.resolve('probe'))).resolves.toBe('probe');
        expect(states).toEqual(['open', 'half-open', 'closed']);
        breaker.close();
      },
    );
  });
});
