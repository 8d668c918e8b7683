import { describe, expect, it } from 'vitest';
import { changedFields, type KeyBody } from '../ui/key-form-changes';

// The admin UI's state kept outside the DOM, tested without a browser (the browser test,
// admin-ui.browser.test.ts, drives the pages themselves in Chromium).

describe("the key form's edit", () => {
  const loaded: KeyBody = {
    name: 'billing',
    customer_id: 'acme',
    models: ['gpt-4o*'],
    rpm: 60,
    tpm: null,
    max_parallel: null,
    budget_usd: 12.345,
    budget_period: 'month',
  };

  it('sends only the fields the admin changed, so it cannot write over what another admin changed since', () => {
    expect(changedFields(loaded, { ...loaded, rpm: 120 })).toEqual({ rpm: 120 });
    expect(changedFields(loaded, { ...loaded, customer_id: null, models: ['gpt-4o*', 'claude-*'] })).toEqual({
      customer_id: null,
      models: ['gpt-4o*', 'claude-*'],
    });
    expect(changedFields(loaded, { ...loaded, tpm: 1000, budget_period: 'day' })).toEqual({
      tpm: 1000,
      budget_period: 'day',
    });
  });

  it('sends nothing when nothing changed', () => {
    expect(changedFields(loaded, { ...loaded, models: ['gpt-4o*'] })).toEqual({});
  });
});
