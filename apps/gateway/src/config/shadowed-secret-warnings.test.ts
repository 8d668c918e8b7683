import { describe, expect, it } from 'vitest';
import type { ConfigFile } from './config-schema';
import { shadowedSecretWarnings } from './shadowed-secret-warnings';

const providers: ConfigFile['providers'] = [{ name: 'mock', type: 'mock' }];
const file: ConfigFile = {
  providers,
  admin: { masterKey: 'file-master-key-0123456789', keySecret: 'file-key-secret-0123456789' },
  metrics: { token: 'file-metrics-token-0123456789' },
};
const env = {
  SWITCHYARD_MASTER_KEY: 'env-master-key-0123456789',
  SWITCHYARD_KEY_SECRET: 'env-key-secret-0123456789',
  SWITCHYARD_METRICS_TOKEN: 'env-metrics-token-0123456789',
};

describe('shadowedSecretWarnings', () => {
  it('warns of each secret variable the file overrides, by name, never by value (the README said the environment wins: it does not for these)', () => {
    const warnings = shadowedSecretWarnings(file, env);
    expect(warnings).toEqual([
      "SWITCHYARD_MASTER_KEY is set but not used: the config file's admin.masterKey wins over it (a secret in the file always does); remove one of them",
      "SWITCHYARD_KEY_SECRET is set but not used: the config file's admin.keySecret wins over it (a secret in the file always does); remove one of them",
      "SWITCHYARD_METRICS_TOKEN is set but not used: the config file's metrics.token wins over it (a secret in the file always does); remove one of them",
    ]);
    for (const value of [...Object.values(env), ...Object.values(file.admin ?? {}), file.metrics?.token])
      expect(warnings.join('\n')).not.toContain(value);
  });

  it('says nothing when the variable fills the field, the file takes it by reference, or it is unset or blank', () => {
    expect(shadowedSecretWarnings({ providers }, env)).toEqual([]);
    // `masterKey: "${SWITCHYARD_MASTER_KEY}"`: the file's value is the variable's
    expect(
      shadowedSecretWarnings(
        {
          providers,
          admin: { masterKey: env.SWITCHYARD_MASTER_KEY, keySecret: env.SWITCHYARD_KEY_SECRET },
          metrics: { token: env.SWITCHYARD_METRICS_TOKEN },
        },
        env,
      ),
    ).toEqual([]);
    expect(shadowedSecretWarnings(file, {})).toEqual([]);
    expect(shadowedSecretWarnings(file, { SWITCHYARD_MASTER_KEY: '', SWITCHYARD_KEY_SECRET: ' ' })).toEqual(
      [],
    );
  });
});
