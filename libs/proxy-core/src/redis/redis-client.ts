import { Type, type Static } from '@sinclair/typebox';
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { SwitchyardError } from '../errors/switchyard-error';
import { timerDelaySchema } from '../options/max-timer';
import { schemaProblems } from '../options/validate-schema';

/**
 * A Redis address in every schema that takes one (limiter, app, cache, gateway YAML): a
 * `redis://` or `rediss://` URL, or another address ioredis 5 reads (`host:port`, a Unix socket
 * path, a bare port). The schema only asks for a non-empty string; {@link redisUrlProblem} is the
 * rest of the one definition, and every validator that takes this schema runs it, so a schema
 * and the runtime cannot disagree on what an address is.
 */
export const RedisUrlSchema = Type.String({ minLength: 1 });

/** The startup nodes of a Redis Cluster. */
export const RedisClusterOptionsSchema = Type.Object(
  {
    /**
     * `redis://` or `rediss://` URLs of some nodes of the cluster (the client discovers the others).
     * The user name, password and TLS (`rediss://`) of the first URL apply to every node.
     */
    nodes: Type.Array(Type.String({ pattern: '^rediss?://' }), { minItems: 1 }),
  },
  { additionalProperties: false },
);

/** Redis Cluster startup nodes (see {@link RedisClusterOptionsSchema}). */
export type RedisClusterOptions = Static<typeof RedisClusterOptionsSchema>;

/** Where a Redis is: one server (or a managed primary behind one address) by URL, or a Redis Cluster. */
export type RedisEndpoint =
  { url: string; cluster?: undefined } | { cluster: RedisClusterOptions; url?: undefined };

/** A connected ioredis 5 client: a `Redis` or a `Cluster`. */
export type RedisClient = Redis | Cluster;

/** How the client behaves, whatever the endpoint. */
export interface RedisClientSettings {
  /**
   * Longest wait on one command, in milliseconds (ioredis `commandTimeout`): from 1 to
   * `MAX_TIMER_MS`, since ioredis arms a timer with it for every command.
   */
  commandTimeoutMs: number;
  /** Longest wait for a connection, in milliseconds: from 1 to `MAX_TIMER_MS`. @default ioredis' 10000 */
  connectTimeoutMs?: number;
  /** Connect on `connect()` rather than at once. @default false */
  lazyConnect?: boolean;
  /** Queue commands while disconnected. @default true */
  enableOfflineQueue?: boolean;
  /** Retries of one command over reconnections. @default ioredis' 20 */
  maxRetriesPerRequest?: number;
  /** Delay before reconnection attempt `attempt`, in milliseconds (for a cluster: before reconnecting to it). */
  retryStrategy?: (attempt: number) => number;
}

/**
 * Why a Redis address ({@link RedisUrlSchema}) cannot be used, or undefined when ioredis can read
 * it. Never echoes the address, which may carry a password: a port out of range would otherwise
 * surface as ioredis' bare "Invalid URL". A `redis://` or `rediss://` URL must parse (a missing
 * host is fine: ioredis connects to localhost); another scheme is refused, since ioredis would
 * drop it and connect to its host as if it were Redis (a pasted `postgres://` URL), but for
 * `unix:///path`, which ioredis reads as a socket path (the limiter took it before). An address
 * without `scheme://` (`host:port`, a Unix socket path, a bare port: embedders pass them) must be
 * one ioredis reads as written: see {@link addressProblem}.
 */
