import { randomBytes } from 'node:crypto';
import { TEST_DATABASE_URL } from '@switchyard/testing';
import { openDatabase } from '../src/sql/open-database';
import type { SqlDatabase } from '../src/sql/sql-database';

/** A fresh PostgreSQL schema for one test: open it, use it, drop it. */
export interface TestSchema {
  schema: string;
  db: SqlDatabase;
  drop(): Promise<void>;
}

/** Creates a uniquely named schema on the shared test PostgreSQL and opens a pool on it. */
export async function createTestSchema(url = TEST_DATABASE_URL): Promise<TestSchema> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = await openDatabase({ url, poolSize: 1 });
  await admin.execute(`CREATE SCHEMA ${schema}`);
  const db = await openDatabase({ url, schema });
  return {
    schema,
    db,
    async drop() {
      await db.close();
      await admin.execute(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    },
  };
}
