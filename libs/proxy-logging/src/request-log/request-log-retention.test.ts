import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger, type LogEntry } from '../../test/capture-logger';
import { row } from '../../test/request-log-fixtures';
import { createRequestLog, type RequestLog } from './create-request-log';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('request log retention schedule', () => {
  let dir: string | undefined;
  let log: RequestLog | undefined;
  afterEach(async () => {
    await log?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    log = dir = undefined;
  });

  /** A SQLite file holding `count` rows two days old, written by a previous process. */
  async function fileWithExpiredRows(count: number): Promise<string> {
    dir = mkdtempSync(join(tmpdir(), 'retention-'));
    const path = join(dir, 'log.db');
    const previous = await createRequestLog({ store: 'sqlite', path });
    const old = Date.now() - 2 * DAY_MS;
    await previous.sql!.write(
      Array.from({ length: count }, (_, i) => row({ id: `r${String(i).padStart(6, '0')}`, ts: old + i })),
    );
    await previous.close();
    return path;
  }

  async function expiredLeft(): Promise<number> {
    const [left] = await log!.sql!.db.query<{ n: number }>(
      'SELECT COUNT(*) AS n FROM switchyard_requests WHERE ts < ?',
      [Date.now() - DAY_MS],
    );
    return Number(left?.n);
  }

  const lastPass = (entry: LogEntry): boolean =>
    entry.message === 'request log retention pass' && entry.fields['more'] === false;

  it('runs a first pass soon after start-up, not one interval later (a process restarted hourly never ran one)', async () => {
    const path = await fileWithExpiredRows(150);
    const { logger, next } = captureLogger();
    const passed = next(lastPass);
    log = await createRequestLog({
      store: 'sqlite',
      path,
      retentionMs: DAY_MS,
      retentionStartDelayMs: 10,
      logger,
    });
    expect((await passed).fields).toMatchObject({ deleted: 150 });
    expect(await expiredLeft()).toBe(0);
  });

  it('runs the next pass at once while a pass hits its cap of 100 deletes, instead of one capped pass an hour', async () => {
    // 100 deletes of 10 rows: a pass stops at 1000 rows
    const path = await fileWithExpiredRows(2500);
    const { logger, entries, next } = captureLogger();
    const passed = next(lastPass);
    log = await createRequestLog({
      store: 'sqlite',
      path,
      retentionMs: DAY_MS,
      retentionBatchSize: 10,
      retentionStartDelayMs: 0,
      logger,
    });
    await passed;
    const passes = entries
      .filter((entry) => entry.message === 'request log retention pass')
      .map((entry) => entry.fields);
    expect(passes).toEqual([
      { deleted: 1000, more: true },
      { deleted: 1000, more: true },
      { deleted: 500, more: false },
    ]);
    expect(await expiredLeft()).toBe(0);
  });
});
