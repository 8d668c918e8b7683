import { describe, expect, it } from 'vitest';
import type { ConfigFile } from './config-schema';
import { validateConfig } from './load-config';

const base: ConfigFile = { providers: [{ name: 'mock', type: 'mock' }] };

describe('server.idleMemoryReleaseMs', () => {
  it('takes 0 (off) or a period of at least 5 s', async () => {
    await expect(
      validateConfig({ ...base, server: { idleMemoryReleaseMs: 0 } }, {}, 'test.yaml'),
    ).resolves.toMatchObject({ server: { idleMemoryReleaseMs: 0 } });
    await expect(
      validateConfig({ ...base, server: { idleMemoryReleaseMs: 30_000 } }, {}, 'test.yaml'),
    ).resolves.toMatchObject({ server: { idleMemoryReleaseMs: 30_000 } });
  });

  it('refuses a period too short to see an idle allocation rate', async () => {
    await expect(
      validateConfig({ ...base, server: { idleMemoryReleaseMs: 1000 } }, {}, 'test.yaml'),
    ).rejects.toThrow(/idleMemoryReleaseMs/);
    await expect(
      validateConfig({ ...base, server: { idleMemoryReleaseMs: -1 } }, {}, 'test.yaml'),
    ).rejects.toThrow(/idleMemoryReleaseMs/);
  });
});
