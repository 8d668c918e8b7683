import CircuitBreakerImpl from 'opossum';
import { SwitchyardError, isSwitchyardError } from '../errors/switchyard-error';
import { countsAsBreakerFailure } from './breaker-failure';
import { refusedBeforeSending } from './refused-before-sending';
import type { BreakerState } from './resilience-events';

/** A circuit breaker around calls to one target. opossum sits behind this interface. */
export interface CircuitBreaker {
  readonly state: BreakerState;
  /** Whether a half-open circuit's single probe is running. */
  readonly probing: boolean;
  /** Whether `run` would let a call through now (closed, or half-open with no probe running). */
  readonly admitting: boolean;
  /**
   * Runs `call` unless the circuit is open; then rejects with `circuit_open` without
   * running it. While half-open, a single probe runs and every other call is refused.
   *
   * A call counts in the rolling window when it settles: as the target's failure (see
   * `countsAsBreakerFailure`), else as its success (a result, an upstream 4xx, an adapter's error
   * that may follow an answer), unless it ended before the target answered for a reason not the
   * target's (the client left, the deadline passed, our limiter refused it) or its adapter refused
   * it before sending anything (`refusedBeforeSending`): those count as neither. A half-open probe
   * closes the circuit only on an answer (a result, an upstream status); one that ended before the
   * target answered for a reason not the target's (the client left, the deadline passed), or that
   * its adapter refused before sending, spent no trial: the circuit stays half-open with the probe
   * to the next call. Any other that ended with neither an answer nor a failure (an adapter's
   * error that may follow an answer) opens it again, to probe later. A
   * call that began before the circuit last opened counts no more: the probe decides a half-open
   * circuit. A circuit that closes starts a fresh window: the failures that opened it count no more.
   *
   * `rest`, asked once `call` has resolved, is what remains of the call past its result (a
   * stream's rest): the result is handed out at once, and the call counts as the target's
   * success or failure when `rest` settles, so a stream that breaks after its first content
   * counts as the failure it is, and one that ends as its client leaves counts as the success of
   * the target that answered. A half-open circuit closes when the probe's result arrives, as
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
 * Whether an error is one that ends a call before its target answered, for a reason not the
 * target's: the client left, the overall deadline passed, our limiter or breaker refused it. An
 * adapter's other errors with no upstream status (an `invalid_request` raised on a response it
 * could not read) may come after an answer.
 */
function endsUnanswered(error: unknown): boolean {
  return (
    isSwitchyardError(error) &&
    (error.code === 'client_closed_request' ||
      error.code === 'request_timeout' ||
      error.code === 'limiter_rejected' ||
      error.code === 'circuit_open')
  );
}

/** How a call that was let through failed. */
interface Failure {
  readonly error: unknown;
  /** Whether the target had answered before the error (a stream's first content). */
  readonly answered?: boolean;
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
 * outcome once the call has settled, and only with an outcome that tells of the target (opossum
 * counts whatever it runs as a success or a failure, and a half-open circuit's first run as its
 * probe). opossum keeps its rolling window when the circuit closes, and has no way to empty it:
 * each close replaces it with a new, closed instance.
 */
export function createCircuitBreaker(
  target: string,
  settings: CircuitBreakerSettings,
  listener: CircuitBreakerListener,
): CircuitBreaker {
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
  const createImpl = (): CircuitBreakerImpl<[Call], unknown> => {
    // opossum writes its defaults into the options it is given: each instance gets its own
    const created = new CircuitBreakerImpl<[Call], unknown>((outcome: Call) => outcome(), {
      name: target,
      timeout: false,
      errorThresholdPercentage: openingRate(settings.errorThresholdPercentage),
      volumeThreshold: settings.volumeThreshold,
      rollingCountTimeout: settings.rollingWindowMs,
      rollingCountBuckets: settings.rollingBuckets,
      resetTimeout: settings.resetTimeoutMs,
      // true means "not a failure" to opossum, which then counts a success: the errors that reach
      // it and are not the target's failures came with or after its answer (a 4xx; see count)
      errorFilter: (error: unknown) => !countsAsBreakerFailure(error),
      // the open/close decision reads only the rolling counts of fires and failures; latency
      // percentiles would keep every call's latency in the window and sort them all on each
      // failure, and snapshots would rebuild that every bucket interval with no one listening
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    created.on('open', () => {
      openings += 1;
      probe = undefined;
      move('open');
    });
    created.on('halfOpen', () => move('half-open'));
    created.on('close', () => {
      probe = undefined;
      // a fresh window: the failures that opened the circuit would still count, and with a reset
      // timeout shorter than the window one more failure would open it again. The closed instance
      // is done with: opossum's own close handling has run, and its pending fire settles as usual
      created.shutdown();
      breaker = createImpl();
      move('closed');
    });
    return created;
  };
  let breaker = createImpl();

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
  const count = async (admission: Admission, failure?: Failure): Promise<void> => {
    if (shut || admission.opening !== openings) {
      if (probe === admission) probe = undefined;
      return;
    }
    if (failure !== undefined && refusedBeforeSending(failure.error)) {
      // nothing reaches opossum: a half-open circuit stays so, its probe to the next call
      if (probe === admission) probe = undefined;
      return;
    }
    // an error that is no failure of the target, with no answer from it before or in it (a
    // stream's first content, an upstream status)
    const unanswered =
      failure !== undefined &&
      failure.answered !== true &&
      !countsAsBreakerFailure(failure.error) &&
      !upstreamAnswered(failure.error);
    // a probe the upstream answered (a 4xx: the request was bad, the target is up) closes a
    // half-open circuit, as opossum would on any error it is told is no failure; yet an
    // unanswered probe learnt nothing about the target. One that ended for a reason not the
    // target's (the client left, the deadline passed) spent no trial: nothing reaches opossum, the
    // circuit stays half-open with the probe to the next call, so a client that keeps leaving
    // early cannot hold a recovered target off for resetTimeoutMs at a time. Any other (an
    // adapter's error that may follow an answer) opens it again, to probe later (the open handler
    // drops the probe)
    if (unanswered && probe === admission) {
      if (endsUnanswered(failure.error)) probe = undefined;
      else breaker.open();
      return;
    }
    // a call that ended before the target could answer says nothing of it: counted, as opossum
    // counts whatever is no failure, as a success, it would thin out the target's failures
    if (unanswered && endsUnanswered(failure.error)) return;
    // the call's own outcome, its error rethrown as it came: the error filter reads what run's caller gets
    const outcome = async (): Promise<void> => {
      if (failure !== undefined) throw failure.error;
    };
    // the probe stays set until its fire has settled: opossum counts it a few microtasks from now,
    // and a half-open circuit with no probe would let another call through in between. A fire
    // while half-open ends it either way (a success or a 4xx closes it, a failure opens it) and
    // the close and open handlers drop the probe; the fire rejects with the call's error, which
    // run gives its caller itself
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
    get admitting() {
      return admits();
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
      // the target answered (the result is its first content): a rest that ends without a failure
      // of the target (the client left, the deadline passed) counts as its success
      void remaining.then(
        () => count(admission),
        (error: unknown) => count(admission, { error, answered: true }),
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
