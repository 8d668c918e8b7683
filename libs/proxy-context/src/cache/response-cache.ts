import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  GatewayHooks,
  GatewayPlugin,
  Logger,
  PrecomputedAnswer,
  RequestContext,
} from '@switchyard/proxy-core';
import { MemoryBudget, type MemoryAccount } from '../memory/memory-budget';
import {
  parseCacheEntry,
  responseEntryBody,
  streamEntryBody,
  type CacheEntry,
  type CacheEntryOrigin,
} from './cache-entry';
import { cacheKey } from './cache-key';
import { MemoryTier, entryBytes, type MemoryTierStats } from './memory-tier';
import {
  RESPONSE_CACHE_DEFAULTS,
  validateResponseCacheOptions,
  type ResponseCacheOptions,
} from './response-cache-options';
import { RedisTier, type RedisCacheRead, type RedisTierStats } from './redis-tier';
import {
  SwitchyardError,
  isChatRequestEndpoint,
  ownEntry,
  redisEndpointOf,
  silentLogger,
  sourceTextOf,
} from '@switchyard/proxy-core';

const PLUGIN_NAME = 'switchyard:response-cache';
/** The `context.state` slot of a look-ahead lookup. */
const LOOK_AHEAD = `${PLUGIN_NAME}:look-ahead`;

/** How many entries at the limit the streams being recorded may hold together. */
const RECORDED_ENTRIES = 4;

/** Counters of the response cache (for metrics); each failure mode has its own. */
export interface ResponseCacheStats {
  hits: number;
  memoryHits: number;
  redisHits: number;
  misses: number;
  /** Requests not looked up (skipped, not cacheable, non-deterministic). */
  bypasses: number;
  /**
   * Answers written to the cache: those no larger than an entry may be. One past that limit,
   * which both tiers share, is refused by both and not counted (the memory tier counts it in
   * `rejections`, the Redis tier in `oversized`); a stream is refused before, as abandoned.
   */
  stores: number;
  /** Redis commands that failed or timed out (the cache then works from memory). */
  redisErrors: number;
  /** Streams not stored: failed, aborted, or larger than an entry may be. */
  abandonedStreams: number;
  /**
   * Whole answers not stored, and entries not served (counted as misses too), because the
   * request's caller could not deliver them (`RequestContext.acceptsResponse`: an answer
   * `/v1/messages` cannot translate; a check that throws counts as a refusal).
   */
  undeliverable: number;
  memory: MemoryTierStats;
  /** The Redis tier's circuit and counters, when the tier is configured. */
  redis?: RedisTierStats;
}

/**
 * Tells the other instances sharing the cache's Redis tier that an entry was replaced, so they
 * drop their memory tier's copy of it (see {@link ResponseCache.setEvictionPublisher}).
 */
export interface CacheEvictionPublisher {
  /** Called with the entry's key once its fresh answer replaced it; must not throw (a throw is logged). */
  publish(key: string): void;
}

/**
 * What the cache remembers about one request between lookup and store: the answer's JSON
 * text as the engine received it, a snapshot no transform can change afterwards.
 */
interface Pending {
  key: string;
  ttlMs: number;
  response: string | undefined;
  chunks: string[];
  bytes: number;
  /** What the stream entry around the chunks adds to a recording's measure, with the key (0 for a whole answer). */
  envelopeBytes: number;
  abandoned: boolean;
  /** The request skipped the read (`no-cache`, `refresh`): its answer replaces the entry everywhere. */
  refresh: boolean;
}

/** What a lookup found, settled (counted, reported on the context) only when it decides the request. */
type Found =
  | { kind: 'bypass' }
  | { kind: 'hit'; entry: CacheEntry; tier: 'memory' | 'redis' }
  | {
      kind: 'miss';
      key: string;
      ttlMs: number;
      mode: 'stream' | 'response';
      store: boolean;
      /** The request skipped the read (`no-cache`, `refresh`). */
      refresh: boolean;
      /** An entry was found that the request's caller cannot deliver. */
      undeliverable: boolean;
    };

