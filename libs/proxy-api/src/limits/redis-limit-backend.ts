import { randomBytes } from 'node:crypto';
import { silentLogger, SwitchyardError, type Logger } from '@switchyard/proxy-core';
import type { RedisConnection } from '../redis/redis-connection';
import {
  LEASE_MAX_LIFETIME_MS,
  PARALLEL_TTL_MS,
  SPEND_MARKER_TTL_MS,
  WINDOW_MS,
  type AdmitPlan,
  type AdmitResult,
  type LimitBackend,
  type LimitName,
  type Lease,
  type Settlement,
  type UsageSnapshot,
} from './limit-backend';
import {
  ADD_SPEND_SCRIPT,
  ADMIT_SCRIPT,
  RELEASE_SCRIPT,
  RENEW_SCRIPT,
  SETTLE_SCRIPT,
  USAGE_SCRIPT,
} from './redis-limit-scripts';
import { PendingReleases } from './redis-pending-releases';
import { microsUp } from './usd-micros';

// estimates come as decimal strings (a Lua number in a reply would be cut to an integer)
type AdmitReply = [
  string,
  string,
  string,
  number,
  number,
  string,
  number,
  number,
  number,
  number,
  number,
  number,
];
type UsageReply = [string, number, string, number, number, number, number];

const SHADOW_ORDER: readonly LimitName[] = ['rpm', 'tpm', 'parallel', 'budget'];

/** Shortest interval between two log lines about failed lease renewals, ms. */
const RENEWAL_FAILURE_LOG_INTERVAL_MS = 60_000;

/** Pending releases of a key given back by one admission of it at most (the script's arguments stay small). */
const RELEASES_PER_ADMISSION = 100;

/** Debts added to a key's counter by one script at most: the replay of a long outage goes in several. */
const DEBTS_PER_SCRIPT = 1_000;

/** Spend counted elsewhere, owed to a key's counter: named, so that sending it twice counts it once. */
export interface SpendDebt {
  /**
   * Names the debt on Redis (its spend marker, a member of the period's `paid` set): the id of the lease whose settlement Redis did
   * not answer, or one the owing instance chose, unique across instances.
   */
  id: string;
  /** micro-USD */
  micros: number;
}

/** Options of {@link RedisLimitBackend}. */
export interface RedisLimitBackendOptions {
  /**
   * How long a lease holds its slot and reservation past its last renewal, ms: the live leases
   * of this instance are renewed every third of it, so only those of a dead instance (or
   * one cut off from Redis that long) end by it.
   * @default 900000 ({@link PARALLEL_TTL_MS})
   */
  leaseTtlMs?: number;
  /**
   * How long the spend marker of a settlement or a replayed debt lives (at least), ms: the same
   * spend sent again within it is not counted twice; a debt replayed later than that after it
   * landed (an instance cut off from Redis that long) is counted again, the safe side for a
   * budget. Each marker costs Redis about 125 bytes for that long.
   * @default 120000 ({@link SPEND_MARKER_TTL_MS})
   */
  spendMarkerTtlMs?: number;
  /**
   * How long a lease is renewed at most, from its admission, ms. A request that has not
   * settled by then is taken for a leaked handle (a bug that never settles it): its lease is
   * given back, with one warning and `onLeaseLifetimeExceeded`, so the key's `max_parallel`
   * slot is not lost until the process exits. A request that does still run then stops
   * holding its slot. Keep it above the longest request or stream you serve. At least
   * `leaseTtlMs`: a shorter lifetime gives back live leases sooner than a dead instance's end.
   * @default 3600000 ({@link LEASE_MAX_LIFETIME_MS})
   */
  maxLeaseLifetimeMs?: number;
  /** Warnings about leaked leases and failed renewals (key ids, never keys). @default silent */
  logger?: Logger;
  /** Monotonic clock of lease lifetimes and of the renewal warnings' rate, ms (for tests). @default performance.now */
  now?: () => number;
  /** A number in [0, 1) drawing the jitter of the retries of pending releases (for tests). @default Math.random */
  random?: () => number;
}

