import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error';
import type { ConfigFile } from './config-schema';
import { withEnvOverrides } from './env-overrides';
import { validateConfig } from './load-config';
import { resilienceOptions } from '../start-gateway';
import { contextOptionsFromConfig } from './context-config';
import { observabilityOptionsFromConfig } from './observability-config';

const base: ConfigFile = { providers: [{ name: 'mock', type: 'mock' }] };

describe('Redis from the environment', () => {
  it('reads a Redis Cluster from REDIS_CLUSTER_NODES and hands it to limits, cache and upstream limiter', () => {
    const config = withEnvOverrides(
      { ...base, redis: { keyPrefix: 'sy:' } },
      { REDIS_CLUSTER_NODES: 'redis://10.0.0.11:7000, redis://10.0.0.12:7000,' },
    );
    expect(config.redis).toEqual({
      keyPrefix: 'sy:',
      cluster: { nodes: ['redis://10.0.0.11:7000', 'redis://10.0.0.12:7000'] },
    });
    expect(resilienceOptions(config).limiter?.redis).toMatchObject({
      cluster: { nodes: ['redis://10.0.0.11:7000', 'redis://10.0.0.12:7000'] },
      keyPrefix: 'sy:limiter:',
    });
    expect(contextOptionsFromConfig(config)?.cache?.redis).toEqual({
      cluster: { nodes: ['redis://10.0.0.11:7000', 'redis://10.0.0.12:7000'] },
      keyPrefix: 'sy:cache:',
    });
  });

  it("keeps the file's Redis over the environment", () => {
    const config = withEnvOverrides(
      { ...base, redis: { url: 'redis://file:6379' } },
      { REDIS_CLUSTER_NODES: 'redis://env:7000', REDIS_URL: 'redis://env:6379' },
    );
    expect(config.redis).toEqual({ url: 'redis://file:6379' });
  });

  it('refuses REDIS_URL and REDIS_CLUSTER_NODES together, and node addresses that are not redis URLs', () => {
    expect(() =>
      withEnvOverrides(base, { REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'redis://b:7000' }),
    ).toThrow(ConfigError);
    expect(() =>
      withEnvOverrides(base, { REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'redis://b:7000' }),
    ).toThrow(/REDIS_URL and REDIS_CLUSTER_NODES are both set/);
    expect(() => withEnvOverrides(base, { REDIS_CLUSTER_NODES: '10.0.0.11:7000' })).toThrow(
      /REDIS_CLUSTER_NODES\/cluster\/nodes\/0/,
    );
  });

  it('takes a Redis URL without a host (ioredis connects to localhost), as proxy-core does', () => {
    expect(withEnvOverrides(base, { REDIS_URL: 'redis:///0' }).redis).toEqual({ url: 'redis:///0' });
    expect(withEnvOverrides(base, { REDIS_CLUSTER_NODES: 'redis://,redis://b:7000' }).redis).toEqual({
      cluster: { nodes: ['redis://', 'redis://b:7000'] },
    });
  });

  it('names REDIS_URL when its port does not parse, instead of a bare "Invalid URL" at start', async () => {
    expect(() => withEnvOverrides(base, { REDIS_URL: 'redis://:hunter2-secret@cache:99999' })).toThrow(
      'REDIS_URL is not a valid URL: the port 99999 is not in 0-65535',
    );
    expect(() => withEnvOverrides(base, { REDIS_URL: 'redis://:hunter2-secret@cache:99999' })).not.toThrow(
      /hunter2/,
    );
    expect(() => withEnvOverrides(base, { REDIS_CLUSTER_NODES: 'redis://a:7000,redis://b:port' })).toThrow(
      'REDIS_CLUSTER_NODES: node 2 is not a valid URL: its port is not a number',
    );
    await expect(
      validateConfig({ ...base, redis: { url: 'redis://cache:65536' } }, {}, 'test.yaml'),
    ).rejects.toThrow('/redis/url: is not a valid URL: the port 65536 is not in 0-65535');
  });

  it('refuses a redis section with both url and cluster, or neither', async () => {
    await expect(
      validateConfig(
        { ...base, redis: { url: 'redis://a:6379', cluster: { nodes: ['redis://b:7000'] } } },
        {},
        'test.yaml',
      ),
    ).rejects.toThrow(/\/redis: set one of url or cluster, not url and cluster/);
    await expect(validateConfig({ ...base, redis: { keyPrefix: 'x:' } }, {}, 'test.yaml')).rejects.toThrow(
      /\/redis: needs a url or cluster/,
    );
  });
});