/** A lookup made before the condenser ran ({@link ResponseCache.lookAhead}), and the request it holds for. */
interface LookAhead {
  request: ChatCompletionRequest;
  found: Found;
}

function isNonDeterministic(request: ChatCompletionRequest): boolean {
  return (
    typeof request.temperature === 'number' &&
    request.temperature > 0 &&
    (request.seed === undefined || request.seed === null)
  );
}

/**
 * The response cache: an exact-match cache of chat answers, scoped per tenant, in a
 * byte-bounded memory tier and optionally a shared Redis tier. It is a gateway plugin:
 * `lookupResponse` answers hits (a condenser asks first, with {@link ResponseCache.lookAhead}, for
 * the requests it may condense); `onResponseReceived` and `onStreamChunkReceived` record
 * answers as the upstream gave them, before any transform (which runs again on a hit), and
 * `onRequestEnd` stores those of requests that succeeded. It only observes: answers nothing
 * changed still leave as the upstream's own text.
 * @example
 * const cache = createResponseCache({ memory: { maxBytes: 64 * 1024 * 1024 }, ttlMs: 600_000 });
 * const gateway = createGateway({ providers, models, plugins: [cache] });
 */
export class ResponseCache implements GatewayPlugin {
  readonly name = PLUGIN_NAME;
  readonly #memory: MemoryTier;
  readonly #redis: RedisTier | undefined;
  readonly #recordings: MemoryAccount;
  readonly #options: ResponseCacheOptions;
  readonly #now: () => number;
  readonly #maxEntryBytes: number;
  readonly #logger: Logger;
  // a caller's acceptsResponse that throws is logged once per cache, not once per request
  #loggedThrowingCheck = false;
  #loggedThrowingPublisher = false;
  #evictions: CacheEvictionPublisher | undefined;
  #closed = false;
  // Redis reads in flight per key, and the keys replaced meanwhile (evicted by another instance,
  // cleared, or written here): such a read does not fill the memory tier with the answer it may
  // have read before the entry was replaced
  readonly #reading = new Map<string, number>();
  readonly #replacedWhileReading = new Set<string>();
  // Redis writes in flight per key: a read Redis answers meanwhile may hold the entry they replace
  readonly #writing = new Map<string, number>();
  readonly #counters = {
    hits: 0,
    memoryHits: 0,
    redisHits: 0,
    misses: 0,
    bypasses: 0,
    stores: 0,
    redisErrors: 0,
    abandonedStreams: 0,
    undeliverable: 0,
  };

  constructor(options: ResponseCacheOptions) {
    validateResponseCacheOptions(options);
    this.#options = Object.freeze({ ...options });
    this.#now = options.now ?? Date.now;
    const maxEntryBytes = options.maxEntryBytes ?? RESPONSE_CACHE_DEFAULTS.maxEntryBytes;
    this.#logger = options.logger ?? silentLogger;
    // the tier's memory and the recordings' room; in a budget of its own, the tier's limit is the
    // smaller of maxEntryBytes and its memory bound
    const budget =
      options.budget ??
      new MemoryBudget({
        maxBytes:
          options.memory.maxBytes + Math.min(maxEntryBytes, options.memory.maxBytes) * RECORDED_ENTRIES,
      });
    const names = accountNames(options.namespace);
    this.#memory = new MemoryTier(
      openAccount(budget, names.memory, options.memory.maxBytes, options.namespace),
      maxEntryBytes,
      this.#now,
    );
    // the one limit of an entry, in both tiers and for a recording: the memory tier's, which a
    // memory bound below maxEntryBytes lowers
    this.#maxEntryBytes = this.#memory.maxEntryBytes;
    // streams being recorded hold their chunks until they end: a bounded account of their own,
    // sized from the limit each recording is held to (not from maxEntryBytes, which the memory
    // bound may lower)
    try {
      this.#recordings = openAccount(
        budget,
        names.recordings,
        this.#maxEntryBytes * RECORDED_ENTRIES,
        options.namespace,
      );
    } catch (error) {
      // a cache refused leaves no account open behind it
      this.#memory.close();
      throw error;
    }
    const redis = options.redis;
    this.#redis =
      redis === undefined
        ? undefined
        : new RedisTier(
            redis.client === undefined ? { endpoint: redisEndpointOf(redis) } : { client: redis.client },
            {
              prefix: `${redis.keyPrefix ?? RESPONSE_CACHE_DEFAULTS.redisKeyPrefix}${options.namespace ?? 'default'}:`,
              compressAboveBytes: options.compressAboveBytes ?? RESPONSE_CACHE_DEFAULTS.compressAboveBytes,
              commandTimeoutMs: redis.commandTimeoutMs ?? RESPONSE_CACHE_DEFAULTS.redisCommandTimeoutMs,
              maxEntryBytes: this.#maxEntryBytes,
              breaker: {
                failureThreshold:
                  redis.breaker?.failureThreshold ?? RESPONSE_CACHE_DEFAULTS.redisBreakerFailureThreshold,
                resetTimeoutMs:
                  redis.breaker?.resetTimeoutMs ?? RESPONSE_CACHE_DEFAULTS.redisBreakerResetTimeoutMs,
              },
              now: this.#now,
              logger: this.#logger,
              onError: () => {
                this.#counters.redisErrors += 1;
              },
            },
          );
  }

  apply(hooks: GatewayHooks): void {
    hooks.lookupResponse.tapPromise(PLUGIN_NAME, async (request, context) => this.#lookup(request, context));
    hooks.onResponseReceived.tap(PLUGIN_NAME, (response, context) => this.#receive(response, context));
    hooks.onStreamChunkReceived.tap(PLUGIN_NAME, (chunk, context) => this.#record(chunk, context));
    hooks.onRequestEnd.tap(PLUGIN_NAME, (context) => this.#finish(context));
    // after any pricing tap: an answer served from the cache cost nothing upstream
    hooks.onUsage.tap({ name: PLUGIN_NAME, stage: 1000 }, (report, context) => {
      if (report.cached) context.costUsd = 0;
    });
  }

  /** Counters for metrics. */
  stats(): ResponseCacheStats {
    const stats: ResponseCacheStats = { ...this.#counters, memory: this.#memory.stats() };
    if (this.#redis !== undefined) stats.redis = this.#redis.stats();
    return stats;
  }

  /** Empties the memory tier (Redis entries expire by TTL). */
  clear(): void {
    this.#memory.clear();
    for (const key of this.#reading.keys()) this.#replacedWhileReading.add(key);
  }

  /**
   * Sets who is told when a request that skipped the read (`Cache-Control: no-cache`,
   * `x-switchyard-cache: refresh`) has stored its fresh answer in place of an entry (after its
   * Redis write), so other instances sharing the Redis tier drop the copy their memory tier holds;
   * undefined stops it, for writes still in flight too.
   * `createApp` sets one publishing over the app's Redis.
   */
  setEvictionPublisher(publisher: CacheEvictionPublisher | undefined): void {
    this.#evictions = publisher;
  }

  /**
   * Drops the memory tier's copy of an entry another instance replaced: the next lookup reads
   * it from Redis. A Redis read of it in flight does not put the copy it read back in memory.
   */
  evict(key: string): void {
    this.#memory.delete(key);
    this.#supersedeReads(key);
  }

  /** Marks the Redis reads of `key` in flight as older than its entry now: they do not fill memory. */
  #supersedeReads(key: string): void {
    if (this.#reading.has(key)) this.#replacedWhileReading.add(key);
  }

  /**
   * Closes the cache: empties the memory tier, closes its accounts in the memory budget (their
   * bytes, a recording's in flight too, go back to it, and a cache of the same namespace may be
   * built on it again) and the Redis connection it opened. A closed cache answers and stores
   * nothing: later requests are bypasses, and one in flight at the close is not stored.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.clear();
    this.#memory.close();
    this.#recordings.close();
    await this.#redis?.close();
  }

  #scope(context: RequestContext): string {
    const namespace = this.#options.namespace ?? 'default';
    const { apiKeyId, customerId, keyCustomerId } = context.metadata;
    switch (this.#options.scope ?? RESPONSE_CACHE_DEFAULTS.scope) {
      case 'shared':
        return `${namespace}|shared`;
      case 'customer':
        // only a key's bound customer spans keys: a customer id the client sent is a label its
        // key's holder chose, which must not open another key's customer to it
        if (keyCustomerId !== undefined) return `${namespace}|customer:${keyCustomerId}`;
        return customerId !== undefined
          ? `${namespace}|key:${apiKeyId ?? ''}|customer:${customerId}`
          : `${namespace}|key:${apiKeyId ?? ''}`;
      case 'key':
        return `${namespace}|key:${apiKeyId ?? ''}`;
    }
  }

  /**
   * Looks a request up before the condenser changes it (the condenser asks, for a request that
   * may overflow its window, before tokenising it): true when the cache will answer it, which the
   * condenser then leaves as it is. The lookup is settled in `lookupResponse`, when the request the
   * engine looks up is this one or its replacement ({@link replaced}); a request a later tap
   * changed is looked up again as it is.
   */
  async lookAhead(request: ChatCompletionRequest, context: RequestContext): Promise<boolean> {
    const found = await this.#find(request, context);
    context.state.set(LOOK_AHEAD, { request, found } satisfies LookAhead);
    return found.kind === 'hit';
  }

  /**
   * Tells the cache that the request it looked ahead for goes on as `replacement` (condensed): the
   * look-ahead holds for it, so a miss stores its answer under the request as it was before.
   */
  replaced(
    original: ChatCompletionRequest,
    replacement: ChatCompletionRequest,
    context: RequestContext,
  ): void {
    const ahead = context.state.get(LOOK_AHEAD) as LookAhead | undefined;
    if (ahead?.request === original) ahead.request = replacement;
  }

  async #lookup(
    request: ChatCompletionRequest,
    context: RequestContext,
  ): Promise<PrecomputedAnswer | undefined> {
    const ahead = context.state.get(LOOK_AHEAD) as LookAhead | undefined;
    if (ahead !== undefined) context.state.delete(LOOK_AHEAD);
    // identity: the look-ahead is for this very request unless a tap after the condenser replaced it
    return this.#settle(
      ahead?.request === request ? ahead.found : await this.#find(request, context),
      context,
    );
  }

  /** Looks a request up, counting nothing and telling the context nothing (see {@link #settle}). */
  async #find(request: ChatCompletionRequest, context: RequestContext): Promise<Found> {
    const directives = context.directives ?? {};
    const ttlMs =
      ownEntry(this.#options.models, request.model)?.ttlMs ??
      this.#options.ttlMs ??
      RESPONSE_CACHE_DEFAULTS.ttlMs;
    // chat completions and Anthropic's `/v1/messages`, whose route sends the engine a chat request and
    // translates the engine's answer: the entry holds that answer, nothing of either route's shape,
    // so an identical request on the other route shares it
    const cacheable =
      !this.#closed &&
      isChatRequestEndpoint(context.endpoint) &&
      directives.cache !== 'skip' &&
      ttlMs > 0 &&
      ((this.#options.cacheNonDeterministic ?? RESPONSE_CACHE_DEFAULTS.cacheNonDeterministic) ||
        !isNonDeterministic(request));
    const read = cacheable && directives.cache !== 'refresh' && directives.noCache !== true;
    const store = cacheable && directives.noStore !== true;
    if (!read && !store) return { kind: 'bypass' };
    const mode = context.stream ? 'stream' : 'response';
    const key = cacheKey(request, this.#scope(context), mode);
    let undeliverable = false;
    if (read) {
      const found = await this.#read(key);
      if (found !== undefined && found.entry.kind === mode) {
        // an entry another route stored that this request's caller cannot deliver (a chat answer
        // /v1/messages cannot translate) is a miss: the fresh answer replaces it if it can be delivered
        if (found.entry.kind === 'response' && !this.#deliverable(found.entry.response, context))
          undeliverable = true;
        else return { kind: 'hit', entry: found.entry, tier: found.tier };
      }
    }
    return { kind: 'miss', key, ttlMs, mode, store, refresh: !read, undeliverable };
  }

  /** Counts what a lookup found, tells the request's context, and answers a hit. */
  #settle(found: Found, context: RequestContext): PrecomputedAnswer | undefined {
    switch (found.kind) {
      case 'bypass':
        this.#counters.bypasses += 1;
        context.cacheStatus = 'BYPASS';
        return undefined;
      case 'hit': {
        const { entry, tier } = found;
        this.#counters.hits += 1;
        this.#counters[tier === 'redis' ? 'redisHits' : 'memoryHits'] += 1;
        context.cacheStatus = 'HIT';
        // the model that produced the answer, for the row and the log line; no provider: none was called
        if (entry.model !== undefined) context.upstreamModel = entry.model;
        // what the answer cost when it was made: what this hit saved
        if (entry.cost !== undefined) context.cacheSavedUsd = entry.cost;
        return toAnswer(entry);
      }
      case 'miss': {
        const { key, ttlMs, mode } = found;
        if (found.undeliverable) this.#counters.undeliverable += 1;
        this.#counters.misses += 1;
        context.cacheStatus = 'MISS';
        if (found.store)
          context.state.set(PLUGIN_NAME, {
            key,
            ttlMs,
            response: undefined,
            chunks: [],
            bytes: 0,
            envelopeBytes: mode === 'stream' ? entryBytes(key, streamEntryBody([], this.#now() + ttlMs)) : 0,
            abandoned: false,
            refresh: found.refresh,
          } satisfies Pending);
        return undefined;
      }
    }
  }

  /** The live entry under a key, and the tier it was found in (counted as a hit only once it serves). */
  async #read(key: string): Promise<{ entry: CacheEntry; tier: 'memory' | 'redis' } | undefined> {
    // the memory tier holds each entry until a deadline on this instance's clock
    const local = this.#memory.get(key);
    if (local !== undefined) {
      const entry = parseCacheEntry(local);
      if (entry !== undefined) return { entry, tier: 'memory' };
    }
    if (this.#redis === undefined) return undefined;
    // read before asking: Redis answers later, so the entry surely lives until now + its PTTL
    const now = this.#now();
    let stored: RedisCacheRead | undefined;
    let replaced: boolean;
    this.#reading.set(key, (this.#reading.get(key) ?? 0) + 1);
    try {
      stored = await this.#redis.get(key);
    } catch {
      this.#counters.redisErrors += 1;
      return undefined;
    } finally {
      replaced = this.#doneReading(key);
    }
    if (stored === undefined) return undefined;
    const entry = parseCacheEntry(stored.body);
    if (entry === undefined) return undefined;
    // the entry's expiresAt is on the writer's clock, which may be minutes off this one's: the
    // TTL Redis counts decides, and expiresAt only for a key without one (not the cache's writing)
    const expiresAt = stored.ttlMs === undefined ? entry.expiresAt : now + stored.ttlMs;
    if (expiresAt <= now) return undefined;
    // a Redis hit fills the memory tier for the rest of the entry's life, unless the entry was
    // replaced meanwhile (by another instance, or by a write here, landed in Redis or not): this
    // answer may be the old one
    if (!replaced && !this.#writing.has(key) && !this.#closed) this.#memory.set(key, stored.body, expiresAt);
    return { entry, tier: 'redis' };
  }

  /** Ends a Redis read of `key`; whether the key was replaced while it was in flight. */
  #doneReading(key: string): boolean {
    const replaced = this.#replacedWhileReading.has(key);
    const reads = (this.#reading.get(key) ?? 1) - 1;
    if (reads > 0) {
      this.#reading.set(key, reads);
    } else {
      this.#reading.delete(key);
      this.#replacedWhileReading.delete(key);
    }
    return replaced;
  }

  /**
   * Stores an entry in both tiers. A request that skipped the read (`refresh`) and replaced an
   * entry (in this memory tier, or in Redis: the write tells) then publishes it as evicted, once
   * Redis holds it (the other instances read it there next), not when Redis failed to take it
   * (they would read the old one again); one that replaced nothing publishes nothing, so clients
   * sending `no-cache` on every request do not each cost every instance a message. A tier that
   * refuses the body (too large) drops the entry under the key all the same: after a refresh the
   * old answer must not serve again.
   */
  #write(key: string, body: string, expiresAt: number, ttlMs: number, refresh: boolean): void {
    // a body past the limit both tiers share is stored by neither: not a store
    if (entryBytes(key, body) <= this.#maxEntryBytes) this.#counters.stores += 1;
    const inMemory = refresh && this.#memory.has(key);
    // replaces the entry here, or only drops it when the body is refused
    this.#memory.set(key, body, expiresAt);
    // a read of the entry this write replaces, answered after it, must not put that entry back
    this.#supersedeReads(key);
    if (this.#redis === undefined) {
      if (inMemory) this.#publishEviction(key);
      return;
    }
    // off the response path: a slow or failed Redis write costs the client nothing
    this.#writingTo(key, this.#writeToRedis(this.#redis, key, body, ttlMs, refresh, inMemory)).then(
      (replaced) => {
        if (refresh && (inMemory || replaced)) this.#publishEviction(key);
      },
      () => {
        this.#counters.redisErrors += 1;
      },
    );
  }

  /**
   * Writes an entry to Redis; whether it replaced one there. Only a refresh not known to replace
   * an entry here (`inMemory`) asks Redis; a client that cannot tell is taken as replacing one. A
   * refresh too large for Redis deletes the entry it was to replace there instead.
   */
  async #writeToRedis(
    redis: RedisTier,
    key: string,
    body: string,
    ttlMs: number,
    refresh: boolean,
    inMemory: boolean,
  ): Promise<boolean> {
    const write = await redis.set(key, body, ttlMs, refresh && !inMemory);
    if (write === 'oversized') return refresh ? redis.delete(key) : false;
    return write === 'replaced' || write === 'written';
  }

  /**
   * Drops the entry a refresh was to replace when its fresh answer cannot be stored (a stream
   * too large to record, or no room to record it): the old answer must not serve again, here,
   * in Redis (DEL, off the response path), or on the other instances, told when an entry was
   * removed, here or in Redis, and not when Redis failed (they would read the old one again).
   */
  #discard(key: string): void {
    const inMemory = this.#memory.has(key);
    this.#memory.delete(key);
    this.#supersedeReads(key);
    if (this.#redis === undefined) {
      if (inMemory) this.#publishEviction(key);
      return;
    }
    this.#writingTo(key, this.#redis.delete(key)).then(
      (deleted) => {
        if (inMemory || deleted) this.#publishEviction(key);
      },
      () => {
        this.#counters.redisErrors += 1;
      },
    );
  }

  /** A Redis write of `key`, counted in flight until it settles (a read meanwhile does not fill memory). */
  #writingTo<T>(key: string, command: Promise<T>): Promise<T> {
    this.#writing.set(key, (this.#writing.get(key) ?? 0) + 1);
    const settled = (): void => {
      const left = (this.#writing.get(key) ?? 1) - 1;
      if (left > 0) this.#writing.set(key, left);
      else this.#writing.delete(key);
    };
    return command.finally(settled);
  }

  /**
   * Tells the publisher set now (not when the write started: one unset since, by a closing app,
   * is not called); a publisher that throws (it must not) is logged once, not let escape as an
   * unhandled rejection.
   */
  #publishEviction(key: string): void {
    const publisher = this.#evictions;
    if (publisher === undefined) return;
    try {
      publisher.publish(key);
    } catch (error) {
      if (this.#loggedThrowingPublisher) return;
      this.#loggedThrowingPublisher = true;
      this.#logger.warn(
        { err: error },
        'response cache: the eviction publisher threw; other instances keep their memory copy of the refreshed entry until its TTL (logged once)',
      );
    }
  }

  #receive(response: ChatCompletion, context: RequestContext): void {
    if (context.cacheHit || context.stream) return;
    const pending = context.state.get(PLUGIN_NAME) as Pending | undefined;
    if (pending === undefined) return;
    // an answer the caller cannot deliver (it fails the request after the engine ends it) is not kept
    if (!this.#deliverable(response, context)) {
      this.#counters.undeliverable += 1;
      return;
    }
    pending.response = sourceTextOf(response) ?? JSON.stringify(response);
  }

  /**
   * Whether the request's caller can deliver a whole answer (`acceptsResponse`). A check that
   * throws (it must not) refuses it: the lookup goes on as a miss and the observers after the
   * cache's still run, instead of a failed request or skipped taps.
   */
  #deliverable(response: ChatCompletion, context: RequestContext): boolean {
    const accepts = context.acceptsResponse;
    if (accepts === undefined) return true;
    try {
      return accepts(response) !== false;
    } catch (error) {
      if (!this.#loggedThrowingCheck) {
        this.#loggedThrowingCheck = true;
        this.#logger.warn(
          { err: error, endpoint: context.endpoint },
          "response cache: the request's acceptsResponse threw; taken as a refusal (logged once)",
        );
      }
      return false;
    }
  }

  #record(chunk: ChatCompletionChunk, context: RequestContext): void {
    if (context.cacheHit) return;
    const pending = context.state.get(PLUGIN_NAME) as Pending | undefined;
    if (pending === undefined || pending.abandoned) return;
    const text = sourceTextOf(chunk) ?? JSON.stringify(chunk);
    const bytes = text.length * 2;
    if (this.#recordedEntryBytes(pending, bytes) > this.#maxEntryBytes || !this.#reserveRecording(bytes)) {
      // too large to keep, or no room in the budget: give the memory back now
      pending.abandoned = true;
      this.#recordings.release(pending.bytes);
      pending.chunks = [];
      pending.bytes = 0;
      return;
    }
    pending.bytes += bytes;
    pending.chunks.push(text);
  }

  /**
   * What the entry of a recording would be charged ({@link entryBytes}) with one more chunk of
   * `bytes`: its key and the stream entry around the chunks (`envelopeBytes`), the chunks and the
   * commas between them, as stored. Measuring the chunks alone let a stream just under the limit
   * be recorded, then refused by both tiers. The model and cost the entry ends with are known
   * only then (see `#finish`).
   *
   * The envelope is measured once, at the lookup, with the expiry as of then, so a long stream
   * builds no string per chunk beyond the chunk's own. The entry's expiry is taken when it is
   * written, and may have gained a digit since (2 bytes more, when now + TTL passed a power of
   * ten meanwhile): no margin is added for it, since `#finish` measures the entry it writes
   * exactly, and refuses it past the limit (the expiry measured at each chunk left the same gap
   * from the last chunk to the end). This measure only stops a recording early.
   */
  #recordedEntryBytes(pending: Pending, bytes: number): number {
    return pending.envelopeBytes + pending.bytes + bytes + pending.chunks.length * 2;
  }

  /**
   * Reserves a recorded chunk's bytes. Within the recordings' own ceiling, a budget the memory
   * tier has filled makes room by evicting its least recently used entries, as storing the
   * finished stream would: the recordings must not be starved by the entries they feed.
   */
  #reserveRecording(bytes: number): boolean {
    const recordings = this.#recordings;
    if (recordings.usedBytes + bytes > recordings.maxBytes) return recordings.reserve(bytes);
    return this.#memory.makeRoom(() => recordings.reserve(bytes));
  }

  #finish(context: RequestContext): void {
    const pending = context.state.get(PLUGIN_NAME) as Pending | undefined;
    if (pending === undefined) return;
    context.state.delete(PLUGIN_NAME);
    this.#recordings.release(pending.bytes);
    if (context.cacheHit || this.#closed) return;
    const expiresAt = this.#now() + pending.ttlMs;
    if (!context.stream) {
      // an answer a transform refused (or a request that failed otherwise) is not stored
      if (pending.response !== undefined && context.error === undefined)
        this.#write(
          pending.key,
          responseEntryBody(pending.response, expiresAt, originOf(context)),
          expiresAt,
          pending.ttlMs,
          pending.refresh,
        );
      return;
    }
    // a failed or aborted stream is never cached
    const failed = context.error !== undefined || (pending.chunks.length === 0 && !pending.abandoned);
    // the usage chunk was recorded too (before the engine hid it from a client that did not ask)
    const body =
      pending.abandoned || failed ? undefined : streamEntryBody(pending.chunks, expiresAt, originOf(context));
    // the model and cost, known only now, may take a recording that fitted past the limit
    const unrecorded =
      pending.abandoned || (body !== undefined && entryBytes(pending.key, body) > this.#maxEntryBytes);
    if (body === undefined || unrecorded) {
      this.#counters.abandonedStreams += 1;
      // a refresh answered in full but not recorded (too large, or no room): the entry it was to
      // replace goes; a failed one leaves it, since no fresh answer replaced it
      if (pending.refresh && unrecorded && !failed) this.#discard(pending.key);
      return;
    }
    this.#write(pending.key, body, expiresAt, pending.ttlMs, pending.refresh);
  }
}