interface ScopeKeys {
  /** Hash { start, cur, prev }: the sliding window of admitted requests. */
  requests: string;
  /** Hash { start, cur, prev }: the sliding window of settled tokens. */
  tokens: string;
  /** Sorted set: lease id -> deadline, one member per parallel slot taken. */
  slots: string;
  /** Hash: `spent`, `held` (sum of reservations) and `r:<lease id>` (each lease's reservation). */
  spend: string;
  /** Sorted set: lease id -> deadline, one member per reservation. */
  holds: string;
  /** Sorted set: settlement or debt id -> deadline, one member per spend counted (its marker). */
  paid: string;
}

/** A lease this instance holds on Redis until it settles: renewed while it lives, up to a lifetime. */
interface LiveLease {
  keys: ScopeKeys;
  /** The key id the counters belong to (never the key itself): named in warnings. */
  scope: string;
  /** When renewal stops ({@link RedisLimitBackendOptions.now}'s clock). */
  renewUntil: number;
}

/**
 * Limits shared by every instance on one Redis: each admission is one atomic script. Leases
 * are named, so one that the client gave up on (a command timeout) can be given back safely.
 */
export class RedisLimitBackend implements LimitBackend {
  readonly kind = 'redis';
  /** Called for each lease given back at its maximum lifetime (metrics). */
  onLeaseLifetimeExceeded: (() => void) | undefined;
  /** Called for each failed renewal script (one per key and tick; metrics). */
  onRenewalFailure: (() => void) | undefined;
  readonly #redis: RedisConnection;
  readonly #leaseTtlMs: number;
  readonly #spendMarkerTtlMs: number;
  readonly #maxLifetimeMs: number;
  readonly #logger: Logger;
  readonly #now: () => number;
  // failed renewals not logged yet, and when the last line about them was written
  #unloggedRenewalFailures = 0;
  #renewalFailureLoggedAt: number | undefined;
  // lease ids: a random per-instance prefix and a counter, unique across instances without a UUID per request
  readonly #idPrefix = randomBytes(9).toString('base64url');
  #nextId = 0;
  // the leases admitted here and not yet settled, renewed by one timer for all of them
  readonly #live = new Map<string, LiveLease>();
  #renewTimer: NodeJS.Timeout | undefined;
  #renewing = false;
  // releases Redis did not answer, sent again until it does
  readonly #pending: PendingReleases;
  #closed = false;

