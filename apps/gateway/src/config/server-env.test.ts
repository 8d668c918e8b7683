import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error';
import type { ConfigFile } from './config-schema';
import { withServerEnv } from './server-env';

const config: ConfigFile = { providers: [{ name: 'mock', type: 'mock' }] };

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    withServerEnv(config, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return [];
}

describe('withServerEnv', () => {
  it('reads SWITCHYARD_SHUTDOWN_DELAY_MS in decimal digits only, as PORT and SWITCHYARD_WORKERS (0x10 was a delay of 16 ms, 1e3 one of 1000)', () => {
    for (const delay of ['1e3', '0x10', '0b11', '1.0', '-0', '+5', '5 ms'])
      expect(problemsOf({ SWITCHYARD_SHUTDOWN_DELAY_MS: delay }), delay).toEqual([
        `SWITCHYARD_SHUTDOWN_DELAY_MS: "${delay}" is not a duration in milliseconds (an integer >= 0)`,
      ]);
    expect(withServerEnv(config, { SWITCHYARD_SHUTDOWN_DELAY_MS: ' 5000 ' }).server).toEqual({
      shutdownDelayMs: 5000,
    });
    expect(withServerEnv(config, { SWITCHYARD_SHUTDOWN_DELAY_MS: '0' }).server).toEqual({
      shutdownDelayMs: 0,
    });
  });
});
