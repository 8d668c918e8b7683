import type { ConfigFile } from './config-schema';
import { envValue } from './env-value';

/** The secret variables that only fill a field the file leaves out, with the field's path. */
const SECRET_FIELDS = [
  ['SWITCHYARD_MASTER_KEY', 'admin.masterKey', (config: ConfigFile) => config.admin?.masterKey],
  ['SWITCHYARD_KEY_SECRET', 'admin.keySecret', (config: ConfigFile) => config.admin?.keySecret],
  ['SWITCHYARD_METRICS_TOKEN', 'metrics.token', (config: ConfigFile) => config.metrics?.token],
] as const;

/**
 * A warning for each secret variable that is set but not used because the config file gives its
 * field another value: unlike PORT or SWITCHYARD_SHUTDOWN_DELAY_MS, these never win over the file
 * (`withEnvOverrides`), and an operator rotating the key in the environment would otherwise
 * keep the old one without a word. Names only, never a value. `config` is the file's, before the
 * environment is applied; a field that takes the variable by reference (`masterKey:
 * "${SWITCHYARD_MASTER_KEY}"`) has its value and is not warned of.
 */
export function shadowedSecretWarnings(config: ConfigFile, env: NodeJS.ProcessEnv): string[] {
  return SECRET_FIELDS.flatMap(([variable, field, fileValue]) => {
    const value = envValue(env, variable);
    const inFile = fileValue(config);
    return value === undefined || inFile === undefined || inFile === value
      ? []
      : [
          `${variable} is set but not used: the config file's ${field} wins over it (a secret in the file always does); remove one of them`,
        ];
  });
}