  constructor(redis: RedisConnection, options: RedisLimitBackendOptions = {}) {
    this.#redis = redis;
    this.#leaseTtlMs = options.leaseTtlMs ?? PARALLEL_TTL_MS;
    this.#spendMarkerTtlMs = options.spendMarkerTtlMs ?? SPEND_MARKER_TTL_MS;
    this.#maxLifetimeMs = options.maxLeaseLifetimeMs ?? LEASE_MAX_LIFETIME_MS;
    for (const [name, value] of [
      ['leaseTtlMs', this.#leaseTtlMs],
      ['spendMarkerTtlMs', this.#spendMarkerTtlMs],
      ['maxLeaseLifetimeMs', this.#maxLifetimeMs],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 1)
        throw new SwitchyardError(
          'invalid_options',
          `RedisLimitBackend: ${name} must be a whole number of milliseconds, at least 1 (got ${String(value)}).`,
        );
    }
    if (this.#maxLifetimeMs < this.#leaseTtlMs) {
      throw new SwitchyardError(
        'invalid_options',
        `RedisLimitBackend: maxLeaseLifetimeMs (${this.#maxLifetimeMs}) must be at least leaseTtlMs (${this.#leaseTtlMs}): a shorter lifetime gives back the leases of requests still running, and max_parallel and budget reservations stop holding.`,
      );
    }
    this.#logger = options.logger ?? silentLogger;
    // the global clock, read at each call: fake timers that replace it move lifetimes too
    this.#now = options.now ?? (() => performance.now());
    this.#pending = new PendingReleases({
      send: (keys, ids) =>
        this.#redis.run((client) =>
          client.eval(RELEASE_SCRIPT, 3, keys.slots, keys.spend, keys.holds, ...ids),
        ),
      readyEvents: redis.client,
      ttlMs: this.#leaseTtlMs,
      now: this.#now,
      random: options.random ?? Math.random,
      logger: this.#logger,
    });
  }

  async admit(plan: AdmitPlan): Promise<AdmitResult> {
    const keys = this.#keys(plan.scope, plan.budgetPeriodId);
    const id = `${this.#idPrefix}.${(this.#nextId++).toString(36)}`;
    const shadow = SHADOW_ORDER.map((name) => (plan.shadow.has(name) ? '1' : '0')).join('');
    // leases of this key whose release failed are given back first, in the same script
    const releasing = this.#pending.ofSlots(keys.slots, RELEASES_PER_ADMISSION);
    let reply: AdmitReply;
    try {
      reply = (await this.#redis.run((client) =>
        client.eval(
          ADMIT_SCRIPT,
          5,
          keys.requests,
          keys.tokens,
          keys.slots,
          keys.spend,
          keys.holds,
          plan.rpm ?? -1,
          plan.tpm ?? -1,
          plan.parallel ?? -1,
          plan.budgetMicros ?? -1,
          plan.reserveMicros,
          plan.budgetExpiresAtMs ?? -1,
          shadow,
          WINDOW_MS,
          this.#leaseTtlMs,
          microsUp(plan.seedSpentMicros),
          id,
          microsUp(plan.owedSpendMicros ?? 0),
          ...releasing,
        ),
      )) as AdmitReply;
    } catch (error) {
      // a timed-out script may still run: the release queues behind it on the same connection
      if (holdsAnything(plan)) this.#release(keys, id);
      throw error;
    }
    if (releasing.length > 0) this.#pending.releasedBy(keys, releasing);
    this.#pending.answered();
    const [
      rejected,
      would,
      requests,
      requestsRetryMs,
      requestsResetMs,
      tokens,
      tokensRetryMs,
      tokensResetMs,
      inFlight,
      spent,
      reserved,
      admitted,
    ] = reply;
    if (admitted === 1 && holdsAnything(plan)) this.#track(id, keys, plan.scope);
    return {
      admitted: admitted === 1,
      rejectedBy: rejected === '' ? undefined : (rejected as LimitName),
      wouldReject: would === '' ? [] : (would.split(',') as LimitName[]),
      requests: {
        limit: plan.rpm,
        used: Number(requests),
        resetMs: requestsResetMs,
        retryAfterMs: requestsRetryMs,
      },
      tokens: { limit: plan.tpm, used: Number(tokens), resetMs: tokensResetMs, retryAfterMs: tokensRetryMs },
      inFlight,
      spentMicros: spent,
      reservedMicros: reserved,
      lease: admitted === 1 ? { plan, holdsSlot: plan.parallel !== null, backend: this, id } : undefined,
    };
  }

