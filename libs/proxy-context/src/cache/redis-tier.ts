import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { createRedisClient, withTimeout, type Logger, type RedisEndpoint } from '@switchyard/proxy-core';
import { entryBytes } from './memory-tier';
import { RedisBreaker, type RedisBreakerSettings, type RedisTierState } from './redis-breaker';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** A MULTI transaction of the commands a cache read or write queues (ioredis `multi()`). */
export interface RedisCacheTransaction {
  getBuffer(key: string): RedisCacheTransaction;
  pttl(key: string): RedisCacheTransaction;
  /** With `set`, lets a write tell whether it replaced an entry (without them a write is a plain SET). */
  exists?(key: string): RedisCacheTransaction;
  set?(key: string, value: Buffer, millisecondsToken: 'PX', milliseconds: number): RedisCacheTransaction;
  /** Each command's error or result, in order; null when the transaction was aborted. */
  exec(): Promise<Array<[error: Error | null, result: unknown]> | null>;
}

/** The few ioredis commands the cache uses; any ioredis 5 `Redis` or `Cluster` instance has them. */
export interface RedisCacheClient {
  getBuffer(key: string): Promise<Buffer | null>;
  set(key: string, value: Buffer, millisecondsToken: 'PX', milliseconds: number): Promise<unknown>;
  /**
   * When present, a read sends GET and PTTL of one key (one slot of a cluster) in one transaction,
   * and a hit lives in memory for the TTL Redis still keeps; without it a read is a plain GET, and
   * a hit lives in memory until the deadline the writing instance stored by its own clock. A
   * refresh's write (a request that skipped the read) sends EXISTS and SET in one transaction,
   * telling whether it replaced an entry; without them it is a plain SET, taken as a replacement.
   * Every other write is a plain SET.
   */
  multi?(): RedisCacheTransaction;
  /**
   * When present, a refresh whose fresh answer cannot be stored (too large for an entry) deletes
   * the entry it was to replace; without it that entry lives in Redis until its TTL.
   */
  del?(key: string): Promise<number>;
  quit(): Promise<unknown>;
}

/** A stored body and how much longer Redis keeps it. */
export interface RedisCacheRead {
  body: string;
  /**
   * Milliseconds Redis keeps the key from when it answered (PTTL); undefined for a key without a
   * TTL, or when the client has no `multi()` to read it with.
   */
  ttlMs: number | undefined;
}

/**
 * What a write did: `replaced` an entry, `created` one where none was, `written` without knowing
 * which (a client without `multi()`), `oversized` (larger than an entry may be: nothing sent), or
 * `skipped` (the circuit open).
 */
export type RedisCacheWrite = 'replaced' | 'created' | 'written' | 'oversized' | 'skipped';

/** Settings of the Redis tier: an endpoint (ioredis is then loaded and the client owned) or an ioredis instance. */
export type RedisTierOptions =
  { endpoint: RedisEndpoint; client?: undefined } | { client: RedisCacheClient; endpoint?: undefined };

// one byte in front of every stored body says how it is encoded
const RAW = 0x00;
const GZIP = 0x01;

/** Encodes a serialised entry, gzipped when at least `compressAboveBytes` long. */
export async function encodeBody(body: string, compressAboveBytes: number): Promise<Buffer> {
  const raw = Buffer.from(body, 'utf8');
  if (raw.length < compressAboveBytes) return Buffer.concat([Buffer.of(RAW), raw]);
  return Buffer.concat([Buffer.of(GZIP), await gzipAsync(raw)]);
}

/** Decodes a stored value, or undefined when it is not one of ours. */
export async function decodeBody(stored: Buffer): Promise<string | undefined> {
  const flag = stored[0];
  if (flag === RAW) return stored.subarray(1).toString('utf8');
  if (flag === GZIP) return (await gunzipAsync(stored.subarray(1))).toString('utf8');
  return undefined;
}

/** How the Redis tier behaves, defaults applied. */
export interface RedisTierSettings {
  /** Prefix of every key (key prefix and namespace). */
  prefix: string;
  compressAboveBytes: number;
  commandTimeoutMs: number;
  /**
   * Largest entry stored, measured as the memory tier charges it ({@link entryBytes}): the memory
   * tier's own limit (`MemoryTier.maxEntryBytes`), so an entry Redis takes, memory takes too.
   */
  maxEntryBytes: number;
  breaker: RedisBreakerSettings;
  now: () => number;
  logger: Logger;
  /** Connection errors of a client the tier opened (commands' errors are thrown). */
  onError: (error: unknown) => void;
}

