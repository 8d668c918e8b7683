import CircuitBreakerImpl from 'opossum';
import { SwitchyardError } from '../errors/switchyard-error';
import { countsAsBreakerFailure } from './breaker-failure';
import type { BreakerState } from './resilience-events';

/** A circuit breaker around calls to one target. opossum sits behind this interface. */
export interface CircuitBreaker {
  readonly state: BreakerState;
  /** Whether a half-open circuit's single probe is running. */
  readonly probing: boolean;
  /**
   * Runs `call` unless the circuit is open; then rejects with `circuit_open` without
   * running it. While half-open, a single probe runs and every other call is refused.
   *
   * `rest`, asked once `call` has resolved, is what remains of the call past its result (a
   * stream's rest): the result is handed out at once, and the call counts as the target's
   * success or failure when `rest` settles, so a stream that breaks after its first content
   * counts as the failure it is (in the rolling window's bucket of its end; its call was
   * counted in the bucket of its start). A half-open circuit closes when the probe's result
   * arrives, as it would for a whole answer, rather than refusing every other call for the
   * stream's length; a stream still running when the circuit opens counts no more (it began
   * before the open, and its end must not decide the half-open probe).
   */
  run<T>(call: () => Promise<T>, rest?: () => Promise<void> | undefined): Promise<T>;
  /**
   * Throws `circuit_open` when `run` would refuse a call now (open, or half-open with its probe
   * running), so a caller can check before it spends a limiter slot on a call that cannot run.
   */
  assertAdmits(): void;
  /** Stops the breaker's timers; calls it runs afterwards pass through uncounted. */
  close(): void;
}

/** Settings of one breaker, defaults applied. */
export interface CircuitBreakerSettings {
  errorThresholdPercentage: number;
  volumeThreshold: number;
  rollingWindowMs: number;
  rollingBuckets: number;
  resetTimeoutMs: number;
}

/** What a breaker reports. */
export interface CircuitBreakerListener {
  onState(state: BreakerState, previous: BreakerState): void;
  onReject(): void;
}

type Call = () => Promise<unknown>;

function circuitOpen(target: string, cause?: unknown): SwitchyardError {
  return new SwitchyardError(
    'circuit_open',
    `The circuit of target "${target}" is open; no upstream call was made.`,
    { cause },
  );
}

/** Whether an error is the upstream's own answer (it has a status), not a refusal before or around the call. */
function upstreamAnswered(error: unknown): boolean {
  return typeof (error as { upstreamStatus?: unknown } | null)?.upstreamStatus === 'number';
}

/**
 * opossum opens when the failure rate is above its threshold, so a threshold of 100 would never
 * open: 100 means "when every call in the window failed", a rate just under it opens then (and
 * never for one success among any count of calls a window holds).
 */
function openingRate(percentage: number): number {
  return percentage >= 100 ? 100 - 1e-9 : percentage;
}

/** Returns `result` once the rest of its call, if any, is being awaited with nothing to learn from it. */
function ignoreRest<T>(rest: () => Promise<void> | undefined, result: T): T {
  rest()?.catch(() => undefined);
  return result;
}

/** A breaker for one target, backed by opossum 9 with its own timeout disabled (attempt timeouts are ours). */
export function createCircuitBreaker(
  target: string,
  settings: CircuitBreakerSettings,
  listener: CircuitBreakerListener,
): CircuitBreaker {
  const breaker = new CircuitBreakerImpl<[Call], unknown>((call: Call) => call(), {
    name: target,
    timeout: false,
    errorThresholdPercentage: openingRate(settings.errorThresholdPercentage),
    volumeThreshold: settings.volumeThreshold,
    rollingCountTimeout: settings.rollingWindowMs,
    rollingCountBuckets: settings.rollingBuckets,
    resetTimeout: settings.resetTimeoutMs,
    // true means "not a failure" to opossum, which then counts a success
    errorFilter: (error: unknown) => {
      if (countsAsBreakerFailure(error)) return false;
      // a call the upstream answered (a 4xx: the request was bad, the target is up) closes a
      // half-open circuit; opossum would close it on any other "success" too, yet such a call
      // learnt nothing about the target (the client left, the limiter refused): open again, probe
      // later. So too for a call fired before the circuit opened (a long generation whose client
      // left once the circuit was half-open): opossum cannot keep it half-open, and closing it
      // would let every call through to a target no probe has found up
      if (breaker.halfOpen && !upstreamAnswered(error)) breaker.open();
      return true;
    },
    // the open/close decision reads only the rolling counts of fires and failures; latency
    // percentiles would keep every call's latency in the window and sort them all on each
    // failure, and snapshots would rebuild that every bucket interval with no one listening
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
  });
  const refusal = (error: unknown): never => {
    if ((error as { code?: unknown } | null)?.code === 'EOPENBREAKER') throw circuitOpen(target, error);
    throw error;
  };
  let state: BreakerState = 'closed';
  let shut = false;
  const move = (next: BreakerState): void => {
    if (next === state) return;
    const previous = state;
    state = next;
    listener.onState(next, previous);
  };
  // the rests of the streams in flight past their result: each stops being waited for when the
  // circuit opens. Such a stream began before the circuit opened; its end must neither close the
  // half-open circuit (no probe ran) nor open it again (no probe failed), which opossum would do
  // with the outcome of any call it is still waiting for
  const carried = new Set<() => void>();
  breaker.on('open', () => {
    move('open');
    for (const detach of carried) detach();
    carried.clear();
  });
  breaker.on('halfOpen', () => move('half-open'));
  breaker.on('close', () => move('closed'));
  breaker.on('reject', () => listener.onReject());

  return {
    get state() {
      return state;
    },
    get probing() {
      // opossum lets one call through a half-open circuit and stops pending the close meanwhile
      return breaker.halfOpen && !breaker.pendingClose;
    },
    run<T>(call: () => Promise<T>, rest?: () => Promise<void> | undefined): Promise<T> {
      // a breaker dropped while a call waited for its limiter slot lets that call through, and
      // its rest goes uncounted (though awaited: a stream's failure must not go unhandled)
      if (shut) return rest === undefined ? call() : call().then((result) => ignoreRest(rest, result));
      if (rest === undefined) return (breaker.fire(call) as Promise<T>).catch(refusal);
      // the result goes out as soon as there is a rest to wait for; the fire settles after it
      let handOut: (result: T) => void = () => undefined;
      const handedOut = new Promise<T>((resolve) => (handOut = resolve));
      const whole = async (): Promise<T> => {
        const result = await call();
        const remaining = rest();
        if (remaining === undefined) return result;
        handOut(result);
        if (breaker.halfOpen) breaker.close();
        let detach: () => void = () => undefined;
        const detached = new Promise<void>((resolve) => (detach = resolve));
        carried.add(detach);
        try {
          await Promise.race([remaining, detached]);
        } finally {
          carried.delete(detach);
        }
        return result;
      };
      // once the result is out, the fire's failure (the rest's) is the breaker's alone
      return Promise.race([handedOut, (breaker.fire(whole) as Promise<T>).catch(refusal)]);
    },
    assertAdmits() {
      if (breaker.closed || breaker.pendingClose) return;
      listener.onReject();
      throw circuitOpen(target);
    },
    close() {
      shut = true;
      breaker.shutdown();
    },
  };
}
