import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { createRedisClient, type RedisEndpoint } from '@switchyard/proxy-core';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** The few ioredis commands the cache uses; any ioredis 5 `Redis` or `Cluster` instance has them. */
export interface RedisCacheClient {
  getBuffer(key: string): Promise<Buffer | null>;
  set(key: string, value: Buffer, millisecondsToken: 'PX', milliseconds: number): Promise<unknown>;
  quit(): Promise<unknown>;
}

/** Settings of the Redis tier: an endpoint (ioredis is then loaded and the client owned) or an ioredis instance. */
export type RedisTierOptions = { endpoint: RedisEndpoint; client?: undefined } | { client: RedisCacheClient; endpoint?: undefined };

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

/**
 * The shared tier: entries in Redis with a TTL, so several gateway instances answer from
 * one cache. ioredis is an optional peer, imported only when a URL or cluster is configured.
 */
export class RedisTier {
  readonly #prefix: string;
  readonly #compressAboveBytes: number;
  readonly #client: Promise<RedisCacheClient>;
  readonly #owned: boolean;

  constructor(options: RedisTierOptions, prefix: string, compressAboveBytes: number, commandTimeoutMs: number, onError: (error: unknown) => void) {
    this.#prefix = prefix;
    this.#compressAboveBytes = compressAboveBytes;
    this.#owned = options.client === undefined;
    this.#client = options.client !== undefined ? Promise.resolve(options.client) : connect(options.endpoint, commandTimeoutMs, onError);
    // a failed import or connection surfaces on first use as a counted tier error
    this.#client.catch(() => undefined);
  }

  async get(key: string): Promise<string | undefined> {
    const client = await this.#client;
    const stored = await client.getBuffer(this.#prefix + key);
    return stored === null ? undefined : decodeBody(stored);
  }

  async set(key: string, body: string, ttlMs: number): Promise<void> {
    const client = await this.#client;
    await client.set(this.#prefix + key, await encodeBody(body, this.#compressAboveBytes), 'PX', Math.max(1, Math.round(ttlMs)));
  }

  async close(): Promise<void> {
    if (!this.#owned) return;
    const client = await this.#client.catch(() => undefined);
    await client?.quit().catch(() => undefined);
  }
}

async function connect(endpoint: RedisEndpoint, commandTimeoutMs: number, onError: (error: unknown) => void): Promise<RedisCacheClient> {
  // fail fast when Redis is away (the cache then answers from memory only); connection
  // errors are counted, never thrown at the process
  const client = await createRedisClient(endpoint, { commandTimeoutMs, maxRetriesPerRequest: 1 });
  client.on('error', onError);
  return client;
}