/**
 * The names of a cache's accounts in its memory budget: `response-cache` and
 * `response-cache-recordings` in the default namespace, suffixed `:<namespace>` in another, so
 * caches of distinct namespaces share one budget.
 */
function accountNames(namespace: string | undefined): { memory: string; recordings: string } {
  const suffix = namespace === undefined || namespace === 'default' ? '' : `:${namespace}`;
  return { memory: `response-cache${suffix}`, recordings: `response-cache-recordings${suffix}` };
}

/** Opens one of a cache's accounts, saying which cache holds the name when it is taken. */
function openAccount(
  budget: MemoryBudget,
  name: string,
  maxBytes: number,
  namespace: string | undefined,
): MemoryAccount {
  try {
    return budget.account(name, maxBytes);
  } catch (error) {
    if (!(error instanceof SwitchyardError) || error.code !== 'duplicate_registration') throw error;
    throw new SwitchyardError(
      'duplicate_registration',
      `Response cache: the memory account "${name}" is already open in this memory budget, most likely held by an open response cache of namespace "${namespace ?? 'default'}": close it first (ResponseCache.close(), or close() of the context plugins that built it), or give this cache a namespace of its own.`,
      { cause: error },
    );
  }
}

/** What an entry keeps of the request that stored it: the model that answered, and the cost (priced by then: `onUsage` comes first). */
function originOf(context: RequestContext): CacheEntryOrigin {
  return context.upstreamModel === undefined
    ? { cost: context.costUsd ?? null }
    : { model: context.upstreamModel, cost: context.costUsd ?? null };
}

/**
 * The engine's answer for a cached entry; a stream gets its usage back as a final chunk when
 * none carried it (an entry written before usage chunks were recorded).
 */
function toAnswer(entry: CacheEntry): PrecomputedAnswer {
  if (entry.kind === 'response') return { kind: 'response', response: entry.response };
  const chunks = entry.chunks;
  const last = chunks.at(-1);
  if (entry.usage !== undefined && last !== undefined && !chunks.some((chunk) => chunk.usage)) {
    // the engine hides this chunk from clients that did not ask for usage
    return {
      kind: 'stream',
      chunks: [
        ...chunks,
        {
          id: last.id,
          object: 'chat.completion.chunk',
          created: last.created,
          model: last.model,
          choices: [],
          usage: entry.usage,
        },
      ],
    };
  }
  return { kind: 'stream', chunks };
}

/** Creates the response cache plugin (see {@link ResponseCache}). */
export function createResponseCache(options: ResponseCacheOptions): ResponseCache {
  return new ResponseCache(options);
}