describe('the metrics token from the environment', () => {
  const token = 'scrape-token-0123456789';

  it('hands SWITCHYARD_METRICS_TOKEN to the app as the token /metrics requires, the file winning', () => {
    expect(
      observabilityOptionsFromConfig(withEnvOverrides(base, { SWITCHYARD_METRICS_TOKEN: token }), {})
        .metricsToken,
    ).toBe(token);
    const fromFile = withEnvOverrides(
      { ...base, metrics: { token: 'file-token-0123456789' } },
      { SWITCHYARD_METRICS_TOKEN: token },
    );
    expect(observabilityOptionsFromConfig(fromFile, {}).metricsToken).toBe('file-token-0123456789');
    expect(observabilityOptionsFromConfig(base, {}).metricsToken).toBeUndefined();
    // metrics turned off: no route, so no token either
    expect(observabilityOptionsFromConfig({ ...base, metrics: { enabled: false, token } }, {})).toMatchObject(
      { metrics: false },
    );
    expect(
      observabilityOptionsFromConfig({ ...base, metrics: { enabled: false, token } }, {}).metricsToken,
    ).toBeUndefined();
  });

  it('refuses a token too short to be a secret', () => {
    expect(() => withEnvOverrides(base, { SWITCHYARD_METRICS_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => withEnvOverrides(base, { SWITCHYARD_METRICS_TOKEN: 'short' })).toThrow(
      /SWITCHYARD_METRICS_TOKEN/,
    );
  });
});

describe('admin secrets from the environment', () => {
  it('checks SWITCHYARD_MASTER_KEY and SWITCHYARD_KEY_SECRET as admin.masterKey and admin.keySecret are checked, naming each variable', () => {
    const error = (() => {
      try {
        withEnvOverrides(base, {
          SWITCHYARD_MASTER_KEY: 'short',
          SWITCHYARD_KEY_SECRET: 'x',
          SWITCHYARD_METRICS_TOKEN: 'short',
        });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).source).toBe('the environment');
    // every bad variable at once, not only the first
    expect((error as ConfigError).problems).toEqual([
      'SWITCHYARD_MASTER_KEY (admin.masterKey): Expected string length greater or equal to 16',
      'SWITCHYARD_KEY_SECRET (admin.keySecret): Expected string length greater or equal to 16',
      'SWITCHYARD_METRICS_TOKEN (metrics.token): Expected string length greater or equal to 16',
    ]);
  });

  it("refuses a SWITCHYARD_MASTER_KEY with whitespace as the environment's, naming it (a CRLF .env file's \\r was blamed on the config file, or on the built-in defaults)", () => {
    for (const masterKey of ['0123456789abcdef0123\r', '0123456789 abcdef0123']) {
      let error: unknown;
      try {
        withEnvOverrides(base, { SWITCHYARD_MASTER_KEY: masterKey });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).source).toBe('the environment');
      expect((error as ConfigError).problems).toEqual([
        'SWITCHYARD_MASTER_KEY (admin.masterKey): contains whitespace (a space, tab or line break; a .env file with CRLF line endings?), which an Authorization: Bearer header cannot carry: no one could sign in with it',
      ]);
    }
  });

  it('takes good values where the file leaves them out, and ignores the variables the file overrides', () => {
    const master = 'env-master-key-0123456789';
    expect(withEnvOverrides(base, { SWITCHYARD_MASTER_KEY: master }).admin).toEqual({ masterKey: master });
    const fromFile = { ...base, admin: { masterKey: 'file-master-key-0123456789' } };
    expect(
      withEnvOverrides(fromFile, {
        SWITCHYARD_MASTER_KEY: 'short',
        SWITCHYARD_KEY_SECRET: 'env-key-secret-0123456789',
      }).admin,
    ).toEqual({
      masterKey: 'file-master-key-0123456789',
      keySecret: 'env-key-secret-0123456789',
    });
  });
});
