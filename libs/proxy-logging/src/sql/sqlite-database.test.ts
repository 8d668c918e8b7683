import { readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteDatabase, useWal } from './sqlite-database';

describe('WAL mode on a file another connection holds', () => {
  let dir: string;
  let path: string;
  let holder: Database.Database;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sy-wal-'));
    path = join(dir, 'log.db');
    // a file still in rollback mode that another process is writing (converting it to WAL,
    // say): reads go through, but the conversion, a write begun from a read, gets SQLITE_BUSY
    // at once (SQLite skips the busy handler where waiting could deadlock)
    holder = new Database(path);
    holder.exec('CREATE TABLE t (x INTEGER)');
    holder.exec('BEGIN IMMEDIATE');
  });
  afterEach(async () => {
    holder.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('retries the conversion once the other connection lets go, and finds the file in WAL mode', async () => {
    const db = new Database(path, { timeout: 5000 });
    const waits: number[] = [];
    await useWal(db, 5000, (ms) => {
      waits.push(ms);
      if (holder.inTransaction) holder.exec('COMMIT');
      return Promise.resolve();
    });
    expect(waits.length).toBeGreaterThan(0);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    // a connection opened later reads the mode from the file and converts nothing
    const later = new Database(path, { timeout: 0 });
    const laterWaits: number[] = [];
    await useWal(later, 0, (ms) => {
      laterWaits.push(ms);
      return Promise.resolve();
    });
    expect(laterWaits).toEqual([]);
    expect(later.pragma('journal_mode', { simple: true })).toBe('wal');
    later.close();
  });

  it('gives up after the busy timeout with an error that names the file, and leaves nothing open', async () => {
    // the descriptors of this process open on the file (Linux names them in /proc/self/fd)
    const openOnFile = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === path;
        } catch {
          return false; // closed while listed
        }
      }).length;
    const before = openOnFile();
    const error = await openSqliteDatabase({ path, busyTimeoutMs: 0 }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'internal_error',
      message: `Cannot open the SQLite database ${path}: database is locked.`,
      cause: { code: 'SQLITE_BUSY' },
    });
    // SQLite keeps a closed connection's descriptor while another connection of the process
    // holds a lock on the file (closing it would drop that lock): counted once the lock is gone
    holder.exec('COMMIT');
    expect(openOnFile()).toBe(before);
    expect(holder.pragma('journal_mode = WAL', { simple: true })).toBe('wal');
  });
});
