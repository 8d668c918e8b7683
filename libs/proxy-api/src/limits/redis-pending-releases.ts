import type { Logger } from '@switchyard/proxy-core';

/** What a lease's release touches on Redis: its key's slots, its period's spend hash and reservation deadlines. */
export interface ReleaseKeys {
  slots: string;
  spend: string;
  holds: string;
}

/** The connection's `ready` event (ioredis): emitted when it is connected again. */
export interface ReadyEvents {
  on(event: 'ready', listener: () => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
}

/** Options of {@link PendingReleases}. */
export interface PendingReleasesOptions {
  /** Sends the releases of leases of one key and period (one script); resolves once Redis answered. */
  send: (keys: ReleaseKeys, ids: readonly string[]) => Promise<unknown>;
  /** The connection: pending releases are sent as soon as it is ready again. */
  readyEvents: ReadyEvents;
  /** How long a lease lasts on Redis without renewal (its ttl), ms: one pending that long has ended there. */
  ttlMs: number;
  /** Monotonic clock, ms. */
  now: () => number;
  /** A number in [0, 1) drawing the jitter of the retries. */
  random: () => number;
  logger: Logger;
}

/**
 * Longest wait before each retry of the pending releases, ms; every retry after the last of
 * these waits at most {@link RELEASE_RETRY_LAST_MAX_DELAY_MS}. Each wait is drawn at random below
 * its bound (full jitter): instances that lost Redis together do not all retry in the same
 * instant when it comes back.
 */
const RELEASE_RETRY_MAX_DELAYS_MS: readonly number[] = [200, 1_000, 3_000];
const RELEASE_RETRY_LAST_MAX_DELAY_MS = 5_000;

/** Leases whose release is kept pending at most: past it the oldest is left to end at its deadline. */
export const MAX_PENDING_RELEASES = 10_000;

/** Lease ids per release script: the releases of a busy key after a long outage go in several. */
const IDS_PER_SCRIPT = 1_000;

/** The wait before retry `attempt` (0-based) of the pending releases, ms. */
export function releaseRetryDelayMs(attempt: number, random: () => number): number {
  return Math.floor(random() * (RELEASE_RETRY_MAX_DELAYS_MS[attempt] ?? RELEASE_RETRY_LAST_MAX_DELAY_MS));
}

interface Pending {
  keys: ReleaseKeys;
  /** When the lease has surely ended on Redis by itself ({@link PendingReleasesOptions.now}'s clock). */
  until: number;
}

/**
 * The leases whose release Redis did not answer (a failed admission or settlement, a lease past
 * its lifetime), kept until a release is answered, so a short outage does not keep a key's
 * `max_parallel` slots and reservations taken until the leases' deadlines (15 minutes). They are
 * sent again when the connection is ready again, when Redis answers any other command of the
 * backend, and on a timer (retries with growing jittered waits, every 5 s at most); an admission
 * of the same key gives them back itself, first. A release is idempotent, so sending one again
 * is safe. Bounded: at most {@link MAX_PENDING_RELEASES}, and each only until its lease has
 * ended on Redis anyway.
 */
export class PendingReleases {
  readonly #options: PendingReleasesOptions;
  // by lease id, oldest first
  readonly #byId = new Map<string, Pending>();
  // by key (its slots), for the admissions of that key
  readonly #bySlots = new Map<string, Set<string>>();
  #timer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #sending: Promise<void> | undefined;
  #sendAgain = false;
  #listening = false;
  #droppedWarned = false;
  #closed = false;
  readonly #onReady = (): void => void this.sendNow();

  constructor(options: PendingReleasesOptions) {
    this.#options = options;
  }

  /** How many releases are pending (for tests and stats). */
  get size(): number {
    return this.#byId.size;
  }

