import type { KeyStoreUrlOptions } from '@switchyard/proxy-api';
import type { ConfigFile } from './config-schema';
import { postgresPoolOptions } from './observability-config';

/** The app's `keyStore` from `admin.keyStore`: its pool section in the names `openDatabase()` takes. */
export function keyStoreOptionsFromConfig(config: ConfigFile): KeyStoreUrlOptions | undefined {
  const keyStore = config.admin?.keyStore;
  if (keyStore === undefined) return undefined;
  const { postgres, ...rest } = keyStore;
  return postgres === undefined ? rest : { ...rest, postgres: postgresPoolOptions(postgres) };
}

/**
 * Why `admin.keyStore` cannot be used as written, beyond its schema: a pool section or a schema
 * on a SQLite store would be silently ignored (one file, no pool, no schemas), so it is refused.
 */
export function keyStoreProblems(value: unknown): string[] {
  const admin = typeof value === 'object' && value !== null ? (value as { admin?: unknown }).admin : undefined;
  const keyStore = typeof admin === 'object' && admin !== null ? (admin as { keyStore?: unknown }).keyStore : undefined;
  if (typeof keyStore !== 'object' || keyStore === null) return [];
  const { url, postgres, schema } = keyStore as { url?: unknown; postgres?: unknown; schema?: unknown };
  if (typeof url !== 'string' || !url.startsWith('sqlite:')) return [];
  return [
    ...(postgres === undefined ? [] : ['/admin/keyStore/postgres: pool settings are for a postgres:// key store, not sqlite:']),
    ...(schema === undefined ? [] : ['/admin/keyStore/schema: is for a postgres:// key store, not sqlite:']),
  ];
}