  /**
   * Settles a lease. When that fails the lease's slot and reservation are released once more
   * (idempotent), and again until Redis answers: a settlement that never ran then frees them
   * once Redis is back, not at the deadline. Its tokens and cost are not resent: the caller may
   * send the cost again with {@link addSpend} as a debt named by the lease's id, which adds it
   * only if the settlement did not (its marker, set by whichever ran first).
   */
  async settle(lease: Lease, actual: Settlement): Promise<void> {
    const { plan } = lease;
    const keys = this.#keys(plan.scope, plan.budgetPeriodId);
    const id = leaseId(lease);
    // no renewal from here on: a settlement that fails is released (until Redis answers), or expires
    this.#live.delete(id);
    try {
      await this.#settle(
        keys,
        id,
        Math.max(0, Math.round(actual.tokens)),
        microsUp(actual.costMicros),
        plan.budgetExpiresAtMs ?? -1,
      );
    } catch (error) {
      if (holdsAnything(plan)) this.#release(keys, id);
      throw error;
    }
    this.#pending.answered();
  }

  /**
   * Adds debts (spend counted elsewhere) to a key's period counter, each at most once while its
   * marker lives (`spendMarkerTtlMs`): one whose id a settlement or an earlier replay already counted
   * adds nothing. Resolves with the spend added, micro-USD.
   */
  async addSpend(
    scope: string,
    budgetPeriodId: string,
    debts: readonly SpendDebt[],
    expiresAtMs: number | null,
  ): Promise<number> {
    const keys = this.#keys(scope, budgetPeriodId);
    let added = 0;
    for (let i = 0; i < debts.length; i += DEBTS_PER_SCRIPT) {
      const batch = debts.slice(i, i + DEBTS_PER_SCRIPT);
      added += (await this.#redis.run((client) =>
        client.eval(
          ADD_SPEND_SCRIPT,
          2,
          keys.spend,
          keys.paid,
          expiresAtMs ?? -1,
          this.#spendMarkerTtlMs,
          ...batch.flatMap((debt) => [debt.id, microsUp(debt.micros)]),
        ),
      )) as number;
    }
    this.#pending.answered();
    return added;
  }

  async usage(scope: string, budgetPeriodId: string): Promise<UsageSnapshot> {
    const keys = this.#keys(scope, budgetPeriodId);
    const [requests, requestsResetMs, tokens, tokensResetMs, inFlight, spent, reserved] =
      (await this.#redis.run((client) =>
        client.eval(
          USAGE_SCRIPT,
          5,
          keys.requests,
          keys.tokens,
          keys.slots,
          keys.spend,
          keys.holds,
          WINDOW_MS,
        ),
      )) as UsageReply;
    this.#pending.answered();
    return {
      requests: { limit: null, used: Number(requests), resetMs: requestsResetMs },
      tokens: { limit: null, used: Number(tokens), resetMs: tokensResetMs },
      inFlight,
      spentMicros: spent,
      reservedMicros: reserved,
    };
  }

  async ping(): Promise<void> {
    await this.#redis.ping();
  }

  /** Sends the releases Redis has not answered yet once more (on close). */
  async sendOwed(): Promise<void> {
    await this.#pending.flush();
  }

  async #settle(
    keys: ScopeKeys,
    id: string,
    tokens: number,
    costMicros: number,
    expiresAtMs: number,
  ): Promise<void> {
    await this.#redis.run((client) =>
      client.eval(
        SETTLE_SCRIPT,
        5,
        keys.tokens,
        keys.slots,
        keys.spend,
        keys.holds,
        keys.paid,
        tokens,
        id,
        costMicros,
        WINDOW_MS,
        expiresAtMs,
        this.#spendMarkerTtlMs,
      ),
    );
  }

  /** Stops renewing leases and retrying releases; the leases still held end at their deadlines. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#renewTimer);
    this.#renewTimer = undefined;
    this.#live.clear();
    this.#pending.close();
  }

  /** How many leases this instance holds on Redis and renews (for tests and stats). */
  get liveLeases(): number {
    return this.#live.size;
  }

  /** How many releases wait for Redis to answer (for tests and stats). */
  get pendingReleases(): number {
    return this.#pending.size;
  }

  #track(id: string, keys: ScopeKeys, scope: string): void {
    if (this.#closed) return;
    this.#live.set(id, { keys, scope, renewUntil: this.#now() + this.#maxLifetimeMs });
    if (this.#renewTimer === undefined) {
      // one timer per backend, whatever the number of requests; it keeps no process alive. The
      // lifetime is at least the ttl, so a lease is given back at most a third of a ttl past it
      this.#renewTimer = setInterval(() => this.#renew(), Math.max(1, Math.floor(this.#leaseTtlMs / 3)));
      this.#renewTimer.unref();
    }
  }

  /**
   * Moves the deadlines of this instance's live leases a ttl ahead: one script per key and
   * period (a Redis Cluster keeps each key's counters on its own slot), all written at once,
   * so one round trip. A renewal that fails is tried again at the next tick; a lease not
   * renewed for a whole ttl ends, as one of a dead instance would. A lease past its maximum
   * lifetime is not renewed but given back.
   */
  #renew(): void {
    if (this.#live.size === 0) {
      // idle: the next admission starts the timer again
      clearInterval(this.#renewTimer);
      this.#renewTimer = undefined;
      return;
    }
    if (this.#renewing) return;
    const now = this.#now();
    const groups = new Map<string, { keys: ScopeKeys; ids: string[] }>();
    for (const [id, lease] of this.#live) {
      if (now >= lease.renewUntil) {
        this.#expire(id, lease);
        continue;
      }
      const group = groups.get(lease.keys.holds);
      if (group === undefined) groups.set(lease.keys.holds, { keys: lease.keys, ids: [id] });
      else group.ids.push(id);
    }
    if (groups.size === 0) return;
    this.#renewing = true;
    void Promise.allSettled(
      [...groups.values()].map(({ keys, ids }) =>
        this.#redis.run((client) =>
          client.eval(RENEW_SCRIPT, 2, keys.slots, keys.holds, this.#leaseTtlMs, ...ids),
        ),
      ),
    ).then((outcomes) => {
      this.#renewing = false;
      const failed = outcomes.filter(
        (outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected',
      );
      if (failed.length < outcomes.length) this.#pending.answered();
      if (failed.length > 0) this.#renewalFailed(failed.length, groups.size, failed[0]?.reason);
    });
  }

  /** Gives back a lease that outlived its maximum lifetime: its request never settled (a leaked handle). */
  #expire(id: string, lease: LiveLease): void {
    // removed first: the warning is written once per lease, whatever the later ticks find
    this.#live.delete(id);
    this.#logger.warn(
      { keyId: lease.scope, maxLeaseLifetimeMs: this.#maxLifetimeMs },
      'a request of this key held its lease (max_parallel slot, budget reservation) past the maximum lifetime without settling (a leaked request handle?): the lease is given back',
    );
    this.#observe(this.onLeaseLifetimeExceeded);
    this.#release(lease.keys, id);
  }

  /** Calls an observer (metrics) isolated: it runs on the renewal timer, where a throw would end the process. */
  #observe(observer: (() => void) | undefined): void {
    try {
      observer?.();
    } catch (error) {
      this.#logger.warn(
        { err: { message: error instanceof Error ? error.message : String(error) } },
        'a limit lease observer (metrics) failed',
      );
    }
  }

  /**
   * Counts failed renewals and logs them at most once a minute (with how many failed since the
   * last line): Redis down would otherwise log one line per key on every tick.
   */
  #renewalFailed(failures: number, scripts: number, reason: unknown): void {
    for (let i = 0; i < failures; i++) this.#observe(this.onRenewalFailure);
    this.#unloggedRenewalFailures += failures;
    const now = this.#now();
    if (
      this.#renewalFailureLoggedAt !== undefined &&
      now - this.#renewalFailureLoggedAt < RENEWAL_FAILURE_LOG_INTERVAL_MS
    )
      return;
    this.#renewalFailureLoggedAt = now;
    const message = reason instanceof Error ? reason.message : String(reason);
    this.#logger.warn(
      {
        err: { message },
        failedRenewals: this.#unloggedRenewalFailures,
        keysThisTick: scripts,
        liveLeases: this.#live.size,
      },
      'renewing per-key limit leases on Redis failed: leases not renewed within their ttl end while their requests may still run, so max_parallel and reservations may under-count',
    );
    this.#unloggedRenewalFailures = 0;
  }

  /**
   * Gives a lease back after its admission or settlement failed (or it outlived its maximum
   * lifetime). A release Redis does not answer stays pending, sent again until it does.
   */
  #release(keys: ScopeKeys, id: string): void {
    void this.#redis
      .run((client) => client.eval(RELEASE_SCRIPT, 3, keys.slots, keys.spend, keys.holds, id))
      .then(
        () => this.#pending.answered(),
        () => this.#pending.add(keys, id),
      );
  }

  #keys(scope: string, periodId: string): ScopeKeys {
    // one hash tag per key so a Redis Cluster keeps a key's counters on one slot. `leases`,
    // `held`, `holds` and the sliding windows' `:sw` hashes are new names: the counters of older
    // versions (`inflight`, `reserved`, the `rpm` and `tpm` strings they INCR) are left alone, to
    // expire, so instances of both versions can run side by side without a WRONGTYPE
    const base = `${this.#redis.keyPrefix}limits:{${scope}}`;
    return {
      requests: `${base}:rpm:sw`,
      tokens: `${base}:tpm:sw`,
      slots: `${base}:leases`,
      spend: `${base}:spend:${periodId}`,
      holds: `${base}:holds:${periodId}`,
      // the spend markers: one set per key and period, on its counters' slot (the hash tag)
      paid: `${base}:paid:${periodId}`,
    };
  }
}

/** Whether an admission of the plan takes anything to give back: a parallel slot, a reservation. */
function holdsAnything(plan: AdmitPlan): boolean {
  return plan.parallel !== null || plan.reserveMicros > 0;
}

function leaseId(lease: Lease): string {
  if (lease.id === undefined)
    throw new TypeError(
      'A lease without an id was given to the Redis limit backend; it settles on the backend that admitted it.',
    );
  return lease.id;
}