  /** Keeps a release Redis did not answer, to be sent again. */
  add(keys: ReleaseKeys, id: string): void {
    if (this.#closed) return;
    if (this.#byId.size >= MAX_PENDING_RELEASES) this.#dropOldest();
    this.#byId.set(id, { keys, until: this.#options.now() + this.#options.ttlMs });
    let ids = this.#bySlots.get(keys.slots);
    if (ids === undefined) this.#bySlots.set(keys.slots, (ids = new Set()));
    ids.add(id);
    if (!this.#listening) {
      this.#options.readyEvents.on('ready', this.#onReady);
      this.#listening = true;
    }
    if (this.#sending === undefined && this.#timer === undefined) this.#schedule();
  }

  /** The ids pending on one key's slots, at most `max`: an admission of that key gives them back first. */
  ofSlots(slots: string, max: number): string[] {
    const ids = this.#bySlots.get(slots);
    if (ids === undefined) return [];
    const some: string[] = [];
    for (const id of ids) {
      if (some.length === max) break;
      some.push(id);
    }
    return some;
  }

  /**
   * Given back by an admission on `keys`: those of its period are released; those of another
   * period only had their slot given back (their reservation is in their period's hash) and stay.
   */
  releasedBy(keys: ReleaseKeys, ids: readonly string[]): void {
    for (const id of ids) if (this.#byId.get(id)?.keys.holds === keys.holds) this.#forget(id);
  }

  /**
   * Redis answered a command: the pending releases are sent now, not at the next retry. Not
   * again while a send is out: when part of Redis answers and part does not (a Cluster master
   * down), the requests' commands would otherwise resend the rest as fast as they fail.
   */
  answered(): void {
    if (this.#byId.size > 0 && this.#sending === undefined) void this.sendNow();
  }

  /**
   * Sends every pending release now; during a send it sends again once that ends (a connection
   * ready again: the send out may have gone to the old one). Resolves once answered or failed.
   */
  sendNow(): Promise<void> {
    if (this.#closed || this.#byId.size === 0) return this.#sending ?? Promise.resolve();
    if (this.#sending !== undefined) {
      this.#sendAgain = true;
      return this.#sending;
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const sending = this.#send().then((failed) => {
      this.#sending = undefined;
      if (this.#closed || this.#byId.size === 0) {
        this.#attempt = 0;
        return;
      }
      if (this.#sendAgain) {
        this.#sendAgain = false;
        void this.sendNow();
        return;
      }
      this.#attempt = failed ? this.#attempt + 1 : 0;
      this.#schedule();
    });
    this.#sending = sending;
    return sending;
  }

  /** Sends the pending releases once more, after the send in progress: on close. */
  async flush(): Promise<void> {
    await this.#sending;
    await this.sendNow();
  }

  /** Stops the retries; the leases still pending end at their deadlines. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#byId.clear();
    this.#bySlots.clear();
    this.#stopListening();
  }

  /** One script per key and period (a Redis Cluster keeps each key on its own slot), all at once. Resolves whether any failed. */
  async #send(): Promise<boolean> {
    const now = this.#options.now();
    const groups = new Map<string, { keys: ReleaseKeys; ids: string[] }>();
    for (const [id, pending] of this.#byId) {
      // it has ended on Redis by itself by now
      if (now >= pending.until) {
        this.#forget(id);
        continue;
      }
      const group = groups.get(pending.keys.holds);
      if (group === undefined) groups.set(pending.keys.holds, { keys: pending.keys, ids: [id] });
      else group.ids.push(id);
    }
    const batches: Array<{ keys: ReleaseKeys; ids: string[] }> = [];
    for (const { keys, ids } of groups.values())
      for (let i = 0; i < ids.length; i += IDS_PER_SCRIPT)
        batches.push({ keys, ids: ids.slice(i, i + IDS_PER_SCRIPT) });
    const outcomes = await Promise.allSettled(
      batches.map(async ({ keys, ids }) => this.#options.send(keys, ids)),
    );
    let failed = false;
    outcomes.forEach((outcome, index) => {
      if (outcome.status === 'rejected') failed = true;
      else for (const id of batches[index]?.ids ?? []) this.#forget(id);
    });
    return failed;
  }

  #schedule(): void {
    const delayMs = releaseRetryDelayMs(this.#attempt, this.#options.random);
    // holds no process alive
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.sendNow();
    }, delayMs);
    this.#timer.unref();
  }

  #forget(id: string): void {
    const pending = this.#byId.get(id);
    if (pending === undefined) return;
    this.#byId.delete(id);
    const ids = this.#bySlots.get(pending.keys.slots);
    ids?.delete(id);
    if (ids?.size === 0) this.#bySlots.delete(pending.keys.slots);
    if (this.#byId.size === 0) {
      this.#stopListening();
      this.#droppedWarned = false;
    }
  }

  #dropOldest(): void {
    const oldest = this.#byId.keys().next();
    if (oldest.done === true) return;
    this.#forget(oldest.value);
    if (this.#droppedWarned) return;
    // once until none is pending: an outage would otherwise log a line per request
    this.#droppedWarned = true;
    this.#options.logger.warn(
      { maxPendingReleases: MAX_PENDING_RELEASES },
      'too many limit leases wait for Redis to take their release: the oldest are left to end at their deadline (max_parallel slots and reservations held up to 15 minutes)',
    );
  }

  #stopListening(): void {
    if (!this.#listening) return;
    this.#options.readyEvents.off('ready', this.#onReady);
    this.#listening = false;
  }
}
