import { migrate, type Migration, type SqlDatabase, type SqlValue } from '@switchyard/proxy-logging';
import type { KeyPage, KeyStore, SpendEntry } from './key-store';
import type { BudgetPeriod, VirtualKey } from './virtual-key';

/** The key table's migrations (namespace `keys`); one portable schema for SQLite and PostgreSQL. */
export const KEY_STORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create switchyard_keys',
    up: [
      `CREATE TABLE switchyard_keys (
        id TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        hint TEXT NOT NULL,
        name TEXT NOT NULL,
        customer_id TEXT,
        owner TEXT,
        metadata TEXT NOT NULL,
        models TEXT NOT NULL,
        rpm INTEGER,
        tpm INTEGER,
        max_parallel INTEGER,
        budget_usd DOUBLE PRECISION,
        budget_period TEXT NOT NULL,
        expires_at BIGINT,
        enabled INTEGER NOT NULL,
        revoked_at BIGINT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    name: 'create switchyard_key_spend',
    up: [
      `CREATE TABLE switchyard_key_spend (
        key_id TEXT NOT NULL,
        period_id TEXT NOT NULL,
        spent_micros BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (key_id, period_id)
      )`,
    ],
  },
];

interface KeyRow {
  id: string;
  hash: string;
  hint: string;
  name: string;
  customer_id: string | null;
  owner: string | null;
  metadata: string;
  models: string;
  rpm: number | null;
  tpm: number | null;
  max_parallel: number | null;
  budget_usd: number | null;
  budget_period: string;
  expires_at: number | string | null;
  enabled: number | boolean;
  revoked_at: number | string | null;
  created_at: number | string;
  updated_at: number | string;
}

const COLUMNS =
  'id, hash, hint, name, customer_id, owner, metadata, models, rpm, tpm, max_parallel, budget_usd, budget_period, expires_at, enabled, revoked_at, created_at, updated_at';

/** Every column but the id, as `replace` sets them. */
const REPLACED_COLUMNS = COLUMNS.split(', ')
  .slice(1)
  // a revocation is for good: a change read before it (on another instance) does not undo it
  .map((column) => (column === 'revoked_at' ? 'revoked_at = COALESCE(revoked_at, ?)' : `${column} = ?`))
  .join(', ');

const num = (value: number | string | null): number | null => (value === null ? null : Number(value));

function fromRow(row: KeyRow): VirtualKey {
  return {
    id: row.id,
    hash: row.hash,
    hint: row.hint,
    name: row.name,
    customerId: row.customer_id,
    owner: row.owner,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    models: JSON.parse(row.models) as string[],
    rpm: num(row.rpm),
    tpm: num(row.tpm),
    maxParallel: num(row.max_parallel),
    budgetUsd: num(row.budget_usd),
    budgetPeriod: row.budget_period as BudgetPeriod,
    expiresAt: num(row.expires_at),
    enabled: Number(row.enabled) === 1,
    revokedAt: num(row.revoked_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    source: 'store',
  };
}

function values(key: VirtualKey): SqlValue[] {
  return [
    key.id,
    key.hash,
    key.hint,
    key.name,
    key.customerId,
    key.owner,
    JSON.stringify(key.metadata),
    JSON.stringify(key.models),
    key.rpm,
    key.tpm,
    key.maxParallel,
    key.budgetUsd,
    key.budgetPeriod,
    key.expiresAt,
    key.enabled ? 1 : 0,
    key.revokedAt,
    key.createdAt,
    key.updatedAt,
  ];
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Virtual keys in SQL (SQLite or PostgreSQL through `@switchyard/proxy-logging`'s
 * `openDatabase`), in the `switchyard_keys` table. Only hashes are stored, never secrets.
 */
export class SqlKeyStore implements KeyStore {
  readonly #db: SqlDatabase;
  readonly #owned: boolean;

  private constructor(db: SqlDatabase, owned: boolean) {
    this.#db = db;
    this.#owned = owned;
  }

  /**
   * Migrates the `keys` namespace and returns a store on `db`. With `owned`, `close()`
   * closes the database too.
   */
  static async open(db: SqlDatabase, options: { owned?: boolean } = {}): Promise<SqlKeyStore> {
    await migrate(db, 'keys', KEY_STORE_MIGRATIONS);
    return new SqlKeyStore(db, options.owned ?? false);
  }

  async insert(key: VirtualKey): Promise<void> {
    await this.#db.execute(
      `INSERT INTO switchyard_keys (${COLUMNS}) VALUES (${COLUMNS.split(',')
        .map(() => '?')
        .join(', ')})`,
      values(key),
    );
  }

  async replace(key: VirtualKey, previous?: VirtualKey): Promise<boolean> {
    const [id, ...rest] = values(key);
    // only the key as it was read: a change made since (a rotate, another PATCH) is not written over
    const [where, read] =
      previous === undefined
        ? ['id = ?', []]
        : ['id = ? AND hash = ? AND updated_at = ?', [previous.hash, previous.updatedAt]];
    const result = await this.#db.execute(`UPDATE switchyard_keys SET ${REPLACED_COLUMNS} WHERE ${where}`, [
      ...rest,
      id ?? null,
      ...read,
    ]);
    return result.rowCount > 0;
  }

  async get(id: string): Promise<VirtualKey | undefined> {
    const rows = await this.#db.query<KeyRow>(`SELECT ${COLUMNS} FROM switchyard_keys WHERE id = ?`, [id]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  async findByHash(hash: string): Promise<VirtualKey | undefined> {
    const rows = await this.#db.query<KeyRow>(`SELECT ${COLUMNS} FROM switchyard_keys WHERE hash = ?`, [
      hash,
    ]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  async list(options: { limit: number; cursor?: string }): Promise<KeyPage> {
    const rows =
      options.cursor === undefined
        ? await this.#db.query<KeyRow>(`SELECT ${COLUMNS} FROM switchyard_keys ORDER BY id LIMIT ?`, [
            options.limit + 1,
          ])
        : await this.#db.query<KeyRow>(
            `SELECT ${COLUMNS} FROM switchyard_keys WHERE id > ? ORDER BY id LIMIT ?`,
            [options.cursor, options.limit + 1],
          );
    const data = rows.slice(0, options.limit).map(fromRow);
    return { data, nextCursor: rows.length > options.limit ? (data.at(-1)?.id ?? null) : null };
  }

  async readSpend(keyId: string, periodId: string): Promise<number> {
    const rows = await this.#db.query<{ spent_micros: number | string }>(
      'SELECT spent_micros FROM switchyard_key_spend WHERE key_id = ? AND period_id = ?',
      [keyId, periodId],
    );
    return rows[0] === undefined ? 0 : Number(rows[0].spent_micros);
  }

  async writeSpend(entries: readonly SpendEntry[], nowMs: number): Promise<void> {
    if (entries.length === 0) return;
    // rows locked in one order by every instance: two that flush the same keys in the order
    // each first saw them would lock them crosswise, and PostgreSQL aborts one (40P01)
    const ordered = [...entries].sort(
      (a, b) => compareText(a.keyId, b.keyId) || compareText(a.periodId, b.periodId),
    );
    await this.#db.transaction(async (tx) => {
      for (const entry of ordered) {
        // the larger total wins: instances flush the same shared counter at different moments
        await tx.execute(
          `INSERT INTO switchyard_key_spend (key_id, period_id, spent_micros, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (key_id, period_id) DO UPDATE SET
             spent_micros = CASE WHEN excluded.spent_micros > switchyard_key_spend.spent_micros THEN excluded.spent_micros ELSE switchyard_key_spend.spent_micros END,
             updated_at = excluded.updated_at`,
          [entry.keyId, entry.periodId, Math.round(entry.spentMicros), nowMs],
        );
      }
    });
  }

  /**
   * PostgreSQL's data exceptions (SQLSTATE class 22: a NUL in text, a number out of range);
   * SQLite stores such values as given. An integrity error (class 23: a duplicate id or hash)
   * is no fault of the value sent, and stays a failure.
   */
  isValueRejection(error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code;
    return this.#db.dialect === 'postgres' && typeof code === 'string' && code.startsWith('22');
  }

  async ping(): Promise<void> {
    await this.#db.query('SELECT 1 AS ok');
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#db.close();
  }
}
