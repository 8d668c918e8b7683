import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error';
import type { ConfigFile } from './config-schema';
import { withEnvOverrides } from './env-overrides';
import { validateConfig } from './load-config';

const providers = [{ name: 'mock', type: 'mock' }];

async function problemsOf(raw: unknown, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await validateConfig(raw, env, 'gateway.yaml');
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('PostgreSQL URLs the driver cannot parse', () => {
  it('refuses requestLog.url and admin.keyStore.url that pg cannot parse, naming the field, never the password (validate said valid; start then failed every write, or exited with a bare "Invalid URL")', async () => {
    const log = await problemsOf({
      providers,
      requestLog: { store: 'postgres', url: 'postgres://app:db/password-123@db:5432/x' },
    });
    expect(log).toEqual([
      expect.stringMatching(/^\/requestLog\/url: The PostgreSQL URL is not one the driver can parse/),
    ]);
    const keys = await problemsOf({
      providers,
      admin: {
        masterKey: 'a-master-key-of-length',
        keySecret: 'a-key-secret-of-length',
        keyStore: { url: 'postgres://app:db#password-123@db/x' },
      },
    });
    expect(keys).toEqual([
      expect.stringMatching(/^\/admin\/keyStore\/url: The PostgreSQL URL is not one the driver can parse/),
    ]);
    // by a reference too
    const referenced = await problemsOf(
      { providers, requestLog: { store: 'postgres', url: '${DB_URL}' } },
      { DB_URL: 'postgres://app:db?password-123@db/x' },
    );
    expect(referenced).toEqual([expect.stringMatching(/^\/requestLog\/url: /)]);
    expect([...log, ...keys, ...referenced].join('\n')).not.toContain('password-123');
  });

  it('refuses such a DATABASE_URL, naming the variable, never the password', () => {
    const config: ConfigFile = { providers, requestLog: { store: 'postgres' } };
    let problems: readonly string[] = [];
    try {
      withEnvOverrides(config, { DATABASE_URL: 'postgres://app:db/password-123@db:5432/x' });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.problems;
    }
    expect(problems).toEqual([
      expect.stringMatching(
        /^DATABASE_URL \(requestLog\.url\): The PostgreSQL URL is not one the driver can parse/,
      ),
    ]);
    expect(problems.join('\n')).not.toContain('password-123');
    expect(withEnvOverrides(config, { DATABASE_URL: 'postgres://app:secret@db/x' }).requestLog?.url).toBe(
      'postgres://app:secret@db/x',
    );
  });
});
