import { createRequestContext, type AttemptRecord } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import type { SqlValue } from '../sql/sql-database';
import { REQUEST_LOG_COLUMNS, rowFromContext, type RequestLogRow, writeRowParams } from './request-log-row';

function attempt(index: number, alias: string, ok: boolean): AttemptRecord {
  return {
    index,
    alias,
    provider: 'mock',
    providerType: 'mock',
    model: 'm',
    startedAt: 0,
    durationMs: 1,
    ok,
  };
}

describe('rowFromContext', () => {
  it('counts as fallbacks the attempts that went to another alias than the first one', () => {
    const context = createRequestContext({ endpoint: 'chat' });
    expect(rowFromContext(context)).toMatchObject({ attempts: 0, fallbacks: 0 });
    context.attempts.push(
      attempt(0, 'primary', false),
      attempt(1, 'primary', false),
      attempt(2, 'backup', false),
      attempt(3, 'last-resort', true),
    );
    expect(rowFromContext(context)).toMatchObject({ attempts: 4, fallbacks: 2 });
  });

  it('logs the non-token units the universal proxy metered (a speech call: its characters)', () => {
    const context = createRequestContext({ endpoint: 'proxy' });
    expect(rowFromContext(context).units).toBeNull();
    context.meteredUnits = { characters: 45 };
    expect(rowFromContext(context).units).toBe('{"characters":45}');
  });
});

describe('writeRowParams', () => {
  it('writes every column of a row in REQUEST_LOG_COLUMNS order from the offset, booleans as 0/1', () => {
    // a distinct value per column, so a column read into the wrong place shows
    const row = Object.fromEntries(
      REQUEST_LOG_COLUMNS.map((column, index) => [column, `${column}-${index}`]),
    ) as unknown as RequestLogRow;
    row.stream = true;
    row.cache_hit = false;
    const params: SqlValue[] = Array.from({ length: REQUEST_LOG_COLUMNS.length + 3 }, () => null);
    writeRowParams(params, 3, row);
    expect(params).toEqual([
      null,
      null,
      null,
      ...REQUEST_LOG_COLUMNS.map((column) =>
        column === 'stream' ? 1 : column === 'cache_hit' ? 0 : row[column],
      ),
    ]);
  });
});
