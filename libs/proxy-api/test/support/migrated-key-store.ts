import { openDatabase } from '@switchyard/proxy-logging';
import { TEST_DATABASE_URL } from '@switchyard/testing';
import { SqlKeyStore } from '../../src/keys/sql-key-store';

/**
 * Creates the key store's tables in `schema` on a pool with the default timeouts, for a test
 * whose own pool has short ones: a migration on a loaded machine may outlast them.
 */
export async function migrateKeyStoreSchema(schema: string): Promise<void> {
  const store = await SqlKeyStore.open(await openDatabase({ url: TEST_DATABASE_URL, schema }), {
    owned: true,
  });
  await store.close();
}
