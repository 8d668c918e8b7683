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

/**
 * Gives reserved units back to a bottleneck reservoir, at once (a call arriving next can use
 * them), then takes back what overflows `limit`: units taken before the minute refreshed would
 * otherwise raise the refreshed reservoir above the limit. (A call waiting at that moment may
 * take the overflow before it is taken back.)
 */
function refund(limiter: Bottleneck, amount: number, limit: number): void {
  limiter
    .incrementReservoir(amount)
    .then((after) => {
      const overflow = Math.min(after - limit, amount);
      return overflow > 0 ? limiter.incrementReservoir(-overflow) : undefined;
    })
    .catch(() => undefined);
}

/** bottleneck's own options object of a job: its queue reads `weight` each time it tries to run the job. */
interface QueuedJob {
  readonly id: string;
  weight: number;
}

/** The job a watched limiter received last: bottleneck tells `received` listeners inside `schedule()`. */
let lastReceived: QueuedJob | undefined;
const watched = new WeakSet<Bottleneck>();

/** Schedules a job and returns bottleneck's options object of it (undefined if bottleneck did not say). */
function scheduleWatched(
  limiter: Bottleneck,
  weight: number,
): { job: QueuedJob | undefined; done: Promise<void> } {
  if (!watched.has(limiter)) {
    watched.add(limiter);
    limiter.on('received', (info) => {
      lastReceived = info.options;
    });
  }
  lastReceived = undefined;
  const done = limiter.schedule({ weight }, () => Promise.resolve());
  const job = lastReceived;
  lastReceived = undefined;
  return { job, done };
}

/** Whether bottleneck has yet to register a job: it is still in (or on its way into) the queue. */
function inQueue(limiter: Bottleneck, id: string): boolean {
  const status: string | null = limiter.jobStatus(id);
  return status === 'RECEIVED' || status === 'QUEUED';
}

/** A call's place in the queue for tokens. */
interface TokenWait {
  /** Settles when the tokens are taken (or the queue was full). */
  readonly granted: Promise<void>;
  /** The caller gave up: the wait leaves the queue taking nothing, or what it took goes back. */
  abandon(): void;
}

/**
 * Queues a call for `amount` tokens. bottleneck's FIFO queue has no way to take a job out, and a
 * job at its head asking for more than is left holds back every smaller one behind it until the
 * minute refreshes: so a job whose caller gave up weighs 0 from then on and leaves at the next
 * drain (started at once), taking nothing. The queue is each instance's own, Redis or not. The
 * weight is fixed once bottleneck registers the job (a drain under way when the caller gives up
 * registers the full amount), and exactly what was registered goes back.
 */
function waitForTokens(tokens: Bottleneck, amount: number, limit: number): TokenWait {
  const { job, done } = scheduleWatched(tokens, amount);
  let abandoned = false;
  // what bottleneck read last while the job waited: once it leaves the queue, what it took
  let weight = amount;
  if (job !== undefined) {
    const { id } = job;
    Object.defineProperty(job, 'weight', {
      configurable: true,
      enumerable: true,
      get: () => {
        if (inQueue(tokens, id)) weight = abandoned ? 0 : amount;
        return weight;
      },
    });
  }
  const granted = done.catch(queueFullIfDropped);
  return {
    granted,
    abandon: () => {
      abandoned = true;
      granted.then(
        () => {
          if (weight > 0) refund(tokens, weight, limit);
        },
        () => undefined,
      );
      // a drain, so it leaves now rather than when the next call arrives
      if (job !== undefined && inQueue(tokens, job.id)) tokens.incrementReservoir(0).catch(() => undefined);
    },
  };
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
      // a slot granted after we gave up is handed straight back, its request refunded
      slot.then(
        (late) => this.#giveBack(tier, late),
        () => undefined,
      );
      throw error;
    }
    const tokens = tier.tokens;
    const tokenLimit = this.#limits.tokensPerMinute;
    let amount = 0;
    if (tokens !== undefined && tokenLimit !== undefined && weight > 0) {
      amount = Math.min(Math.ceil(weight), tokenLimit);
      const wait = waitForTokens(tokens, amount, tokenLimit);
      try {
        await Promise.race([wait.granted, cancelled]);
      } catch (error) {
        wait.abandon();
        // no upstream call is made with the slot: its request goes back too
        this.#giveBack(tier, release);
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
        if (!unused) {
          release();
          return;
        }
        this.#giveBack(tier, release);
        if (tokens !== undefined && tokenLimit !== undefined && amount > 0)
          refund(tokens, amount, tokenLimit);
      },
    };
  }

  /** Gives a slot no upstream call was made with back, and its request to `requestsPerMinute`. */
  #giveBack(tier: BottleneckTier, release: () => void): void {
    release();
    const requestLimit = this.#limits.requestsPerMinute;
    if (requestLimit !== undefined) refund(tier.slots, 1, requestLimit);
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
