import { describe, expect, it, vi } from 'vitest';
import { createGateway } from '../gateway/create-gateway';
import { isSwitchyardError } from '../errors/switchyard-error';
import { MAX_TIMER_MS, timerDelayProblem } from '../options/max-timer';
import {
  createRedisClient,
  isRedisCluster,
  pingRedis,
  redisEndpointOf,
  redisEndpointProblems,
  redisUrlProblem,
} from './redis-client';

describe('Redis endpoints', () => {
  it('needs exactly one of url and cluster (and client where allowed)', () => {
    expect(redisEndpointProblems({ url: 'redis://a' }, '/redis', false)).toEqual([]);
    expect(redisEndpointProblems({ cluster: { nodes: ['redis://a'] } }, '/redis', false)).toEqual([]);
    expect(redisEndpointProblems({}, '/redis', false)).toEqual(['/redis: needs a url or cluster']);
    expect(
      redisEndpointProblems({ url: 'redis://a', cluster: { nodes: ['redis://b'] } }, '/redis', false),
    ).toEqual(['/redis: set one of url or cluster, not url and cluster']);
    expect(redisEndpointProblems({ cluster: { nodes: ['redis://b'] }, client: {} }, '/redis', true)).toEqual([
      '/redis: set one of url, cluster or client, not cluster and client',
    ]);
    expect(redisEndpointOf({ url: 'redis://a' })).toEqual({ url: 'redis://a' });
    expect(() => redisEndpointOf({})).toThrow(/needs a url or a cluster/);
  });

  it('names the field of a Redis URL that does not parse (a port out of range), without echoing it', () => {
    expect(redisEndpointProblems({ url: 'redis://:secret-pw@cache:99999' }, '/redis', false)).toEqual([
      '/redis/url: is not a valid URL: the port 99999 is not in 0-65535',
    ]);
    expect(
      redisEndpointProblems({ cluster: { nodes: ['redis://a:7000', 'redis://b:7x01'] } }, '/redis', false),
    ).toEqual(['/redis/cluster/nodes/1: is not a valid URL: its port is not a number']);
    expect(redisUrlProblem('REDIS://cache:70000')).toBe(
      'is not a valid URL: the port 70000 is not in 0-65535',
    );
    expect(redisUrlProblem('redis://:p@ss@cache:65536/0')).toBe(
      'is not a valid URL: the port 65536 is not in 0-65535',
    );
    expect(redisUrlProblem('rediss://cache:-1')).toBe('is not a valid URL: its port is not a number');
    expect(redisUrlProblem('redis://ca che:6379')).toBe(
      'is not a valid URL (expected redis://[user:password@]host[:port][/db])',
    );
    expect(redisUrlProblem('rediss://user:pw@[::1]:6380/2')).toBeUndefined();
    let error: unknown;
    try {
      createGateway({
        providers: [{ name: 'mock', type: 'mock' }],
        limiter: { redis: { url: 'redis://:secret-pw@cache:99999' } },
      });
    } catch (caught) {
      error = caught;
    }
    expect(isSwitchyardError(error) && error.code).toBe('invalid_options');
    expect((error as Error).message).toContain('/limiter/redis/url: is not a valid URL');
    expect((error as Error).message).not.toContain('secret-pw');
  });

  it.each([
    ['redis://gateway:s3cr3t/pw@cache:6379/0', 's3cr3t'],
    ['rediss://:s3cr3t?pw@cache:6380', 's3cr3t'],
    ['redis://:s3cr3t#pw@cache', 's3cr3t'],
    ['redis://:987654321/x@cache:6379', '987654321'],
  ])(
    'refuses %s, whose password holds a reserved character, without echoing any of the password',
    (url, secret) => {
      const problem = redisUrlProblem(url);
      expect(problem).toBe(
        "is not a valid URL: its user name or password holds a '/', '?' or '#' (percent-encode it: %2F, %3F, %23)",
      );
      expect(problem).not.toContain(secret);
      let error: unknown;
      try {
        createGateway({ providers: [{ name: 'mock', type: 'mock' }], limiter: { redis: { url } } });
      } catch (caught) {
        error = caught;
      }
      expect(isSwitchyardError(error) && error.code).toBe('invalid_options');
      expect((error as Error).message).not.toContain(secret);
    },
  );

  it("refuses a password with a '%' that starts no escape, which ioredis fails to decode at start", async () => {
    const url = 'redis://:100%pure@cache:6379';
    await expect(createRedisClient({ url }, { commandTimeoutMs: 100, lazyConnect: true })).rejects.toThrow(
      /URI malformed/,
    );
    expect(redisUrlProblem(url)).toBe(
      "is not a valid URL: its user name or password holds a '%' that starts no %XX escape (write it as %25)",
    );
    expect(redisUrlProblem('redis://:100%25pure@cache:6379')).toBeUndefined();
  });

  it('refuses a unix:// address without an absolute path (ioredis would take the host as part of the path)', () => {
    expect(redisUrlProblem('unix://tmp/redis.sock')).toBe(
      'is a unix:// address without an absolute path (expected unix:///path/to/redis.sock)',
    );
    expect(redisUrlProblem('unix://')).toBe(
      'is a unix:// address without an absolute path (expected unix:///path/to/redis.sock)',
    );
  });

  it('refuses an address with a scheme other than redis:// or rediss:// (ioredis would connect to its host as Redis), naming only the scheme', () => {
    expect(redisUrlProblem('postgres://app:secret-pw@db:5432/app')).toBe(
      'has the scheme "postgres:": use redis:// or rediss:// (or host:port, a Unix socket path)',
    );
    expect(redisEndpointProblems({ url: 'http://cache:6379' }, '/limiter/redis', false)).toEqual([
      '/limiter/redis/url: has the scheme "http:": use redis:// or rediss:// (or host:port, a Unix socket path)',
    ]);
    expect(() =>
      createGateway({
        providers: [{ name: 'mock', type: 'mock' }],
        limiter: { redis: { url: 'postgres://app:secret-pw@db:5432/app' } },
      }),
    ).toThrow(/^(?!.*secret-pw).*\/limiter\/redis\/url: has the scheme "postgres:"/s);
  });

  const NO_SLASHES = (name: string): string =>
    `has no "//" after "${name}:": ioredis would read "${name}" as a host name; write ${name.toLowerCase()}://host[:port]`;
  const CONNECTION_STRING =
    'is not a valid URL: it reads as a connection string (host:port,password=...,ssl=True), which ioredis does not take; write rediss://:<password>@host:port (redis:// without TLS)';
  const PATH_AFTER_HOST =
    'has a path after its host, which ioredis would take for a Unix socket path instead of the host (expected host:port, a Unix socket path, or redis://host:port/db for a database)';

  // what ioredis 5 makes of each: a socket path in place of the host, no TLS, or "Invalid URL" at start
  it.each([
    ['redis:/cache:6379', NO_SLASHES('redis'), { path: '/cache:6379' }],
    ['REDIS:/cache', NO_SLASHES('REDIS'), { path: '/cache' }],
    ['redis:cache', NO_SLASHES('redis'), 'Invalid URL'],
    ['redis:cache:6379/0', NO_SLASHES('redis'), 'Invalid URL'],
    [
      'redis::secret-pw@cache:6379',
      NO_SLASHES('redis'),
      { username: 'redis', password: ':secret-pw', host: 'cache' },
    ],
    ['rediss:/cache:6380', NO_SLASHES('rediss'), { path: '/cache:6380' }],
    ['rediss:cache:6380', NO_SLASHES('rediss'), 'Invalid URL'],
    ['rediss:6380', NO_SLASHES('rediss'), { host: 'rediss', port: 6380 }],
    [
      'unix:tmp/redis.sock',
      'is a unix: address without an absolute path (expected unix:///path/to/redis.sock)',
      'Invalid URL',
    ],
    ['cache:6379/0', PATH_AFTER_HOST, { path: '/0' }],
    ['cache:6x79', 'is not a valid URL: its port is not a number', 'Invalid URL'],
    // what follows the host's ':' may be a password: never echoed
    ['cache:6379:secret-pw', 'is not a valid URL: its port is not a number', 'Invalid URL'],
    ['redis://cache:6379:secret-pw', 'is not a valid URL: its port is not a number', 'Invalid URL'],
    // a StackExchange.Redis connection string, as Azure Cache for Redis shows it
    [
      'mycache.redis.cache.windows.net:6380,password=secret-pw=,ssl=True,abortConnect=False',
      CONNECTION_STRING,
      'Invalid URL',
    ],
    [
      'rediss://mycache.redis.cache.windows.net:6380,password=secret-pw=,ssl=True',
      CONNECTION_STRING,
      'Invalid URL',
    ],
  ])('refuses %s, which ioredis misreads, without echoing a credential', async (url, problem, read) => {
    expect(redisUrlProblem(url)).toBe(problem);
    expect(redisUrlProblem(url)).not.toContain('secret-pw');
    expect(redisEndpointProblems({ url }, '/limiter/redis', false)).toEqual([
      `/limiter/redis/url: ${problem}`,
    ]);
    const client = createRedisClient({ url }, { commandTimeoutMs: 100, lazyConnect: true });
    if (typeof read === 'string') {
      await expect(client).rejects.toThrow(read);
      return;
    }
    const made = await client;
    try {
      expect(made.options).toMatchObject(read);
      // a rediss: without // would not even use TLS
      expect(made.options).not.toHaveProperty('tls');
    } finally {
      made.disconnect();
    }
  });

  it("refuses a bare address's password with a '%' that starts no escape or a '/', without echoing it", () => {
    expect(redisUrlProblem('gateway:100%pure@cache:6379')).toBe(
      "is not a valid URL: its user name or password holds a '%' that starts no %XX escape (write it as %25)",
    );
    expect(redisUrlProblem('gateway:s3cr3t/pw@cache:6379')).toBe(
      "is not a valid URL: its user name or password holds a '/', '?' or '#' (percent-encode it: %2F, %3F, %23)",
    );
  });

  // each form as ioredis 5 reads it: refusing one broke embedders that passed it
  it.each([
    ['localhost:6379', { host: 'localhost', port: 6379 }],
    ['/tmp/redis.sock', { path: '/tmp/redis.sock' }],
    ['/tmp/redis.sock?db=2', { path: '/tmp/redis.sock', db: 2 }],
    ['redis:///0', { host: 'localhost', port: 6379, db: 0 }],
    ['redis://', { host: 'localhost', port: 6379 }],
    ['REDIS://cache:6380', { host: 'cache', port: 6380 }],
    ['redis://:p@ss@cache:6379/1', { host: 'cache', port: 6379, db: 1, password: 'p@ss' }],
    ['unix:///tmp/redis.sock', { path: '///tmp/redis.sock' }],
    ['unix:///tmp/redis.sock?db=3', { path: '///tmp/redis.sock', db: 3 }],
    ['redis://[::1]:6380', { host: '::1', port: 6380 }],
    // the host named redis (a Docker service), not a scheme
    ['redis:6379', { host: 'redis', port: 6379 }],
    ['redis:6379?db=2', { host: 'redis', port: 6379, db: 2 }],
    ['unix:/tmp/redis.sock', { path: '/tmp/redis.sock' }],
    ['[::1]:6379', { host: '::1', port: 6379 }],
    ['cache:6379/', { host: 'cache', port: 6379 }],
    ['gateway:pw@cache:6379', { host: 'cache', port: 6379, username: 'gateway', password: 'pw' }],
    ['//cache:6379/1', { host: 'cache', port: 6379, db: 1 }],
    [
      'rediss://default:pw@cache:6380/2?servername=cache.internal',
      { host: 'cache', port: 6380, db: 2, username: 'default', password: 'pw', servername: 'cache.internal' },
    ],
  ])('accepts %s, which ioredis reads', async (url, read) => {
    expect(redisUrlProblem(url)).toBeUndefined();
    expect(redisEndpointProblems({ url }, '/limiter/redis', false)).toEqual([]);
    const client = await createRedisClient({ url }, { commandTimeoutMs: 100, lazyConnect: true });
    try {
      expect(client.options).toMatchObject(read);
    } finally {
      client.disconnect();
    }
  });

  it('refuses limiter.redis with both a url and a cluster in one invalid_options error', () => {
    let error: unknown;
    try {
      createGateway({
        providers: [{ name: 'mock', type: 'mock' }],
        limiter: { redis: { url: 'redis://127.0.0.1:6379', cluster: { nodes: ['redis://127.0.0.1:7000'] } } },
      });
    } catch (caught) {
      error = caught;
    }
    expect(isSwitchyardError(error) && error.code).toBe('invalid_options');
    expect((error as Error).message).toContain(
      '/limiter/redis: set one of url or cluster, not url and cluster',
    );
  });

  it("builds an ioredis Cluster whose every node uses the first URL's credentials and TLS", async () => {
    const client = await createRedisClient(
      { cluster: { nodes: ['rediss://gateway:s%3Acret@10.0.0.11:7001', 'rediss://10.0.0.12'] } },
      { commandTimeoutMs: 250, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 },
    );
    try {
      expect(isRedisCluster(client)).toBe(true);
      if (!isRedisCluster(client)) return;
      expect(client.options.enableOfflineQueue).toBe(false);
      expect(client.options.redisOptions).toMatchObject({
        username: 'gateway',
        password: 's:cret',
        tls: { servername: '10.0.0.11' },
        commandTimeout: 250,
        maxRetriesPerRequest: 1,
      });
      expect(client.status).toBe('wait');
    } finally {
      client.disconnect();
    }
  });

  it('fails the ping of a cluster whose slot owner is not connected, and asks the cluster for its slots again', async () => {
    const client = await createRedisClient(
      { cluster: { nodes: ['redis://127.0.0.1:7001'] } },
      { commandTimeoutMs: 250, lazyConnect: true },
    );
    try {
      if (!isRedisCluster(client)) throw new Error('expected a Cluster');
      // as after a master's crash: its slots still name it, and the client has dropped it
      client.slots[0] = ['127.0.0.1:7001'];
      const refresh = vi.spyOn(client, 'refreshSlotsCache').mockImplementation(() => undefined);
      await expect(pingRedis(client)).rejects.toThrow(
        'The Redis Cluster master 127.0.0.1:7001 is not connected.',
      );
      // ioredis refreshes only when a command is redirected: an idle client would never see the promoted replica
      expect(refresh).toHaveBeenCalledOnce();
    } finally {
      client.disconnect();
    }
  });

  it('refuses a command timeout past MAX_TIMER_MS, which ioredis would fire after 1 ms on every command', async () => {
    const url = 'redis://127.0.0.1:6399';
    const tooLong = MAX_TIMER_MS + 1;
    const refused = createRedisClient(
      { url },
      { commandTimeoutMs: tooLong, connectTimeoutMs: tooLong, lazyConnect: true },
    );
    await expect(refused).rejects.toMatchObject({ code: 'invalid_options' });
    await expect(refused).rejects.toThrow(
      `Invalid Redis client settings:\n- /commandTimeoutMs: ${timerDelayProblem(tooLong)}\n- /connectTimeoutMs: ${timerDelayProblem(tooLong)}`,
    );
    // a timeout of 0 (or less) would time every command out at once: refused too
    await expect(createRedisClient({ url }, { commandTimeoutMs: 0, lazyConnect: true })).rejects.toThrow(
      '/commandTimeoutMs',
    );
    await expect(
      createRedisClient({ cluster: { nodes: [url] } }, { commandTimeoutMs: tooLong, lazyConnect: true }),
    ).rejects.toThrow('/commandTimeoutMs');
    const longest = await createRedisClient({ url }, { commandTimeoutMs: MAX_TIMER_MS, lazyConnect: true });
    try {
      expect(longest.options).toMatchObject({ commandTimeout: MAX_TIMER_MS });
    } finally {
      longest.disconnect();
    }
  });

  it('builds a plain ioredis client for a url', async () => {
    const client = await createRedisClient(
      { url: 'redis://127.0.0.1:6399/2' },
      { commandTimeoutMs: 100, lazyConnect: true },
    );
    try {
      expect(isRedisCluster(client)).toBe(false);
      expect(client.options).toMatchObject({ port: 6399, db: 2, commandTimeout: 100, lazyConnect: true });
    } finally {
      client.disconnect();
    }
  });
});