export function redisUrlProblem(url: string): string | undefined {
  if (url === '')
    return 'is empty (expected redis://host:port, rediss://..., host:port or a Unix socket path)';
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1];
  if (scheme !== undefined && /^unix$/i.test(scheme)) {
    // ioredis reads what follows `unix:` as the socket path only when it starts with '/':
    // `unix://host/path` would be the path `//host/path`
    return url.startsWith('/', scheme.length + 3)
      ? undefined
      : 'is a unix:// address without an absolute path (expected unix:///path/to/redis.sock)';
  }
  if (scheme !== undefined && !/^rediss?$/i.test(scheme)) {
    // the scheme alone is echoed: it never holds a credential
    return `has the scheme "${scheme}:": use redis:// or rediss:// (or host:port, a Unix socket path)`;
  }
  // ioredis matches the scheme case-insensitively
  if (scheme === undefined) return addressProblem(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // the last '@' of the authority ends the credentials, as for the WHATWG parser
    const authority = /^rediss?:\/\/(?:[^/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*):([^/?#]*)/i.exec(url);
    // an '@' past that authority means a '/', '?' or '#' cut the credentials short: what looks
    // like the port is then part of the user name or password, never to be echoed
    if (authority !== null && url.includes('@', authority[0].length)) return CREDENTIALS_NOT_ENCODED;
    if (authority === null && /^rediss?:\/\/[^@]*[/?#][^@]*@/i.test(url)) return CREDENTIALS_NOT_ENCODED;
    const port = authority?.[1];
    // what follows the host's ':' is echoed only when it is digits: anything else may hold a
    // password (`host:6380,password=...,ssl=True`, a StackExchange.Redis connection string as
    // Azure Cache for Redis shows it; `host:6379:password`)
    if (port !== undefined && /[,=]/.test(port)) return CONNECTION_STRING;
    if (port !== undefined && !/^\d+$/.test(port)) return 'is not a valid URL: its port is not a number';
    if (port !== undefined && Number(port) > 65535)
      return `is not a valid URL: the port ${port} is not in 0-65535`;
    return 'is not a valid URL (expected redis://[user:password@]host[:port][/db])';
  }
  // ioredis decodes the credentials with decodeURIComponent, which throws on a '%' that starts
  // no escape: the client would fail at start with a bare "URI malformed"
  if (!decodes(parsed.username) || !decodes(parsed.password)) return PERCENT_NOT_ENCODED;
  return undefined;
}

/**
 * Why an address without `scheme://` cannot be used: ioredis 5 reads a string starting with '/'
 * as a socket path and anything else as `redis://` + the string, whose path (when there is one)
 * it then takes for a socket path instead of the host and port. So `redis:/host:6379` connects to
 * the socket `/host:6379`, `redis:host` fails at start with "Invalid URL", and `rediss:host:6380`
 * is no TLS URL at all: a `redis:`, `rediss:` or `unix:` without `//` is refused, but for
 * `redis:6379` (the host named redis, as in a Docker network) and `unix:/path` (a socket path,
 * as ioredis reads it). Another address that ioredis cannot read, or whose path would replace
 * its host and port, is refused as well.
 */
function addressProblem(url: string): string | undefined {
  if (url.startsWith('//')) return redisUrlProblem(`redis:${url}`);
  if (url.startsWith('/')) return undefined;
  const name = /^(rediss?|unix):/i.exec(url)?.[1];
  if (name !== undefined) {
    const rest = url.slice(name.length + 1);
    if (/^unix$/i.test(name)) {
      return rest.startsWith('/')
        ? undefined
        : 'is a unix: address without an absolute path (expected unix:///path/to/redis.sock)';
    }
    // the host redis on a port, not a scheme (rediss: is refused even so: its TLS would be lost)
    if (/^redis$/i.test(name) && /^\d{1,5}(?:\?[^/#]*)?$/.test(rest)) return undefined;
    // the scheme alone is echoed: it never holds a credential
    return `has no "//" after "${name}:": ioredis would read "${name}" as a host name; write ${name.toLowerCase()}://host[:port]`;
  }
  let parsed: URL;
  try {
    parsed = new URL(`redis://${url}`);
  } catch {
    // the URL's own analysis: it names the port only when no credential can be part of it
    return (
      redisUrlProblem(`redis://${url}`) ??
      'is not a valid address (expected host:port, a Unix socket path or redis://host:port)'
    );
  }
  if (parsed.pathname !== '' && parsed.pathname !== '/') {
    return 'has a path after its host, which ioredis would take for a Unix socket path instead of the host (expected host:port, a Unix socket path, or redis://host:port/db for a database)';
  }
  if (!decodes(parsed.username) || !decodes(parsed.password)) return PERCENT_NOT_ENCODED;
  return undefined;
}

const CONNECTION_STRING =
  'is not a valid URL: it reads as a connection string (host:port,password=...,ssl=True), which ioredis does not take; write rediss://:<password>@host:port (redis:// without TLS)';
const CREDENTIALS_NOT_ENCODED =
  "is not a valid URL: its user name or password holds a '/', '?' or '#' (percent-encode it: %2F, %3F, %23)";
const PERCENT_NOT_ENCODED =
  "is not a valid URL: its user name or password holds a '%' that starts no %XX escape (write it as %25)";

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every problem of an endpoint's fields: exactly one of `url`, `cluster` (or, when allowed,
 * `client`) must be set, and each URL must parse.
 */
export function redisEndpointProblems(
  fields: { url?: unknown; cluster?: unknown; client?: unknown },
  path: string,
  allowClient: boolean,
): string[] {
  const set = (['url', 'cluster', ...(allowClient ? ['client'] : [])] as const).filter(
    (name) => fields[name as keyof typeof fields] !== undefined,
  );
  const names = allowClient ? 'url, cluster or client' : 'url or cluster';
  if (set.length === 0) return [`${path}: needs a ${names}`];
  if (set.length > 1) return [`${path}: set one of ${names}, not ${set.join(' and ')}`];
  const problems: string[] = [];
  if (typeof fields.url === 'string') {
    const problem = redisUrlProblem(fields.url);
    if (problem !== undefined) problems.push(`${path}/url: ${problem}`);
  }
  const nodes: unknown = (fields.cluster as { nodes?: unknown } | undefined)?.nodes;
  if (Array.isArray(nodes)) {
    nodes.forEach((node: unknown, index) => {
      const problem = typeof node === 'string' ? redisUrlProblem(node) : undefined;
      if (problem !== undefined) problems.push(`${path}/cluster/nodes/${index}: ${problem}`);
    });
  }
  return problems;
}

/** The endpoint named by validated fields (`cluster` when set, else `url`). */
export function redisEndpointOf(fields: {
  url?: string | undefined;
  cluster?: RedisClusterOptions | undefined;
}): RedisEndpoint {
  if (fields.cluster !== undefined) return { cluster: fields.cluster };
  if (fields.url !== undefined) return { url: fields.url };
  throw new SwitchyardError('invalid_options', 'Redis needs a url or a cluster.');
}

/** The Redis options every cluster node shares: credentials and TLS from the first startup URL. */
function nodeOptions(first: string): RedisOptions {
  const url = new URL(first);
  return {
    ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
    ...(url.protocol === 'rediss:' ? { tls: { servername: url.hostname } } : {}),
  };
}

// the numbers of RedisClientSettings: ioredis arms a timer with the command timeout for every
// command, which fires after 1 ms past MAX_TIMER_MS (every command would time out), and at once
// for 0 or less; the connect timeout is a socket timeout (0 would mean none, silently)
const RedisClientNumbersSchema = Type.Object({
  commandTimeoutMs: timerDelaySchema({ minimum: 1 }),
  connectTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
  maxRetriesPerRequest: Type.Optional(Type.Integer({ minimum: 0 })),
});

/**
 * Creates an ioredis client for an endpoint: `new Redis(url)` or `new Cluster(nodes)`, with the
 * same behaviour either way. ioredis (an optional peer) is imported only here, only when called.
 * Error events are the caller's to handle. Settings out of range (a timeout above
 * `MAX_TIMER_MS`, or below 1 ms) reject with one `invalid_options` error listing each.
 */
export async function createRedisClient(
  endpoint: RedisEndpoint,
  settings: RedisClientSettings,
): Promise<RedisClient> {
  const { commandTimeoutMs, connectTimeoutMs, maxRetriesPerRequest } = settings;
  const problems = schemaProblems(RedisClientNumbersSchema, {
    commandTimeoutMs,
    connectTimeoutMs,
    maxRetriesPerRequest,
  });
  if (problems.length > 0) {
    throw new SwitchyardError(
      'invalid_options',
      `Invalid Redis client settings:\n- ${problems.join('\n- ')}`,
    );
  }
  const ioredis = await import('ioredis').catch((cause: unknown) => {
    throw new SwitchyardError(
      'invalid_options',
      'Redis is configured but the optional peer dependency "ioredis" is not installed (npm install ioredis).',
      { cause },
    );
  });
  const connection: RedisOptions = {
    commandTimeout: settings.commandTimeoutMs,
    ...(settings.connectTimeoutMs === undefined ? {} : { connectTimeout: settings.connectTimeoutMs }),
    ...(settings.maxRetriesPerRequest === undefined
      ? {}
      : { maxRetriesPerRequest: settings.maxRetriesPerRequest }),
  };
  const behaviour = {
    ...(settings.lazyConnect === undefined ? {} : { lazyConnect: settings.lazyConnect }),
    ...(settings.enableOfflineQueue === undefined ? {} : { enableOfflineQueue: settings.enableOfflineQueue }),
  };
  if (endpoint.cluster === undefined) {
    return new ioredis.Redis(endpoint.url, {
      ...connection,
      ...behaviour,
      ...(settings.retryStrategy === undefined ? {} : { retryStrategy: settings.retryStrategy }),
    });
  }
  const [first, ...others] = endpoint.cluster.nodes;
  if (first === undefined)
    throw new SwitchyardError('invalid_options', 'A Redis Cluster needs at least one startup node.');
  const options: ClusterOptions = {
    ...behaviour,
    // commands follow MOVED/ASK redirections and wait out a failover within the command timeout
    redisOptions: { ...nodeOptions(first), ...connection },
    ...(settings.retryStrategy === undefined ? {} : { clusterRetryStrategy: settings.retryStrategy }),
  };
  return new ioredis.Cluster(
    [first, ...others].map((node) => {
      const url = new URL(node);
      return { host: url.hostname, port: url.port === '' ? 6379 : Number(url.port) };
    }),
    options,
  );
}

/** Whether a client is an ioredis `Cluster`. */
export function isRedisCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}

/**
 * Resolves when Redis answers PING: the one server, or every master that serves a slot of a
 * cluster (a master the client has dropped, as after a crash, fails the check at once, and asks
 * the cluster for its slots again so a later check finds the replica promoted in its place).
 */
export async function pingRedis(client: RedisClient): Promise<void> {
  if (!isRedisCluster(client)) {
    await client.ping();
    return;
  }
  const connected = new Map(
    client.nodes('master').map((node) => [`${node.options.host ?? ''}:${node.options.port ?? ''}`, node]),
  );
  const serving = new Set(client.slots.flatMap((owners) => (owners[0] === undefined ? [] : [owners[0]])));
  if (serving.size === 0) throw new Error('The Redis Cluster client knows no slot owner yet.');
  await Promise.all(
    [...serving].map(async (key) => {
      const node = connected.get(key);
      if (node === undefined) {
        // ioredis refreshes its slot map only when a command is redirected: without this, an idle
        // instance would report a failed-over master down (and, with failMode closed, stay unready)
        client.refreshSlotsCache();
        throw new Error(`The Redis Cluster master ${key} is not connected.`);
      }
      await node.ping();
    }),
  );
}
