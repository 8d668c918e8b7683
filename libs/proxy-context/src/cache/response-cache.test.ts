import {
  PROVIDER_CONTRACT_VERSION,
  createGateway,
  createRequestContext,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type Gateway,
  type GatewayPlugin,
  type ProviderFactory,
  silentLogger,
} from '@switchyard/proxy-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryBudget } from '../memory/memory-budget';
import { createResponseCache, type ResponseCache } from './response-cache';
import type { ResponseCacheOptions } from './response-cache-options';
import type { RedisCacheClient } from './redis-tier';
import { entryBytes } from './memory-tier';
import { cacheContext as ctx, cacheGateway, collect } from '../../test/support/cache-gateway';

const request: ChatCompletionRequest = {
  model: 'demo',
  messages: [{ role: 'user', content: 'hello cache' }],
  temperature: 0,
};

/** A pricing plugin: every answer costs $0.50. */
const pricing: GatewayPlugin = {
  name: 'price',
  apply: (hooks) => hooks.onUsage.tap('price', (_u, context) => void (context.costUsd = 0.5)),
};
const setup = (options: Partial<ResponseCacheOptions> = {}) => cacheGateway(options, [pricing]);

afterEach(() => {
  vi.useRealTimers();
});

describe('response cache', () => {
  it('answers a repeated request from memory: no upstream call, HIT, usage cached, cost 0', async () => {
    const { gateway, cache, upstreamCalls } = setup();
    const first = ctx();
    const a = await gateway.chat(request, { context: first });
    expect(first.cacheStatus).toBe('MISS');
    expect(first.costUsd).toBe(0.5);
    const second = ctx();
    const b = await gateway.chat(
      { ...request, user: 'ignored', messages: [{ content: 'hello cache', role: 'user' }] },
      { context: second },
    );
    expect(b).toEqual(a);
    expect(upstreamCalls()).toBe(1);
    expect(second).toMatchObject({ cacheStatus: 'HIT', cacheHit: true, costUsd: 0, usage: a.usage });
    expect(cache.stats()).toMatchObject({ hits: 1, memoryHits: 1, misses: 1, stores: 1 });
  });

  it('never serves one tenant another tenant’s answer', async () => {
    const { gateway, upstreamCalls } = setup();
    await gateway.chat(request, { context: ctx() });
    const other = createRequestContext({ metadata: { apiKeyId: 'key-b' } });
    await gateway.chat(request, { context: other });
    expect(other.cacheStatus).toBe('MISS');
    expect(upstreamCalls()).toBe(2);
  });

  it('shares answers across keys bound to one customer with scope "customer"', async () => {
    const { gateway, upstreamCalls } = setup({ scope: 'customer' });
    await gateway.chat(request, {
      context: createRequestContext({
        metadata: { apiKeyId: 'k1', customerId: 'acme', keyCustomerId: 'acme' },
      }),
    });
    const second = createRequestContext({
      metadata: { apiKeyId: 'k2', customerId: 'acme', keyCustomerId: 'acme' },
    });
    await gateway.chat(request, { context: second });
    expect(second.cacheStatus).toBe('HIT');
    expect(upstreamCalls()).toBe(1);
  });

  it('keeps a customer id a key sent within that key with scope "customer": it opens no other key\'s customer', async () => {
    const { gateway, upstreamCalls } = setup({ scope: 'customer' });
    await gateway.chat(request, {
      context: createRequestContext({
        metadata: { apiKeyId: 'acme-key', customerId: 'acme', keyCustomerId: 'acme' },
      }),
    });
    // another key labelling its request with acme's id does not read acme's answers
    const spoofed = createRequestContext({ metadata: { apiKeyId: 'eve-key', customerId: 'acme' } });
    await gateway.chat(request, { context: spoofed });
    expect(spoofed.cacheStatus).toBe('MISS');
    // its own end customers are kept apart from each other, and share within one customer
    const endUser = createRequestContext({ metadata: { apiKeyId: 'eve-key', customerId: 'end-user-1' } });
    await gateway.chat(request, { context: endUser });
    expect(endUser.cacheStatus).toBe('MISS');
    const again = createRequestContext({ metadata: { apiKeyId: 'eve-key', customerId: 'end-user-1' } });
    await gateway.chat(request, { context: again });
    expect(again.cacheStatus).toBe('HIT');
    expect(upstreamCalls()).toBe(3);
  });

  it('expires entries after their TTL, with a per-model TTL', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { gateway, upstreamCalls } = setup({ ttlMs: 60_000, models: { demo: { ttlMs: 5_000 } } });
    await gateway.chat(request, { context: ctx() });
    vi.advanceTimersByTime(4_999);
    const fresh = ctx();
    await gateway.chat(request, { context: fresh });
    expect(fresh.cacheStatus).toBe('HIT');
    vi.advanceTimersByTime(2);
    const stale = ctx();
    await gateway.chat(request, { context: stale });
    expect(stale.cacheStatus).toBe('MISS');
    expect(upstreamCalls()).toBe(2);
  });

  it('honours skip, refresh, no-cache and no-store', async () => {
    const { gateway, upstreamCalls } = setup();
    const skipped = ctx({ directives: { cache: 'skip' } });
    await gateway.chat(request, { context: skipped });
    expect(skipped.cacheStatus).toBe('BYPASS');
    const noStore = ctx({ directives: { noStore: true } });
    await gateway.chat(request, { context: noStore });
    expect(noStore.cacheStatus).toBe('MISS');
    const stillEmpty = ctx({ directives: { noStore: true } });
    await gateway.chat(request, { context: stillEmpty });
    expect(stillEmpty.cacheStatus).toBe('MISS');
    await gateway.chat(request, { context: ctx() }); // stores
    const refreshed = ctx({ directives: { cache: 'refresh' } });
    await gateway.chat(request, { context: refreshed });
    expect(refreshed.cacheStatus).toBe('MISS');
    const noCache = ctx({ directives: { noCache: true } });
    await gateway.chat(request, { context: noCache });
    expect(noCache.cacheHit).toBe(false);
    const hit = ctx();
    await gateway.chat(request, { context: hit });
    expect(hit.cacheStatus).toBe('HIT');
    expect(upstreamCalls()).toBe(6);
  });

  it('publishes the key of an entry replaced by a request that skipped the read (refresh, no-cache), and only then', async () => {
    const { gateway, cache } = setup();
    const published: string[] = [];
    cache.setEvictionPublisher({ publish: (key) => published.push(key) });
    await gateway.chat(request, { context: ctx() });
    await gateway.chat(request, { context: ctx() });
    expect(published).toEqual([]);
    await gateway.chat(request, { context: ctx({ directives: { cache: 'refresh' } }) });
    await gateway.chat(request, { context: ctx({ directives: { noCache: true } }) });
    // nothing stored, nothing replaced
    await gateway.chat(request, { context: ctx({ directives: { noCache: true, noStore: true } }) });
    expect(published).toHaveLength(2);
    expect(new Set(published).size).toBe(1);
    // evicted on another instance: the next lookup misses memory (here there is no Redis behind it)
    cache.evict(published[0]!);
    const after = ctx();
    await gateway.chat(request, { context: after });
    expect(after.cacheStatus).toBe('MISS');
  });

  it('logs a publisher that throws instead of letting it escape as an unhandled rejection', async () => {
    const client: RedisCacheClient = {
      getBuffer: () => Promise.resolve(null),
      set: () => Promise.resolve('OK'),
      quit: () => Promise.resolve('OK'),
    };
    const warnings: string[] = [];
    const { gateway, cache } = setup({
      redis: { client, keyPrefix: 'p:' },
      logger: { ...silentLogger, warn: (_fields, message) => void warnings.push(message ?? '') },
    });
    cache.setEvictionPublisher({
      publish: () => {
        throw new Error('publisher broke');
      },
    });
    // a client without multi() cannot tell whether the write replaced an entry: taken as one
    await gateway.chat(request, { context: ctx({ directives: { noCache: true } }) });
    await gateway.chat(request, { context: ctx({ directives: { noCache: true } }) });
    await vi.waitFor(() => expect(cache.stats().redis?.sent).toBe(2));
    await vi.waitFor(() => expect(warnings).toHaveLength(1));
    expect(warnings[0]).toMatch(/eviction publisher threw.*logged once/);
  });

  it('publishes an in-flight write to the publisher set when it lands, not to one replaced or unset since', async () => {
    let land = (): void => undefined;
    const landed = new Promise<void>((resolve) => (land = resolve));
    const client: RedisCacheClient = {
      getBuffer: () => Promise.resolve(null),
      set: async () => {
        await landed;
        return 'OK';
      },
      quit: () => Promise.resolve('OK'),
    };
    const { gateway, cache } = setup({ redis: { client, keyPrefix: 'p:' } });
    const closed: string[] = [];
    const current: string[] = [];
    cache.setEvictionPublisher({ publish: (key) => closed.push(key) });
    await gateway.chat(request, { context: ctx({ directives: { cache: 'refresh' } }) });
    await vi.waitFor(() => expect(cache.stats().redis?.sent).toBe(1));
    // the app closing unsets its publisher while the write is in flight
    cache.setEvictionPublisher(undefined);
    cache.setEvictionPublisher({ publish: (key) => current.push(key) });
    land();
    await vi.waitFor(() => expect(current).toHaveLength(1));
    expect(closed).toEqual([]);
  });

  it('does not put back in memory an answer whose Redis read was in flight when the entry was evicted', async () => {
    const stored = new Map<string, Buffer>();
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = false;
    const client: RedisCacheClient = {
      getBuffer: async (key) => {
        if (holding) await held;
        return stored.get(key) ?? null;
      },
      set: async (key, value) => void stored.set(key, value),
      quit: () => Promise.resolve('OK'),
    };
    const { gateway, cache } = setup({ redis: { client, keyPrefix: 'p:' } });
    const published: string[] = [];
    cache.setEvictionPublisher({ publish: (key) => published.push(key) });
    await gateway.chat(request, { context: ctx({ directives: { cache: 'refresh' } }) });
    await vi.waitFor(() => expect(published).toHaveLength(1));
    const key = published[0]!;
    cache.clear();
    holding = true;
    const reading = ctx();
    const answered = gateway.chat(request, { context: reading });
    await vi.waitFor(() => expect(cache.stats().redis?.sent).toBe(2));
    cache.evict(key);
    release();
    await answered;
    // read before the eviction arrived: served, but not kept
    expect(reading.cacheStatus).toBe('HIT');
    const next = ctx();
    await gateway.chat(request, { context: next });
    expect(next.cacheStatus).toBe('HIT');
    expect(cache.stats()).toMatchObject({ redisHits: 2, memoryHits: 0 });
  });

  it('does not put back in memory an answer whose Redis read was in flight when a refresh on this instance replaced it (it served the old answer until its TTL)', async () => {
    const stored = new Map<string, Buffer>();
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = false;
    const client: RedisCacheClient = {
      // reads the stored value first, then waits: the read answers what Redis held when it was asked
      getBuffer: async (key) => {
        const value = stored.get(key) ?? null;
        if (holding) await held;
        return value;
      },
      set: async (key, value) => void stored.set(key, value),
      quit: () => Promise.resolve('OK'),
    };
    const { gateway, cache } = setup({ redis: { client, keyPrefix: 'p:' } });
    const old = await gateway.chat(request, { context: ctx() });
    await vi.waitFor(() => expect(stored.size).toBe(1));
    const [fullKey, oldValue] = [...stored][0]!;
    cache.clear();
    holding = true;
    const reading = ctx();
    const answered = gateway.chat(request, { context: reading });
    // the first request's GET and SET, then this read's GET
    await vi.waitFor(() => expect(cache.stats().redis?.sent).toBe(3));
    const fresh = await gateway.chat(request, { context: ctx({ directives: { cache: 'refresh' } }) });
    expect(fresh.id).not.toBe(old.id);
    await vi.waitFor(() => expect(stored.get(fullKey)).not.toBe(oldValue));
    release();
    // read before the refresh landed: served the old answer, but not kept
    expect((await answered).id).toBe(old.id);
    expect(reading.cacheStatus).toBe('HIT');
    const next = ctx();
    const after = await gateway.chat(request, { context: next });
    expect(next.cacheStatus).toBe('HIT');
    expect(after.id).toBe(fresh.id);
  });

  it('does not put in memory an answer Redis gave while a write of the entry here was still on its way there', async () => {
    const stored = new Map<string, Buffer>();
    let land = (): void => undefined;
    let holding = false;
    let sets = 0;
    const client: RedisCacheClient = {
      getBuffer: (key) => Promise.resolve(stored.get(key) ?? null),
      set: async (key, value) => {
        sets += 1;
        if (holding) await new Promise<void>((resolve) => (land = resolve));
        stored.set(key, value);
      },
      quit: () => Promise.resolve('OK'),
    };
    const { gateway, cache } = setup({ redis: { client, keyPrefix: 'p:' } });
    const old = await gateway.chat(request, { context: ctx() });
    await vi.waitFor(() => expect(stored.size).toBe(1));
    const [fullKey, oldValue] = [...stored][0]!;
    holding = true;
    const fresh = await gateway.chat(request, { context: ctx({ directives: { cache: 'refresh' } }) });
    await vi.waitFor(() => expect(sets).toBe(2));
    // the memory tier emptied (as when the eviction channel subscribes again) before Redis has the fresh answer
    cache.clear();
    const during = ctx();
    expect((await gateway.chat(request, { context: during })).id).toBe(old.id);
    expect(during.cacheStatus).toBe('HIT');
    land();
    await vi.waitFor(() => expect(stored.get(fullKey)).not.toBe(oldValue));
    const after = await gateway.chat(request, { context: ctx() });
    expect(after.id).toBe(fresh.id);
  });

  it('measures an entry the same way in both tiers: one memory refuses is not written to Redis (each Redis hit was refused by memory again)', async () => {
    const stored = new Map<string, Buffer>();
    const client: RedisCacheClient = {
      getBuffer: (key) => Promise.resolve(stored.get(key) ?? null),
      set: async (key, value) => void stored.set(key, value),
      quit: () => Promise.resolve('OK'),
    };
    // the entry's size, from a cache that takes it
    const sized = setup({ redis: { client, keyPrefix: 'p:' } });
    await sized.gateway.chat(request, { context: ctx() });
    await vi.waitFor(() => expect(stored.size).toBe(1));
    const bodyChars = [...stored.values()][0]!.length - 1;
    stored.clear();
    // a limit above the body at 2 bytes a character, below what memory charges with the key and overhead
    const { gateway, cache } = setup({
      redis: { client, keyPrefix: 'p:' },
      maxEntryBytes: bodyChars * 2 + 40,
    });
    for (let index = 0; index < 3; index += 1) {
      const each = ctx();
      await gateway.chat(request, { context: each });
      expect(each.cacheStatus).toBe('MISS');
    }
    await vi.waitFor(() => expect(cache.stats().redis?.oversized).toBe(3));
    expect(stored.size).toBe(0);
    expect(cache.stats().memory.rejections).toBe(3);
  });

  it('does not cache non-deterministic requests unless configured', async () => {
    const warm = { ...request, temperature: 0.7 };
    const plain = setup();
    await plain.gateway.chat(warm, { context: ctx() });
    const again = ctx();
    await plain.gateway.chat(warm, { context: again });
    expect(again.cacheStatus).toBe('BYPASS');
    const seeded = ctx();
    await plain.gateway.chat({ ...warm, seed: 7 }, { context: ctx() });
    await plain.gateway.chat({ ...warm, seed: 7 }, { context: seeded });
    expect(seeded.cacheStatus).toBe('HIT');
    const configured = setup({ cacheNonDeterministic: true });
    await configured.gateway.chat(warm, { context: ctx() });
    const hit = ctx();
    await configured.gateway.chat(warm, { context: hit });
    expect(hit.cacheStatus).toBe('HIT');
  });

  it('replays a cached stream chunk for chunk, byte for byte, and keeps streams and responses apart', async () => {
    const { gateway, upstreamCalls } = setup();
    const first = await collect(await gateway.stream(request, { context: ctx() }));
    const hitContext = ctx();
    const replayed = await collect(await gateway.stream(request, { context: hitContext }));
    expect(hitContext.cacheStatus).toBe('HIT');
    expect(replayed.map((c) => JSON.stringify(c)).join('\n')).toBe(
      first.map((c) => JSON.stringify(c)).join('\n'),
    );
    expect(hitContext.usage?.total_tokens).toBeGreaterThan(0);
    expect(upstreamCalls()).toBe(1);
    // a client asking for usage gets it on replay even though the first client did not
    const withUsage = await collect(
      await gateway.stream({ ...request, stream_options: { include_usage: true } }, { context: ctx() }),
    );
    expect(withUsage.at(-1)?.usage?.total_tokens).toBe(hitContext.usage?.total_tokens);
    const whole = ctx();
    await gateway.chat(request, { context: whole });
    expect(whole.cacheStatus).toBe('MISS');
  });

  it('never caches a stream the client abandoned', async () => {
    const { gateway, cache } = setup();
    const stream = await gateway.stream(request, { context: ctx() });
    for await (const _chunk of stream) break;
    const next = ctx();
    await collect(await gateway.stream(request, { context: next }));
    expect(next.cacheStatus).toBe('MISS');
    expect(cache.stats().abandonedStreams).toBe(1);
  });

  it('does not store a stream larger than an entry may be, and frees its recording', async () => {
    const budget = new MemoryBudget({ maxBytes: 1024 * 1024 });
    const { gateway, cache } = setup({ budget, maxEntryBytes: 600 });
    await collect(await gateway.stream(request, { context: ctx() }));
    expect(cache.stats()).toMatchObject({ abandonedStreams: 1, stores: 0 });
    expect(budget.stats().accounts['response-cache-recordings']?.usedBytes).toBe(0);
  });

  it('still caches streams once the memory tier fills a budget it shares with the recordings: a recording evicts old entries as an entry would', async () => {
    // memory.budgetBytes as large as cache.maxBytes (the reference gateway accepts it): the tier may take it all
    const budget = new MemoryBudget({ maxBytes: 64 * 1024 });
    const { gateway, cache } = setup({ budget, memory: { maxBytes: 64 * 1024 } });
    for (let index = 0; cache.stats().memory.evictions === 0; index += 1)
      await gateway.chat(
        { ...request, messages: [{ role: 'user', content: `fill ${index}` }] },
        { context: ctx() },
      );
    const first = ctx();
    await collect(await gateway.stream(request, { context: first }));
    const second = ctx();
    await collect(await gateway.stream(request, { context: second }));
    expect([first.cacheStatus, second.cacheStatus]).toEqual(['MISS', 'HIT']);
    expect(cache.stats().abandonedStreams).toBe(0);
    expect(budget.usedBytes).toBeLessThanOrEqual(budget.maxBytes);
    expect(budget.stats().accounts['response-cache-recordings']?.usedBytes).toBe(0);
  });

  it("close gives a shared budget back the memory tier's bytes and a recording's in flight, and frees the accounts' names", async () => {
    const budget = new MemoryBudget({ maxBytes: 1024 * 1024 });
    const other = budget.account('queue');
    expect(other.reserve(1000)).toBe(true);
    const { gateway, cache } = setup({ budget });
    await gateway.chat(request, { context: ctx() });
    const chunks = (await gateway.stream(request, { context: ctx() }))[Symbol.asyncIterator]();
    expect((await chunks.next()).done).toBe(false);
    expect(budget.stats().accounts['response-cache']?.usedBytes).toBeGreaterThan(0);
    expect(budget.stats().accounts['response-cache-recordings']?.usedBytes).toBeGreaterThan(0);
    await cache.close();
    expect(budget.usedBytes).toBe(1000);
    expect(Object.keys(budget.stats().accounts)).toEqual(['queue']);
    expect(cache.stats().memory).toMatchObject({ entries: 0, usedBytes: 0 });
    // the stream recorded before the close ends after it: its recording is not given back twice,
    // and the closed cache holds nothing more
    const stores = cache.stats().stores;
    while ((await chunks.next()).done !== true);
    const after = ctx();
    await gateway.chat(request, { context: after });
    expect(after.cacheStatus).toBe('BYPASS');
    expect(budget.usedBytes).toBe(1000);
    expect(cache.stats()).toMatchObject({ stores, memory: { entries: 0, usedBytes: 0 } });
    // a cache built anew on the budget opens the same accounts
    const again = createResponseCache({ memory: { maxBytes: 1024 * 1024 }, budget });
    expect(Object.keys(budget.stats().accounts).sort()).toEqual([
      'queue',
      'response-cache',
      'response-cache-recordings',
    ]);
    await again.close();
  });

  it('shares one budget between live caches of distinct namespaces, each in accounts of its own, and refuses a second of one namespace', async () => {
    const budget = new MemoryBudget({ maxBytes: 4 * 1024 * 1024 });
    const staging = setup({ budget, namespace: 'staging' });
    const production = setup({ budget, namespace: 'production' });
    await staging.gateway.chat(request, { context: ctx() });
    const accounts = budget.stats().accounts;
    expect(Object.keys(accounts).sort()).toEqual([
      'response-cache-recordings:production',
      'response-cache-recordings:staging',
      'response-cache:production',
      'response-cache:staging',
    ]);
    expect(accounts['response-cache:staging']?.usedBytes).toBeGreaterThan(0);
    expect(accounts['response-cache:production']?.usedBytes).toBe(0);
    const second = (): ResponseCache =>
      createResponseCache({ memory: { maxBytes: 1024 }, budget, namespace: 'staging' });
    expect(second).toThrow(expect.objectContaining({ code: 'duplicate_registration' }));
    expect(second).toThrow(/namespace "staging".*close it.*namespace of its own/s);
    // a refused cache leaves no account open behind it, when its second account is the one taken too
    expect(Object.keys(budget.stats().accounts)).toHaveLength(4);
    const taken = budget.account('response-cache-recordings:test');
    expect(() => createResponseCache({ memory: { maxBytes: 1024 }, budget, namespace: 'test' })).toThrow(
      expect.objectContaining({ code: 'duplicate_registration' }),
    );
    expect(budget.stats().accounts['response-cache:test']).toBeUndefined();
    taken.close();
    await staging.cache.close();
    expect(budget.stats().accounts['response-cache:staging']).toBeUndefined();
    expect(budget.usedBytes).toBe(0);
    await production.cache.close();
    // the default namespace, named or not, keeps the accounts' plain names
    const named = createResponseCache({ memory: { maxBytes: 1024 }, budget, namespace: 'default' });
    expect(Object.keys(budget.stats().accounts).sort()).toEqual([
      'response-cache',
      'response-cache-recordings',
    ]);
    expect(() => createResponseCache({ memory: { maxBytes: 1024 }, budget })).toThrow(
      expect.objectContaining({ code: 'duplicate_registration' }),
    );
    await named.close();
  });

  it("caches the chat requests of /v1/messages too, in the same entries as chat's, and no other endpoint's", async () => {
    const { gateway, upstreamCalls } = setup();
    const fromMessages = ctx({ endpoint: 'messages' });
    await gateway.chat(request, { context: fromMessages });
    expect(fromMessages.cacheStatus).toBe('MISS');
    const fromChat = ctx({ endpoint: 'chat' });
    await gateway.chat(request, { context: fromChat });
    expect(fromChat.cacheStatus).toBe('HIT');
    const streamed = ctx({ endpoint: 'messages' });
    await collect(await gateway.stream(request, { context: streamed }));
    const replayed = ctx({ endpoint: 'messages' });
    await collect(await gateway.stream(request, { context: replayed }));
    expect([streamed.cacheStatus, replayed.cacheStatus]).toEqual(['MISS', 'HIT']);
    expect(upstreamCalls()).toBe(2);
    const legacy = ctx({ endpoint: 'completions' });
    await gateway.complete({ model: 'demo', prompt: 'hello cache', temperature: 0 }, { context: legacy });
    expect(legacy.cacheStatus).toBe('BYPASS');
  });

  it("neither stores nor serves an answer the request's caller cannot deliver (acceptsResponse), and leaves the entry to callers that can", async () => {
    const { gateway, cache, upstreamCalls } = setup();
    const refusing = (): ReturnType<typeof ctx> => {
      const context = ctx({ endpoint: 'messages' });
      context.acceptsResponse = () => false;
      return context;
    };
    // refused when received: not stored, so the same request goes upstream again
    const first = refusing();
    await gateway.chat(request, { context: first });
    expect(first.cacheStatus).toBe('MISS');
    expect(cache.stats()).toMatchObject({ stores: 0, undeliverable: 1 });
    const chat = ctx();
    await gateway.chat(request, { context: chat });
    expect(chat.cacheStatus).toBe('MISS');
    expect(upstreamCalls()).toBe(2);
    // an entry a caller that can deliver it stored is a miss for one that cannot, and stays
    const second = refusing();
    await gateway.chat(request, { context: second });
    expect(second).toMatchObject({ cacheStatus: 'MISS', cacheHit: false });
    expect(upstreamCalls()).toBe(3);
    const again = ctx();
    await gateway.chat(request, { context: again });
    expect(again.cacheStatus).toBe('HIT');
    expect(cache.stats()).toMatchObject({ hits: 1, memoryHits: 1, misses: 3, stores: 1, undeliverable: 3 });
    // a caller that accepts the entry is answered from it
    const accepting = ctx({ endpoint: 'messages' });
    const seen: unknown[] = [];
    accepting.acceptsResponse = (response) => seen.push(response) > 0;
    const answered = await gateway.chat(request, { context: accepting });
    expect(accepting.cacheStatus).toBe('HIT');
    expect(seen).toEqual([answered]);
    // streams are not asked (the check is of whole answers): stored and replayed
    const streamed = refusing();
    await collect(await gateway.stream(request, { context: streamed }));
    const replayed = refusing();
    await collect(await gateway.stream(request, { context: replayed }));
    expect([streamed.cacheStatus, replayed.cacheStatus]).toEqual(['MISS', 'HIT']);
  });

  describe('an acceptsResponse that throws is a refusal, warned about once', () => {
    function throwingSetup(): {
      gateway: Gateway;
      cache: ResponseCache;
      received: unknown[];
      warnings: object[];
      throwing: () => ReturnType<typeof ctx>;
    } {
      const warnings: object[] = [];
      const cache = createResponseCache({
        memory: { maxBytes: 1024 * 1024 },
        logger: { ...silentLogger, warn: (fields) => void warnings.push(fields) },
      });
      const received: unknown[] = [];
      const after: GatewayPlugin = {
        name: 'after',
        apply: (hooks) => hooks.onResponseReceived.tap('after', (response) => void received.push(response)),
      };
      const gateway = createGateway({
        providers: [{ name: 'mock', type: 'mock' }],
        models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
        plugins: [cache, after],
      });
      const throwing = (): ReturnType<typeof ctx> => {
        const context = ctx({ endpoint: 'messages' });
        context.acceptsResponse = () => {
          throw new Error('translator bug');
        };
        return context;
      };
      return { gateway, cache, received, warnings, throwing };
    }

    it('when the answer is received: not stored, and the observers tapped after the cache still see it', async () => {
      const { gateway, cache, received, warnings, throwing } = throwingSetup();
      for (let i = 0; i < 2; i++) await gateway.chat(request, { context: throwing() });
      expect(received).toHaveLength(2);
      expect(cache.stats()).toMatchObject({ stores: 0, undeliverable: 2 });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ err: { message: 'translator bug' }, endpoint: 'messages' });
    });

    it('when a lookup meets an entry a chat client stored: a miss that goes upstream, not a failed request', async () => {
      const { gateway, cache, throwing } = throwingSetup();
      await gateway.chat(request, { context: ctx() });
      const context = throwing();
      await expect(gateway.chat(request, { context })).resolves.toMatchObject({ object: 'chat.completion' });
      expect(context).toMatchObject({ cacheStatus: 'MISS', cacheHit: false });
      expect(cache.stats()).toMatchObject({ hits: 0, stores: 1 });
    });
  });

  it("refuses a Redis command timeout above MAX_TIMER_MS (ioredis's timer would fire after 1 ms: every command a timeout), saying why at the field", () => {
    const why =
      '3000000000 ms is above 2147483647 ms (about 24.8 days), the longest a Node.js timer waits: a longer delay would fire after 1 ms';
    for (const redis of [
      { url: 'redis://127.0.0.1:6379' },
      { cluster: { nodes: ['redis://127.0.0.1:7000'] } },
    ]) {
      let message = '';
      try {
        createResponseCache({
          memory: { maxBytes: 1024 * 1024 },
          redis: { ...redis, commandTimeoutMs: 3_000_000_000 },
        });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toBe(`Invalid response cache options:\n/redis/commandTimeoutMs: ${why}`);
    }
    const client: RedisCacheClient = {
      getBuffer: () => Promise.resolve(null),
      set: () => Promise.resolve('OK'),
      quit: () => Promise.resolve('OK'),
    };
    expect(() =>
      createResponseCache({
        memory: { maxBytes: 1024 * 1024 },
        redis: { client, commandTimeoutMs: 2_147_483_647 },
      }),
    ).not.toThrow();
  });

  it('refuses a given Redis client without the commands the cache sends, at start (it failed every read and write once running)', () => {
    expect(() =>
      createResponseCache({
        memory: { maxBytes: 1024 * 1024 },
        redis: {
          client: { getBuffer: () => Promise.resolve(null), multi: true } as unknown as RedisCacheClient,
        },
      }),
    ).toThrow(
      'Invalid response cache options:\n/redis/client: set, quit, multi are not functions: give an ioredis Redis or Cluster instance',
    );
  });

  it('rejects options without a memory bound, listing every problem', () => {
    expect(() => createResponseCache({ memory: { maxBytes: 0 }, ttlMs: -1 })).toThrow(
      /memory\/maxBytes[\s\S]*ttlMs/,
    );
    expect(() => createResponseCache({} as ResponseCacheOptions)).toThrow(
      expect.objectContaining({ code: 'invalid_options' }),
    );
  });

  it('refuses a TTL Redis could not be given (1e22 is written 1e+22, and every write failed)', () => {
    expect(() =>
      createResponseCache({ memory: { maxBytes: 1024 * 1024 }, ttlMs: 1e22, models: { m: { ttlMs: 1e20 } } }),
    ).toThrow(/\/ttlMs[\s\S]*\/models\/m\/ttlMs/);
    expect(() =>
      createResponseCache({ memory: { maxBytes: 1024 * 1024 }, ttlMs: Number.MAX_SAFE_INTEGER }),
    ).not.toThrow();
  });
});

