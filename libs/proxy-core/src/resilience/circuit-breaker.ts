import CircuitBreakerImpl from 'opossum';
import { SwitchyardError } from '../errors/switchyard-error';
import { countsAsBreakerFailure } from './breaker-failure';
import type { BreakerState } from './resilience-events';

/** A circuit breaker around calls to one target. opossum sits behind this interface. */
export interface CircuitBreaker {
  readonly state: BreakerState;
  /**
   * Runs `call` unless the circuit is open; then rejects with `circuit_open` without
   * running it. While half-open, a single probe runs and every other call is refused.
   */
  run<T>(call: () => Promise<T>): Promise<T>;
  /** Stops the breaker's timers. */
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

/** A breaker for one target, backed by opossum 9 with its own timeout disabled (attempt timeouts are ours). */
export function createCircuitBreaker(target: string, settings: CircuitBreakerSettings, listener: CircuitBreakerListener): CircuitBreaker {
  const breaker = new CircuitBreakerImpl<[Call], unknown>((call: Call) => call(), {
    name: target,
    timeout: false,
    errorThresholdPercentage: settings.errorThresholdPercentage,
    volumeThreshold: settings.volumeThreshold,
    rollingCountTimeout: settings.rollingWindowMs,
    rollingCountBuckets: settings.rollingBuckets,
    resetTimeout: settings.resetTimeoutMs,
    // true means "not a failure" to opossum
    errorFilter: (error: unknown) => !countsAsBreakerFailure(error),
    // the open/close decision reads only the rolling counts of fires and failures; latency
    // percentiles would keep every call's latency in the window and sort them all on each
    // failure, and snapshots would rebuild that every bucket interval with no one listening
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
  });
  let state: BreakerState = 'closed';
  const move = (next: BreakerState): void => {
    if (next === state) return;
    const previous = state;
    state = next;
    listener.onState(next, previous);
  };
  breaker.on('open', () => move('open'));
  breaker.on('halfOpen', () => move('half-open'));
  breaker.on('close', () => move('closed'));
  breaker.on('reject', () => listener.onReject());

  return {
    get state() {
      return state;
    },
    async run<T>(call: () => Promise<T>): Promise<T> {
      try {
        return (await breaker.fire(call)) as T;
      } catch (error) {
        if ((error as { code?: unknown } | null)?.code === 'EOPENBREAKER') {
          throw new SwitchyardError('circuit_open', `The circuit of target "${target}" is open; no upstream call was made.`, { cause: error });
        }
        throw error;
      }
    },
    close() {
      breaker.shutdown();
    },
  };
}