/** Counters and circuit state of the Redis tier. */
export interface RedisTierStats {
  /** `open` while the tier is skipped after consecutive failures; `half-open` while one command probes it. */
  state: RedisTierState;
  /** Reads and writes sent to Redis. */
  sent: number;
  /** Of those, the ones that failed or timed out (connection errors are not commands: see `redisErrors`). */
  failed: number;
  /** Reads and writes not sent because the circuit was open. */
  skipped: number;
  /** Entries not written because they were larger than an entry may be (`maxEntryBytes`, or the memory bound when smaller). */
  oversized: number;
}

/**
 * The shared tier: entries in Redis with a TTL, so several gateway instances answer from
 * one cache. ioredis is an optional peer, imported only when a URL or cluster is configured.
 * A breaker skips the tier while Redis fails or hangs, so a dead Redis does not add its
 * command timeout to every request.
 */
export class RedisTier {
  readonly #settings: RedisTierSettings;
  readonly #client: Promise<RedisCacheClient>;
  readonly #owned: boolean;
  /** Whether the tier must hold commands to the deadline itself (see `#command`). */
  readonly #bounded: boolean;
  readonly #breaker: RedisBreaker;
  #sent = 0;
  #failed = 0;
  #skipped = 0;
  #oversized = 0;

  constructor(options: RedisTierOptions, settings: RedisTierSettings) {
    this.#settings = settings;
    this.#owned = options.client === undefined;
    this.#bounded = options.client !== undefined || options.endpoint.cluster !== undefined;
    this.#client =
      options.client !== undefined
        ? Promise.resolve(options.client)
        : connect(options.endpoint, settings.commandTimeoutMs, settings.onError);
    // a failed import or connection surfaces on first use as a counted tier error
    this.#client.catch(() => undefined);
    this.#breaker = new RedisBreaker(settings.breaker, settings.now, (state, previous) =>
      this.#report(state, previous),
    );
  }

  /**
   * The stored body and its remaining TTL, read together (GET and PTTL in one MULTI: one round
   * trip, and the TTL is the body's), or undefined when absent, not ours, or the circuit is open.
   * The TTL is Redis' own count, so no instance's clock (the writer's, the reader's) decides
   * how long an entry lives. A client without `multi()` (a wrapper, a test double) is read with
   * a plain GET and no TTL, so the entry's stored deadline decides, as before MULTI was used.
   */
  async get(key: string): Promise<RedisCacheRead | undefined> {
    if (!this.#admit()) return undefined;
    const fullKey = this.#settings.prefix + key;
    const read = await this.#command(async (client): Promise<{ stored: unknown; pttl?: unknown }> => {
      if (typeof client.multi !== 'function') return { stored: await client.getBuffer(fullKey) };
      const answered = await client.multi().getBuffer(fullKey).pttl(fullKey).exec();
      if (answered === null) throw new Error('Redis aborted the cache read (MULTI).');
      for (const [error] of answered) if (error !== null) throw error;
      return { stored: answered[0]?.[1], pttl: answered[1]?.[1] };
    });
    if (!Buffer.isBuffer(read.stored)) return undefined;
    let ttlMs: number | undefined;
    if ('pttl' in read) {
      // -2: gone (never with a body, in one transaction); -1: a key without a TTL (never written so by the cache)
      if (typeof read.pttl !== 'number' || read.pttl === -2) return undefined;
      ttlMs = read.pttl === -1 ? undefined : read.pttl;
    }
    const body = await decodeBody(read.stored);
    return body === undefined ? undefined : { body, ttlMs };
  }

  /**
   * Stores a body for `ttlMs`, unless it is too large or the circuit is open. With `askReplaced`
   * it says whether it replaced an entry: EXISTS and SET in one MULTI (one round trip, and nothing
   * comes between them), which costs a few bytes where `SET ... GET` would send the old body back;
   * without it (every write but a refresh's) it is a plain SET, `written`.
   */
  async set(key: string, body: string, ttlMs: number, askReplaced = false): Promise<RedisCacheWrite> {
    // measured before encoding (an oversized body costs no gzip work), as the memory tier measures
    // it: an entry just under the limit here was refused by memory on every hit
    if (entryBytes(key, body) > this.#settings.maxEntryBytes) {
      this.#oversized += 1;
      return 'oversized';
    }
    if (!this.#admit()) return 'skipped';
    const value = await encodeBody(body, this.#settings.compressAboveBytes);
    const fullKey = this.#settings.prefix + key;
    const px = Math.max(1, Math.round(ttlMs));
    return this.#command(async (client): Promise<RedisCacheWrite> => {
      const transaction = askReplaced && typeof client.multi === 'function' ? client.multi() : undefined;
      if (transaction?.exists === undefined || transaction.set === undefined) {
        await client.set(fullKey, value, 'PX', px);
        return 'written';
      }
      transaction.exists(fullKey);
      transaction.set(fullKey, value, 'PX', px);
      const answered = await transaction.exec();
      if (answered === null) throw new Error('Redis aborted the cache write (MULTI).');
      for (const [error] of answered) if (error !== null) throw error;
      return answered[0]?.[1] === 1 ? 'replaced' : 'created';
    });
  }

  /**
   * Deletes an entry (DEL); whether one was there. False without deleting when the client has no
   * `del()` or the circuit is open.
   */
  async delete(key: string): Promise<boolean> {
    // a client without del() sends nothing: asked before the breaker, which would count the
    // command as sent and answered (an open circuit's probe spent on it, and the circuit closed)
    const client = await this.#client.catch(() => undefined);
    if (client !== undefined && typeof client.del !== 'function') return false;
    if (!this.#admit()) return false;
    const fullKey = this.#settings.prefix + key;
    // a client that failed to open fails this command, as any other (counted, the breaker told)
    return this.#command(async (opened) => ((await opened.del?.(fullKey)) ?? 0) > 0);
  }

  stats(): RedisTierStats {
    return {
      state: this.#breaker.state,
      sent: this.#sent,
      failed: this.#failed,
      skipped: this.#skipped,
      oversized: this.#oversized,
    };
  }

  async close(): Promise<void> {
    if (!this.#owned) return;
    const client = await this.#client.catch(() => undefined);
    await client?.quit().catch(() => undefined);
  }

  #admit(): boolean {
    if (this.#breaker.allow()) return true;
    this.#skipped += 1;
    return false;
  }

  /**
   * Runs one Redis command and tells the breaker how it went (decoding is not Redis' health).
   * A hung or absent Redis must fail commands for the breaker to see it. A single server the
   * tier opened ends a command at `commandTimeoutMs` itself (ioredis `commandTimeout`, and one
   * retry over a reconnection, so its offline queue empties); the tier holds the others to the
   * same deadline: a Redis Cluster that is not ready keeps commands in its offline queue with no
   * timer, reconnecting for ever (ioredis arms `commandTimeout` when a node is sent the command),
   * and a client the tier was given may have no timeout at all (ioredis's default).
   */
  async #command<T>(run: (client: RedisCacheClient) => Promise<T>): Promise<T> {
    this.#sent += 1;
    try {
      const result = this.#bounded
        ? await withTimeout(run(await this.#client), this.#settings.commandTimeoutMs, 'Redis')
        : await run(await this.#client);
      this.#breaker.succeeded();
      return result;
    } catch (error) {
      this.#failed += 1;
      this.#breaker.failed();
      throw error;
    }
  }

  #report(state: RedisTierState, previous: RedisTierState): void {
    const { logger, breaker } = this.#settings;
    // half-open is a step of the probe, not news: only opening and closing are logged
    if (state === 'open' && previous === 'closed') {
      logger.warn(
        { failures: breaker.failureThreshold, resetTimeoutMs: breaker.resetTimeoutMs },
        'response cache: Redis tier failing, skipped until a probe succeeds',
      );
    } else if (state === 'closed') {
      logger.info({}, 'response cache: Redis tier answering again, back in use');
    }
  }
}

async function connect(
  endpoint: RedisEndpoint,
  commandTimeoutMs: number,
  onError: (error: unknown) => void,
): Promise<RedisCacheClient> {
  // fail fast when Redis is away (the cache then answers from memory only); connection
  // errors are counted, never thrown at the process
  const client = await createRedisClient(endpoint, { commandTimeoutMs, maxRetriesPerRequest: 1 });
  client.on('error', onError);
  return client;
}
