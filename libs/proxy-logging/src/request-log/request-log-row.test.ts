import { createRequestContext, type AttemptRecord } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import type { SqlValue } from '../sql/sql-database';
import {
  BODY_STATE_KEY,
  REQUEST_LOG_COLUMNS,
  rowFromContext,
  type CapturedBodies,
  type RequestLogRow,
  writeRowParams,
} from './request-log-row';

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
  it('flags the bodies capture cut, and neither when none was captured', () => {
    const context = createRequestContext({ endpoint: 'chat' });
    expect(rowFromContext(context)).toMatchObject({
      request_body_truncated: false,
      response_body_truncated: false,
    });
    const bodies: CapturedBodies = { request: '{"a":', requestTruncated: true, response: '{}' };
    context.state.set(BODY_STATE_KEY, bodies);
    expect(rowFromContext(context)).toMatchObject({
      request_body: '{"a":',
      request_body_truncated: true,
      response_body_truncated: false,
    });
  });

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
    // a distinct value per column, so a column read into the wrong place shows: text, whole
    // numbers, and reals as each column holds them
    const integers = new Set<string>(['ts', 'status', 'attempts', 'fallbacks']);
    const reals = new Set<string>(['duration_ms', 'upstream_ms', 'ttft_ms', 'cost_usd', 'cache_saved_usd']);
    const row = Object.fromEntries(
      REQUEST_LOG_COLUMNS.map((column, index) => [
        column,
        integers.has(column) || column.endsWith('_tokens')
          ? index
          : reals.has(column)
            ? index + 0.25
            : `${column}-${index}`,
      ]),
    ) as unknown as RequestLogRow;
    row.stream = true;
    row.cache_hit = false;
    // a nullable flag: 0/1, or null for unknown
    row.request_body_truncated = true;
    row.response_body_truncated = null;
    const flags: Partial<Record<string, number | null>> = {
      stream: 1,
      cache_hit: 0,
      request_body_truncated: 1,
      response_body_truncated: null,
    };
    const params: SqlValue[] = Array.from({ length: REQUEST_LOG_COLUMNS.length + 3 }, () => null);
    writeRowParams(params, 3, row);
    expect(params).toEqual([
      null,
      null,
      null,
      ...REQUEST_LOG_COLUMNS.map((column) => (column in flags ? flags[column] : row[column])),
    ]);
  });
});
