import { describe, expect, it } from 'vitest';
import type { ConfigFile } from './config-schema';
import { observabilityOptionsFromConfig } from './observability-config';

const base: ConfigFile = { providers: [{ name: 'mock', type: 'mock' }] };

describe('observabilityOptionsFromConfig', () => {
  it('defaults to the embedded SQLite request log at ./switchyard.db and metrics on', () => {
    expect(observabilityOptionsFromConfig(base, {})).toEqual({
      metrics: { keyLabel: false },
      requestLog: { store: 'sqlite', path: './switchyard.db' },
    });
  });

  it('takes the PostgreSQL URL from DATABASE_URL and converts retention days', () => {
    const options = observabilityOptionsFromConfig(
      {
        ...base,
        requestLog: { store: 'postgres', retentionDays: 2, bodies: true },
        metrics: { enabled: false },
      },
      { DATABASE_URL: 'postgres://db/x' },
    );
    expect(options).toEqual({
      metrics: false,
      requestLog: {
        store: 'postgres',
        path: './switchyard.db',
        url: 'postgres://db/x',
        retentionMs: 2 * 86_400_000,
        bodies: true,
      },
    });
  });

  it('passes the row rate of 401 refusals on, with the request log off too (it bounds their log lines as well)', () => {
    expect(
      observabilityOptionsFromConfig(
        { ...base, requestLog: { unauthenticatedRefusalRowsPerSecond: 2.5 } },
        {},
      ),
    ).toMatchObject({ unauthenticatedRefusalRowsPerSecond: 2.5, requestLog: { store: 'sqlite' } });
    expect(
      observabilityOptionsFromConfig(
        { ...base, requestLog: { store: 'none', unauthenticatedRefusalRowsPerSecond: 0 } },
        {},
      ),
    ).toEqual({ metrics: { keyLabel: false }, unauthenticatedRefusalRowsPerSecond: 0 });
  });

  it('passes the bound of the queued bodies on (requestLog.maxQueuedBodyChars was refused as an unknown field)', () => {
    expect(
      observabilityOptionsFromConfig(
        { ...base, requestLog: { store: 'jsonl', bodies: true, maxQueuedBodyChars: 1_000_000 } },
        {},
      ),
    ).toMatchObject({ requestLog: { store: 'jsonl', bodies: true, maxQueuedBodyChars: 1_000_000 } });
    expect(observabilityOptionsFromConfig(base, {}).requestLog).not.toHaveProperty('maxQueuedBodyChars');
  });

  it('turns the request log off with store none', () => {
    expect(observabilityOptionsFromConfig({ ...base, requestLog: { store: 'none' } }, {})).toEqual({
      metrics: { keyLabel: false },
    });
  });
});
