import { SwitchyardError } from '@switchyard/proxy-core';
import type { SqlDatabase } from './sql-database';

/** One versioned schema change of a namespace. */
export interface Migration {
  /** Positive integer, strictly increasing within a namespace. */
  version: number;
  /** Short description, recorded with the version. */
  name: string;
  /**
   * The change: one SQL statement, a list of statements, or a function (for dialect-specific
   * SQL: check `db.dialect`). Runs inside the migration transaction.
   */
  up: string | readonly string[] | ((db: SqlDatabase) => Promise<void>);
}

/** What {@link migrate} did. */
export interface MigrateResult {
  /** Versions applied by this call, in order. */
  applied: number[];
  /** The namespace's version after the call. */
  version: number;
}

const NAMESPACE = /^[a-z0-9][a-z0-9_.:-]{0,63}$/;

function checkMigrations(namespace: string, migrations: readonly Migration[]): void {
  const problems: string[] = [];
  if (!NAMESPACE.test(namespace))
    problems.push(`namespace ${JSON.stringify(namespace)} must match ${NAMESPACE.source}`);
  let previous = 0;
  for (const migration of migrations) {
    if (!Number.isSafeInteger(migration.version) || migration.version <= previous) {
      problems.push(
        `migration ${JSON.stringify(migration.name)}: version ${migration.version} must be an integer greater than ${previous}`,
      );
    }
    previous = Math.max(previous, migration.version);
  }
  if (problems.length > 0)
    throw new SwitchyardError('invalid_options', `Invalid migrations: ${problems.join('; ')}.`);
}

/**
 * Applies the pending migrations of one namespace in one transaction, recording each in
 * `switchyard_migrations (namespace, version, name, applied_at)`. Safe to call from several
 * processes at once: PostgreSQL takes an advisory lock per schema, SQLite a write lock.
 * @example
 * await migrate(db, 'keys', [{ version: 1, name: 'create keys', up: 'CREATE TABLE keys (...)' }]);
 */
export async function migrate(
  db: SqlDatabase,
  namespace: string,
  migrations: readonly Migration[],
): Promise<MigrateResult> {
  checkMigrations(namespace, migrations);
  return db.transaction(async (tx) => {
    // one migration at a time per schema (the table below is the schema's own); gateways on
    // other schemas of the database do not wait for each other
    if (tx.dialect === 'postgres')
      await tx.query(
        "SELECT pg_advisory_xact_lock(hashtext(coalesce(current_schema(), '') || ':switchyard_migrations'))",
      );
    await tx.execute(
      'CREATE TABLE IF NOT EXISTS switchyard_migrations (namespace TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (namespace, version))',
    );
    const rows = await tx.query<{ version: number }>(
      'SELECT MAX(version) AS version FROM switchyard_migrations WHERE namespace = ?',
      [namespace],
    );
    const current = Number(rows[0]?.version ?? 0);
    const applied: number[] = [];
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      if (typeof migration.up === 'function') await migration.up(tx);
      else
        for (const statement of typeof migration.up === 'string' ? [migration.up] : migration.up)
          await tx.execute(statement);
      await tx.execute(
        'INSERT INTO switchyard_migrations (namespace, version, name, applied_at) VALUES (?, ?, ?, ?)',
        [namespace, migration.version, migration.name, Date.now()],
      );
      applied.push(migration.version);
    }
    return { applied, version: applied.at(-1) ?? current };
  });
}
