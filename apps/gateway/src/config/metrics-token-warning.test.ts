import { describe, expect, it } from 'vitest';
import type { ConfigFile } from './config-schema';
import { emptyMetricsTokenWarning } from './metrics-token-warning';
import { withEnvOverrides } from './env-overrides';

const base: ConfigFile = { providers: [{ name: 'mock', type: 'mock' }] };
const token = 'metrics-token-0123456789';

function warning(config: ConfigFile, env: NodeJS.ProcessEnv): string | undefined {
  return emptyMetricsTokenWarning(withEnvOverrides(config, env), env);
}

describe('emptyMetricsTokenWarning', () => {
  it('warns when SWITCHYARD_METRICS_TOKEN is empty, metrics are on and the config has no token: /metrics is open', () => {
    for (const config of [
      base,
      { ...base, metrics: { enabled: true } },
      { ...base, metrics: { keyLabel: true } },
    ]) {
      expect(warning(config, { SWITCHYARD_METRICS_TOKEN: '' })).toBe(
        'SWITCHYARD_METRICS_TOKEN is set but empty, which counts as unset: /metrics is open to anyone who can reach the gateway. Give it a token of 16 characters or more (or set metrics.token), set metrics.enabled: false, or unset the variable to keep /metrics open on purpose.',
      );
    }
  });

  it('is quiet when the variable is absent or gives a token, the config has a token, or metrics are off', () => {
    expect(warning(base, {})).toBeUndefined();
    expect(warning(base, { SWITCHYARD_METRICS_TOKEN: token })).toBeUndefined();
    expect(warning({ ...base, metrics: { token } }, { SWITCHYARD_METRICS_TOKEN: '' })).toBeUndefined();
    expect(
      warning({ ...base, metrics: { enabled: false } }, { SWITCHYARD_METRICS_TOKEN: '' }),
    ).toBeUndefined();
  });
});