/**
 * A gateway (its cache's `maxEntryBytes` 4000 unless given) whose upstream answers `<call>:` and
 * `answer.chars` x's, new each call, whole or streamed (a content chunk, then a finish chunk).
 */
function scripted(options: Partial<ResponseCacheOptions>): {
  gateway: Gateway;
  cache: ResponseCache;
  answer: { chars: number };
} {
  const answer = { chars: 10 };
  let calls = 0;
  const text = (): string => `${(calls += 1)}:${'x'.repeat(answer.chars)}`;
  const factory: ProviderFactory = {
    type: 'scripted',
    create: ({ name }) => ({
      contractVersion: PROVIDER_CONTRACT_VERSION,
      name,
      type: 'scripted',
      chat: () =>
        Promise.resolve({
          id: 'c',
          object: 'chat.completion',
          created: 1,
          model: 'v',
          choices: [{ index: 0, message: { role: 'assistant', content: text() }, finish_reason: 'stop' }],
        }),
      stream: () => {
        const content = text();
        return Promise.resolve(
          (async function* (): AsyncGenerator<ChatCompletionChunk> {
            const base = { id: 'c', object: 'chat.completion.chunk' as const, created: 1, model: 'v' };
            yield { ...base, choices: [{ index: 0, delta: { content }, finish_reason: null }] };
            yield { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] };
          })(),
        );
      },
    }),
  };
  const cache = createResponseCache({ memory: { maxBytes: 1024 * 1024 }, maxEntryBytes: 4000, ...options });
  const gateway = createGateway({
    providers: [{ name: 'scripted', type: 'scripted' }],
    models: [{ name: 'demo', targets: [{ provider: 'scripted', model: 'v' }] }],
    plugins: [
      {
        name: 'scripted',
        apply: (hooks) => hooks.registerProviders.tap('scripted', (r) => r.register(factory)),
      },
      cache,
    ],
  });
  return { gateway, cache, answer };
}

