import type Bottleneck from 'bottleneck';
import { SwitchyardError } from '../errors/switchyard-error';
import {
  closeBottleneckTier,
  closeRedisTier,
  createBottleneckTier,
  isDroppedJob,
  limitsTag,
  type BottleneckTier,
} from './bottleneck-tier';
import type { LimiterLink } from './limiter-link';
import { followAbort, type AbortSource } from './linked-abort-controller';
import type { TargetLimits } from './resilience-options';

/** A granted limiter slot; release it exactly when the upstream call (or stream) ends. */
export interface LimiterPermit {
  /**
   * Gives the slot back. `unused`: no upstream call was made with it (the circuit opened while it
   * waited), so its request and its tokens go back to the per-minute limits too.
   */
  release(unused?: boolean): void;
}

/** Why a limiter refused. */
export type LimiterRejection = 'queue_full' | 'max_wait' | 'aborted';

/** The upstream limiter of one target. bottleneck sits behind this interface. */
export interface TargetLimiter {
  /**
   * Waits for a concurrency slot, a request token and `weight` tokens; rejects with
   * `limiter_rejected` when the queue is full or the wait exceeds the maximum, and with
   * the cancellation's reason when it aborts while waiting (an AbortSignal, or an abort
   * source such as the request deadline, which then needs no AbortSignal made).
   */
  acquire(weight: number, cancellation: AbortSignal | AbortSource): Promise<LimiterPermit>;
  counts(): { running: number; queued: number };
  close(): Promise<void>;
}

/** Settings shared by every target limiter of a gateway. */
export interface TargetLimiterSettings {
  maxQueue: number;
  maxWaitMs: number;
}

/** The shared store went away while we waited on it. */
class SharedLost extends Error {}

class Cancelled extends Error {
  constructor(readonly reason: LimiterRejection) {
    super(reason);
  }
}

/** A job bottleneck dropped from a full queue: the call is refused with `queue_full`. */
function queueFullIfDropped(error: unknown): never {
  throw isDroppedJob(error) ? new Cancelled('queue_full') : error;
}

/** Schedules a job that holds its bottleneck slot until the returned release is called. */
function holdSlot(limiter: Bottleneck, weight: number): Promise<() => void> {
  return new Promise((resolve, reject) => {
    limiter
      .schedule({ weight }, () => new Promise<void>((done) => resolve(() => done())))
      .catch(queueFullIfDropped)
      .catch(reject);
  });
}

/** Gives reserved units back to a bottleneck reservoir. */
function refund(limiter: Bottleneck, amount: number): void {
  limiter.incrementReservoir(amount).catch(() => undefined);
}

/** A target limiter on bottleneck: local limits, or shared ones while the Redis link is up. */
export class BottleneckTargetLimiter implements TargetLimiter {
  readonly #target: string;
  readonly #limits: TargetLimits;
  readonly #settings: TargetLimiterSettings;
  readonly #link: LimiterLink | undefined;
  readonly #onReject: (reason: LimiterRejection) => void;
  readonly #local: BottleneckTier;
  #shared: BottleneckTier | undefined;
  #sharedEpoch = 0;
  #queued = 0;
  #running = 0;

  constructor(
    target: string,
    limits: TargetLimits,
    settings: TargetLimiterSettings,
    link: LimiterLink | undefined,
    onReject: (reason: LimiterRejection) => void,
  ) {
    this.#target = target;
    this.#limits = limits;
    this.#settings = settings;
    this.#link = link;
    this.#onReject = onReject;
    this.#local = createBottleneckTier(limits, { kind: 'local' }, () => undefined, this.#queueBound());
  }

  #tier(): BottleneckTier {
    const connection = this.#link?.sharedConnection();
    if (connection === undefined || this.#link === undefined) return this.#local;
    const link = this.#link;
    if (this.#shared === undefined || this.#sharedEpoch !== link.epoch) {
      // Redis may have lost its state while it was away: register afresh after every outage
      if (this.#shared !== undefined) void closeRedisTier(this.#shared, connection);
      this.#shared = createBottleneckTier(
        this.#limits,
        { kind: 'redis', connection, id: `${link.keyFor(this.#target)}:${limitsTag(this.#limits)}` },
        (error) => link.reportFailure(error),
        this.#queueBound(),
      );
      this.#sharedEpoch = link.epoch;
    }
    return this.#shared;
  }

