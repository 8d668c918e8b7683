import { createRequestContext, type AttemptRecord } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import { rowFromContext } from './request-log-row';

function attempt(index: number, alias: string, ok: boolean): AttemptRecord {
  return { index, alias, provider: 'mock', providerType: 'mock', model: 'm', startedAt: 0, durationMs: 1, ok };
}

describe('rowFromContext', () => {
  it('counts as fallbacks the attempts that went to another alias than the first one', () => {
    const context = createRequestContext({ endpoint: 'chat' });
    expect(rowFromContext(context)).toMatchObject({ attempts: 0, fallbacks: 0 });
    context.attempts.push(attempt(0, 'primary', false), attempt(1, 'primary', false), attempt(2, 'backup', false), attempt(3, 'last-resort', true));
    expect(rowFromContext(context)).toMatchObject({ attempts: 4, fallbacks: 2 });
  });
});
