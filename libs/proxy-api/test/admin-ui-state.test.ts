import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { changedFields, type KeyBody } from '../ui/key-form-changes';
import { LatestLoad } from '../ui/latest-load';
import { QueryPages } from '../ui/request-pages';
import { readRoute } from '../ui/route';

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

describe("the Requests page's pager", () => {
  it('pages through the query as applied, with each page the cursor the previous one answered', () => {
    const applied = { limit: 50, from: 1_000, model: '', status: '' };
    const pages = new QueryPages(applied);
    expect(pages.query()).toEqual({ ...applied, cursor: undefined });
    pages.found('c1');
    pages.step(1);
    expect(pages.page).toBe(1);
    expect(pages.query()).toEqual({ ...applied, cursor: 'c1' });
    pages.found('c2');
    pages.step(1);
    expect(pages.query()).toEqual({ ...applied, cursor: 'c2' });
    pages.step(-1);
    expect(pages.query()).toEqual({ ...applied, cursor: 'c1' });
  });

  it('keeps the query it was given: the caller changing its object (filters typed, not applied) changes no page', () => {
    const typed: Record<string, string | number | undefined> = { limit: 50, from: 1_000, status: '' };
    const pages = new QueryPages(typed);
    pages.found('c1');
    typed['status'] = '404';
    typed['from'] = 2_000;
    pages.step(1);
    expect(pages.query()).toEqual({ limit: 50, from: 1_000, status: '', cursor: 'c1' });
  });

  it('never steps past the last page or to one whose cursor is not known yet, nor before the first', () => {
    const pages = new QueryPages({ limit: 50 });
    pages.step(1);
    pages.step(-1);
    expect(pages.page).toBe(0);
    pages.found('c1');
    pages.step(1);
    pages.found(null);
    pages.step(1);
    expect(pages.page).toBe(1);
    expect(pages.query()).toEqual({ limit: 50, cursor: 'c1' });
  });
});

describe("the UI's route", () => {
  it('reads the view and the decoded run id from the location hash', () => {
    expect(readRoute('')).toEqual({ view: 'overview', rest: undefined, malformed: false });
    expect(readRoute('#/runs')).toEqual({ view: 'runs', rest: undefined, malformed: false });
    expect(readRoute('#/runs/')).toEqual({ view: 'runs', rest: undefined, malformed: false });
    expect(readRoute('#/runs/run%2F1%20a')).toEqual({ view: 'runs', rest: 'run/1 a', malformed: false });
    expect(readRoute('#/runs/a/b')).toEqual({ view: 'runs', rest: 'a/b', malformed: false });
  });

  it('calls a run link that is not valid percent-encoding malformed, rather than throwing', () => {
    for (const hash of ['#/runs/%', '#/runs/%E0%A4%A', '#/runs/run-%zz'])
      expect(readRoute(hash)).toEqual({ view: 'runs', rest: undefined, malformed: true });
  });
});

describe("a view's latest load", () => {
  it('aborts the load before when a newer one starts, so a slower earlier answer is never shown', () => {
    const view = new AbortController();
    const loads = new LatestLoad(view.signal);
    const thirtyDays = loads.start();
    const lastHour = loads.start();
    expect(thirtyDays.aborted).toBe(true);
    expect(lastHour.aborted).toBe(false);
  });

  it('aborts the load running when the view closes, and starts none after', () => {
    const view = new AbortController();
    const loads = new LatestLoad(view.signal);
    const running = loads.start();
    view.abort();
    expect(running.aborted).toBe(true);
    expect(loads.start().aborted).toBe(true);
  });

  it('leaves no listener on the view for each load it aborted', () => {
    const view = new AbortController();
    const loads = new LatestLoad(view.signal);
    for (let i = 0; i < 100; i++) loads.start();
    expect(getEventListeners(view.signal, 'abort')).toHaveLength(1);
  });
});
