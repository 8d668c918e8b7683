import type * as ProxyApi from '@switchyard/proxy-api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { validateConfig } from '../src/config/load-config';
import { startGateway, type RunningGateway } from '../src/start-gateway';

// the release itself is tested in proxy-api (ops/idle-memory-release.test.ts); here, that the
// gateway starts it as configured and stops it when it shuts down
const releases = vi.hoisted(() => ({ started: [] as Array<{ idleMs?: number }>, stopped: 0 }));
vi.mock('@switchyard/proxy-api', async (importOriginal) => {
  const original = await importOriginal<typeof ProxyApi>();
  return {
    ...original,
    releaseMemoryWhenIdle: (options: { idleMs?: number } = {}) => {
      releases.started.push(options);
      return () => {
        releases.stopped += 1;
      };
    },
  };
});

const running: RunningGateway[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(async (gateway) => gateway.shutdown()));
  releases.started.length = 0;
  releases.stopped = 0;
});

async function start(server: Record<string, unknown> | undefined): Promise<RunningGateway> {
  const config = await validateConfig(
    {
      ...(server === undefined ? {} : { server }),
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'm', targets: [{ provider: 'mock', model: 'mock-1' }] }],
      // no ./switchyard.db in the working directory (the repository)
      requestLog: { store: 'none' },
    },
    {},
    'test.yaml',
  );
  const gateway = await startGateway({ config, port: 0, host: '127.0.0.1', logLevel: 'silent' });
  running.push(gateway);
  return gateway;
}

describe('the idle memory release of a started gateway', () => {
  it('runs every 10 s by default and stops when the gateway shuts down', async () => {
    const gateway = await start(undefined);
    expect(releases.started).toEqual([{ idleMs: 10_000 }]);
    expect(releases.stopped).toBe(0);
    await gateway.shutdown();
    expect(releases.stopped).toBe(1);
  }, 30_000);

  it('follows server.idleMemoryReleaseMs', async () => {
    await start({ idleMemoryReleaseMs: 30_000 });
    expect(releases.started).toEqual([{ idleMs: 30_000 }]);
  }, 30_000);

  it('does not run with server.idleMemoryReleaseMs: 0', async () => {
    const gateway = await start({ idleMemoryReleaseMs: 0 });
    expect(releases.started).toEqual([]);
    await gateway.shutdown();
    expect(releases.stopped).toBe(0);
  }, 30_000);
});