describe('the recordings of streams', () => {
  it('are bounded by four entries at the effective limit, which a memory bound below maxEntryBytes lowers, in a given budget and in the default one', async () => {
    const budget = new MemoryBudget({ maxBytes: 64 * 1024 * 1024 });
    createResponseCache({ memory: { maxBytes: 4096 }, budget });
    expect(budget.stats().accounts['response-cache-recordings']?.maxBytes).toBe(4 * 4096);
    // the default budget: six streams recording a first chunk of about 3000 bytes each at once,
    // each entry under the limit of 4096 bytes: four entries at the limit hold five such chunks
    const { gateway, cache, answer } = scripted({ memory: { maxBytes: 4096 }, maxEntryBytes: 1024 * 1024 });
    answer.chars = 1400;
    const streams: AsyncIterator<ChatCompletionChunk>[] = [];
    for (let index = 0; index < 6; index += 1)
      streams.push((await gateway.stream(request, { context: ctx() }))[Symbol.asyncIterator]());
    for (const stream of streams) expect((await stream.next()).done).toBe(false);
    for (const stream of streams) while ((await stream.next()).done !== true);
    expect(cache.stats()).toMatchObject({ misses: 6, abandonedStreams: 1, stores: 5 });
  });
});

describe('a refresh whose fresh answer cannot be stored', () => {
  it('counts as a store only an answer a tier could take: one larger than an entry may be is not, and still drops the entry it refreshes', async () => {
    const { gateway, cache, answer } = scripted({});
    await gateway.chat(request, { context: ctx() });
    expect(cache.stats()).toMatchObject({ stores: 1, memory: { entries: 1, rejections: 0 } });
    answer.chars = 5000;
    await gateway.chat(request, { context: ctx({ directives: { cache: 'refresh' } }) });
    const next = ctx();
    await gateway.chat(request, { context: next });
    expect(next.cacheStatus).toBe('MISS');
    // both refused by both tiers (they share one limit): nothing was stored
    expect(cache.stats()).toMatchObject({ stores: 1, memory: { entries: 0, rejections: 2 } });
    answer.chars = 10;
    await gateway.chat(request, { context: ctx() });
    expect(cache.stats()).toMatchObject({ stores: 2, memory: { entries: 1, rejections: 2 } });
  });

  it('drops the entry a refreshed stream too large to record was to replace (the old answer kept serving)', async () => {
    const { gateway, cache, answer } = scripted({});
    const published: string[] = [];
    cache.setEvictionPublisher({ publish: (key) => published.push(key) });
    await collect(await gateway.stream(request, { context: ctx() }));
    answer.chars = 5000;
    await collect(await gateway.stream(request, { context: ctx({ directives: { noCache: true } }) }));
    expect(cache.stats()).toMatchObject({ abandonedStreams: 1, stores: 1 });
    expect(published).toHaveLength(1);
    const next = ctx();
    await collect(await gateway.stream(request, { context: next }));
    expect(next.cacheStatus).toBe('MISS');
    // nothing was there to drop: nothing is published
    await collect(await gateway.stream(request, { context: ctx({ directives: { noCache: true } }) }));
    expect(published).toHaveLength(1);
  });

  it('drops the entry in memory and in Redis (DEL) when the refreshed answer is too large for either, whole or streamed', async () => {
    const stored = new Map<string, Buffer>();
    const client: RedisCacheClient = {
      getBuffer: (key) => Promise.resolve(stored.get(key) ?? null),
      set: async (key, value) => void stored.set(key, value),
      del: (key) => Promise.resolve(stored.delete(key) ? 1 : 0),
      quit: () => Promise.resolve('OK'),
    };
    const { gateway, cache, answer } = scripted({ redis: { client, keyPrefix: 'p:' } });
    const published: string[] = [];
    cache.setEvictionPublisher({ publish: (key) => published.push(key) });
    await gateway.chat(request, { context: ctx() });
    await collect(await gateway.stream(request, { context: ctx() }));
    await vi.waitFor(() => expect(stored.size).toBe(2));
    answer.chars = 5000;
    await gateway.chat(request, { context: ctx({ directives: { cache: 'refresh' } }) });
    await collect(await gateway.stream(request, { context: ctx({ directives: { cache: 'refresh' } }) }));
    await vi.waitFor(() => expect(stored.size).toBe(0));
    await vi.waitFor(() => expect(published).toHaveLength(2));
    answer.chars = 10;
    const whole = ctx();
    await gateway.chat(request, { context: whole });
    const streamed = ctx();
    await collect(await gateway.stream(request, { context: streamed }));
    expect([whole.cacheStatus, streamed.cacheStatus]).toEqual(['MISS', 'MISS']);
  });
});