  /** The queue bound of the tiers: none to wait in when no call may wait (`maxWaitMs` 0). */
  #queueBound(): number {
    return this.#settings.maxWaitMs === 0 ? 0 : this.#settings.maxQueue;
  }

  async acquire(weight: number, cancellation: AbortSignal | AbortSource): Promise<LimiterPermit> {
    // the queue bound is the tiers' own (createBottleneckTier): bottleneck refuses a call that
    // would wait behind maxQueue others, and only such a call
    this.#queued += 1;
    let cancel: (reason: Cancelled) => void = () => undefined;
    const cancelled = new Promise<never>((_resolve, reject) => {
      cancel = reject;
    });
    cancelled.catch(() => undefined);
    // with maxWaitMs 0 no call waits (none is queued): a timer of 0 would race the grant of a
    // call that runs at once, and refuse it
    const timer =
      this.#settings.maxWaitMs === 0
        ? undefined
        : setTimeout(() => cancel(new Cancelled('max_wait')), this.#settings.maxWaitMs);
    const onAbort = (): void => cancel(new Cancelled('aborted'));
    const unfollow = followAbort(cancellation, onAbort);
    try {
      const tier = this.#tier();
      if (tier === this.#local || this.#link === undefined)
        return await this.#acquireOn(tier, weight, cancelled);
      let loseShared: (error: SharedLost) => void = () => undefined;
      const lost = new Promise<never>((_resolve, reject) => {
        loseShared = reject;
      });
      lost.catch(() => undefined);
      // unsubscribed as soon as the shared attempt ends, so the link holds only calls in flight
      const unsubscribe = this.#link.onLocal(() => loseShared(new SharedLost()));
      try {
        return await this.#acquireOn(tier, weight, Promise.race([cancelled, lost]));
      } catch (error) {
        if (error instanceof Cancelled) throw error;
        // the shared store failed or went away: local limits for this call and from now on
        if (!(error instanceof SharedLost)) this.#link.reportFailure(error);
        return await this.#acquireOn(this.#local, weight, cancelled);
      } finally {
        unsubscribe();
      }
    } catch (error) {
      if (!(error instanceof Cancelled)) throw error;
      if (error.reason === 'aborted') throw cancellation.reason as Error;
      // with maxWaitMs 0 the queue is empty by design: a call that would wait is refused for it
      throw this.#reject(
        error.reason === 'queue_full' && this.#settings.maxWaitMs === 0 ? 'max_wait' : error.reason,
      );
    } finally {
      clearTimeout(timer);
      unfollow();
      this.#queued -= 1;
    }
  }

  async #acquireOn(tier: BottleneckTier, weight: number, cancelled: Promise<never>): Promise<LimiterPermit> {
    const slot = holdSlot(tier.slots, 1);
    let release: () => void;
    try {
      release = await Promise.race([slot, cancelled]);
    } catch (error) {
      // a slot granted after we gave up is handed straight back, its request token refunded
      slot.then(
        (late) => {
          late();
          if (this.#limits.requestsPerMinute !== undefined) refund(tier.slots, 1);
        },
        () => undefined,
      );
      throw error;
    }
    const tokens = tier.tokens;
    let amount = 0;
    if (tokens !== undefined && weight > 0) {
      amount = Math.min(Math.ceil(weight), this.#limits.tokensPerMinute ?? weight);
      const granted = tokens.schedule({ weight: amount }, () => Promise.resolve()).catch(queueFullIfDropped);
      try {
        await Promise.race([granted, cancelled]);
      } catch (error) {
        // the waiter keeps its place in the FIFO queue; when it is reached, its tokens come back
        granted.then(
          () => refund(tokens, amount),
          () => undefined,
        );
        release();
        throw error;
      }
    }
    this.#running += 1;
    let released = false;
    return {
      release: (unused = false) => {
        if (released) return;
        released = true;
        this.#running -= 1;
        release();
        if (!unused) return;
        if (this.#limits.requestsPerMinute !== undefined) refund(tier.slots, 1);
        if (tokens !== undefined && amount > 0) refund(tokens, amount);
      },
    };
  }

  #reject(reason: LimiterRejection): SwitchyardError {
    this.#onReject(reason);
    const why =
      reason === 'queue_full'
        ? `its queue is full (${this.#settings.maxQueue})`
        : `no slot was free within ${this.#settings.maxWaitMs} ms`;
    return new SwitchyardError(
      'limiter_rejected',
      `The upstream limiter of target "${this.#target}" refused the call: ${why}.`,
    );
  }

  counts(): { running: number; queued: number } {
    return { running: this.#running, queued: this.#queued };
  }

  /**
   * Stops the tiers' timers. Call it after the link's `close()`: a closed connection makes
   * bottleneck skip unregistering the shared tier in Redis (its keys expire by themselves),
   * which would otherwise unsubscribe on a subscriber that may be reconnecting.
   */
  async close(): Promise<void> {
    await closeBottleneckTier(this.#local);
    if (this.#shared !== undefined) await closeBottleneckTier(this.#shared);
  }
}
