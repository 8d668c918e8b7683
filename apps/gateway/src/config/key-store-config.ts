import type { KeyStoreUrlOptions } from '@switchyard/proxy-api';
import type { ConfigFile } from './config-schema';
import { postgresPoolOptions } from './observability-config';

/** Whether a key store URL (as the file gives it, unchecked) names a SQLite file: one file, no pool, no schemas. */
function isSqliteKeyStore(url: unknown): boolean {
  return typeof url === 'string' && url.startsWith('sqlite:');
}

/**
 * The app's `keyStore` from `admin.keyStore`: its pool section in the names `openDatabase()` takes.
 * A `sqlite:` store gets neither the pool nor a schema ({@link keyStoreWarnings} names them).
 */
export function keyStoreOptionsFromConfig(config: ConfigFile): KeyStoreUrlOptions | undefined {
  const keyStore = config.admin?.keyStore;
  if (keyStore === undefined) return undefined;
  const { postgres, schema, ...rest } = keyStore;
  if (isSqliteKeyStore(keyStore.url)) return rest;
  return {
    ...rest,
    ...(schema === undefined ? {} : { schema }),
    ...(postgres === undefined ? {} : { postgres: postgresPoolOptions(postgres) }),
  };
}

/**
 * `admin.keyStore` settings that would be ignored: a pool section or a schema on a SQLite store
 * (one file, no pool, no schemas). A warning, not a refusal, and none when `chosenByEnv` says
 * the environment picks the URL (`url: "${KEY_STORE_URL:-sqlite:./keys.db}"`): one file may
 * point the key store at `sqlite:` in one environment and at `postgres://` in another.
 */
export function keyStoreWarnings(value: unknown, chosenByEnv: (path: string) => boolean): string[] {
  const admin =
    typeof value === 'object' && value !== null ? (value as { admin?: unknown }).admin : undefined;
  const keyStore =
    typeof admin === 'object' && admin !== null ? (admin as { keyStore?: unknown }).keyStore : undefined;
  if (typeof keyStore !== 'object' || keyStore === null) return [];
  const { url, postgres, schema } = keyStore as { url?: unknown; postgres?: unknown; schema?: unknown };
  if (!isSqliteKeyStore(url) || chosenByEnv('/admin/keyStore/url')) return [];
  return [
    ...(postgres === undefined
      ? []
      : ['/admin/keyStore/postgres: pool settings are for a postgres:// key store, not sqlite:']),
    ...(schema === undefined ? [] : ['/admin/keyStore/schema: is for a postgres:// key store, not sqlite:']),
  ];
}
