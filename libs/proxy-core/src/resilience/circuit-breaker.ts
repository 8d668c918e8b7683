import CircuitBreakerImpl from 'opossum';
import { SwitchyardError } from '../errors/switchyard-error';
import { countsAsBreakerFailure } from './breaker-failure';
import { refusedBeforeSending } from './refused-before-sending';
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
   * A call counts in the rolling window when it settles, as the target's success or failure
   * (see `countsAsBreakerFailure`), unless its adapter refused it before sending anything
   * (`refusedBeforeSending`): that counts as neither, and a half-open probe so refused leaves the
   * circuit half-open with the probe to the next call. A call that began before the circuit last
   * opened counts no more: the probe decides a half-open circuit.
   *
   * `rest`, asked once `call` has resolved, is what remains of the call past its result (a
   * stream's rest): the result is handed out at once, and the call counts as the target's
   * success or failure when `rest` settles, so a stream that breaks after its first content
   * counts as the failure it is. A half-open circuit closes when the probe's result arrives, as
   * it would for a whole answer, rather than refusing every other call for the stream's length.
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

/** A call the breaker let through. */
interface Admission {
  /** How many times the circuit had opened when the call was let through. */
  readonly opening: number;
}

type Call = () => Promise<unknown>;

function circuitOpen(target: string): SwitchyardError {
  return new SwitchyardError(
    'circuit_open',
    `The circuit of target "${target}" is open; no upstream call was made.`,
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

/**
 * A breaker for one target, backed by opossum 9 with its own timeout disabled (attempt timeouts
 * are ours). Admission is decided here, from opossum's state; opossum is fired with each call's
 * outcome once the call has settled, so a call its adapter refused before sending never reaches
 * it (opossum counts whatever it runs as a success or a failure, and a half-open circuit's first
 * run as its probe).
 */
export function createCircuitBreaker(
  target: string,
  settings: CircuitBreakerSettings,
  listener: CircuitBreakerListener,
): CircuitBreaker {
  const breaker = new CircuitBreakerImpl<[Call], unknown>((outcome: Call) => outcome(), {
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
      // a probe the upstream answered (a 4xx: the request was bad, the target is up) closes a
      // half-open circuit; opossum would close it on any other "success" too, yet such a probe
      // learnt nothing about the target (the client left, the deadline passed): open again,
      // probe later
      if (breaker.halfOpen && !upstreamAnswered(error)) breaker.open();
      return true;
    },
    // the open/close decision reads only the rolling counts of fires and failures; latency
    // percentiles would keep every call's latency in the window and sort them all on each
    // failure, and snapshots would rebuild that every bucket interval with no one listening
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
  });
  let state: BreakerState = 'closed';
  let shut = false;
  // how many times the circuit opened: a call admitted before the last opening counts no more.
  // Its end must neither close a half-open circuit (no probe ran) nor open it again (no probe
  // failed), and only the probe may reach opossum while the circuit is half-open
  let openings = 0;
  // the half-open circuit's probe while it runs (opossum's own gate is not used: see run)
  let probe: Admission | undefined;
  const move = (next: BreakerState): void => {
    if (next === state) return;
    const previous = state;
    state = next;
    listener.onState(next, previous);
  };
  breaker.on('open', () => {
    openings += 1;
    probe = undefined;
    move('open');
  });
  breaker.on('halfOpen', () => move('half-open'));
  breaker.on('close', () => {
    probe = undefined;
    move('closed');
  });

  const admits = (): boolean => shut || breaker.closed || (breaker.halfOpen && probe === undefined);
  const admit = (): Admission => {
    if (!admits()) {
      listener.onReject();
      throw circuitOpen(target);
    }
    const admission: Admission = { opening: openings };
    if (breaker.halfOpen) probe = admission;
    return admission;
  };
  /** Counts a settled call, `failure` holding its error if it failed; never rejects. */
  const count = async (admission: Admission, failure?: { error: unknown }): Promise<void> => {
    const unfired =
      shut ||
      admission.opening !== openings ||
      (failure !== undefined && refusedBeforeSending(failure.error));
    if (unfired) {
      // nothing reaches opossum: a half-open circuit stays so, its probe to the next call
      if (probe === admission) probe = undefined;
      return;
    }
    // the call's own outcome, its error rethrown as it came: the error filter reads what run's caller gets
    const outcome = async (): Promise<void> => {
      if (failure !== undefined) throw failure.error;
    };
    // the probe stays set until its fire has settled: opossum counts it a few microtasks from now,
    // and a half-open circuit with no probe would let another call through in between. A fire
    // while half-open ends it either way (a success or a filtered error closes it, a failure or a
    // probe that learnt nothing opens it) and the close and open handlers drop the probe; the
    // fire rejects with the call's error, which run gives its caller itself
    await breaker.fire(outcome).catch(() => undefined);
    // should a fire ever leave the circuit half-open, the next call is its probe
    if (probe === admission) probe = undefined;
  };

  return {
    get state() {
      return state;
    },
    get probing() {
      return breaker.halfOpen && probe !== undefined;
    },
    async run<T>(call: () => Promise<T>, rest?: () => Promise<void> | undefined): Promise<T> {
      // a breaker dropped while a call waited for its limiter slot lets that call through, and
      // its rest goes uncounted (though awaited: a stream's failure must not go unhandled)
      if (shut) return rest === undefined ? call() : call().then((result) => ignoreRest(rest, result));
      const admission = admit();
      let result: T;
      try {
        result = await call();
      } catch (error) {
        await count(admission, { error });
        throw error;
      }
      const remaining = rest?.();
      if (remaining === undefined) {
        await count(admission);
        return result;
      }
      // the result goes out now, and a half-open circuit closes on it; the call counts (in the
      // closed circuit) when its rest settles
      if (probe === admission) {
        probe = undefined;
        breaker.close();
      }
      void remaining.then(
        () => count(admission),
        (error: unknown) => count(admission, { error }),
      );
      return result;
    },
    assertAdmits() {
      if (admits()) return;
      listener.onReject();
      throw circuitOpen(target);
    },
    close() {
      shut = true;
      breaker.shutdown();
    },
  };
}