describe('the largest entry, as both tiers and a recording measure it', () => {
  /** A client keeping what is written in a map, and the cache key and body chars of an entry written there. */
  function storingClient(): { client: RedisCacheClient; stored: Map<string, Buffer> } {
    const stored = new Map<string, Buffer>();
    const client: RedisCacheClient = {
      getBuffer: (key) => Promise.resolve(stored.get(key) ?? null),
      set: async (key, value) => void stored.set(key, value),
      quit: () => Promise.resolve('OK'),
    };
    return { client, stored };
  }

  /** What the memory tier charges the one entry a cache wrote to Redis (stored raw, under `p:default:`). */
  function chargedBytes(stored: Map<string, Buffer>): number {
    const [fullKey, value] = [...stored][0]!;
    return entryBytes(fullKey.slice('p:default:'.length), value.subarray(1).toString('utf8'));
  }

  it('does not write to Redis an entry larger than the memory tier holds, its bound below maxEntryBytes (memory refused it on every Redis hit)', async () => {
    // an answer past the smallest memory bound (1 KiB): eight choices echoing a long prompt
    const long: ChatCompletionRequest = {
      ...request,
      n: 8,
      messages: [{ role: 'user', content: 'echo '.repeat(40) }],
    };
    const sizing = storingClient();
    await setup({ redis: { client: sizing.client, keyPrefix: 'p:' } }).gateway.chat(long, {
      context: ctx(),
    });
    await vi.waitFor(() => expect(sizing.stored.size).toBe(1));
    const bytes = chargedBytes(sizing.stored);
    const { client, stored } = storingClient();
    // maxEntryBytes at its default (1 MiB), far above the memory tier's whole bound
    const { gateway, cache } = setup({ memory: { maxBytes: bytes - 2 }, redis: { client, keyPrefix: 'p:' } });
    for (let index = 0; index < 3; index += 1) {
      const each = ctx();
      await gateway.chat(long, { context: each });
      expect(each.cacheStatus).toBe('MISS');
    }
    await vi.waitFor(() => expect(cache.stats().redis?.oversized).toBe(3));
    expect(stored.size).toBe(0);
    expect(cache.stats()).toMatchObject({ redisHits: 0, memory: { rejections: 3 } });
  });

  it('does not record a stream whose entry would be larger than an entry may be, its chunks under the limit (it was stored, and refused by both tiers)', async () => {
    const sizing = storingClient();
    await collect(
      await setup({ redis: { client: sizing.client, keyPrefix: 'p:' } }).gateway.stream(request, {
        context: ctx(),
      }),
    );
    await vi.waitFor(() => expect(sizing.stored.size).toBe(1));
    const bytes = chargedBytes(sizing.stored);
    // just under the entry, and just under it without the model and cost the entry ends with
    for (const maxEntryBytes of [bytes - 2, bytes - 120]) {
      const { client, stored } = storingClient();
      const { gateway, cache } = setup({ maxEntryBytes, redis: { client, keyPrefix: 'p:' } });
      await collect(await gateway.stream(request, { context: ctx() }));
      expect(cache.stats()).toMatchObject({ abandonedStreams: 1, stores: 0, memory: { rejections: 0 } });
      expect(cache.stats().redis).toMatchObject({ sent: 1, oversized: 0 });
      expect(stored.size).toBe(0);
    }
    // at the entry's own size, it is recorded and stored
    const { gateway, cache } = setup({ maxEntryBytes: bytes + 2 });
    await collect(await gateway.stream(request, { context: ctx() }));
    const hit = ctx();
    await collect(await gateway.stream(request, { context: hit }));
    expect(hit.cacheStatus).toBe('HIT');
    expect(cache.stats()).toMatchObject({ abandonedStreams: 0, stores: 1 });
  });

  it('records a stream up to exactly the limit: a last chunk that fits is kept, one 2 bytes past it abandons the recording', async () => {
    const now = (): number => 1_700_000_000_000;
    const sizing = storingClient();
    await collect(
      await scripted({ now, redis: { client: sizing.client, keyPrefix: 'p:' } }).gateway.stream(request, {
        context: ctx(),
      }),
    );
    await vi.waitFor(() => expect(sizing.stored.size).toBe(1));
    const entry = JSON.parse([...sizing.stored.values()][0]!.subarray(1).toString('utf8')) as {
      model: string;
      cost?: number;
    };
    expect(entry.cost).toBeUndefined();
    // a recording is measured without the model the entry ends with
    const recorded = chargedBytes(sizing.stored) - 2 * `,"model":${JSON.stringify(entry.model)}`.length;
    for (const [maxEntryBytes, kept] of [
      [recorded, true],
      [recorded - 2, false],
    ] as const) {
      const budget = new MemoryBudget({ maxBytes: 1024 * 1024 });
      const recording = (): number | undefined =>
        budget.stats().accounts['response-cache-recordings']?.usedBytes;
      const { gateway, cache } = scripted({ now, budget, maxEntryBytes });
      const chunks = (await gateway.stream(request, { context: ctx() }))[Symbol.asyncIterator]();
      expect((await chunks.next()).done).toBe(false);
      expect(recording()).toBeGreaterThan(0);
      // the last chunk
      expect((await chunks.next()).done).toBe(false);
      expect(recording() !== 0).toBe(kept);
      expect((await chunks.next()).done).toBe(true);
      // with the model, the entry is past the limit either way
      expect(cache.stats()).toMatchObject({ abandonedStreams: 1, stores: 0, memory: { rejections: 0 } });
      expect(recording()).toBe(0);
    }
  });

  it("stores no stream past the limit whose entry's expiry gained a digit after the lookup, and one at the limit", async () => {
    const ttlMs = 1000;
    // the entry expires at 1e12 (13 digits) when written; at 1e12 - 1 (12 digits) when looked up
    let clock = 1e12 - ttlMs;
    const now = (): number => clock;
    const sizing = storingClient();
    await collect(
      await scripted({ now, ttlMs, redis: { client: sizing.client, keyPrefix: 'p:' } }).gateway.stream(
        request,
        { context: ctx() },
      ),
    );
    await vi.waitFor(() => expect(sizing.stored.size).toBe(1));
    const bytes = chargedBytes(sizing.stored);
    for (const [maxEntryBytes, stored] of [
      [bytes - 2, false],
      [bytes, true],
    ] as const) {
      clock = 1e12 - ttlMs - 1;
      const { gateway, cache } = scripted({ now, ttlMs, maxEntryBytes });
      const chunks = (await gateway.stream(request, { context: ctx() }))[Symbol.asyncIterator]();
      expect((await chunks.next()).done).toBe(false);
      clock += 1;
      while ((await chunks.next()).done !== true);
      expect(cache.stats()).toMatchObject({
        abandonedStreams: stored ? 0 : 1,
        stores: stored ? 1 : 0,
        memory: { entries: stored ? 1 : 0, rejections: 0 },
      });
    }
  });
});
