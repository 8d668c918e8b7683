import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequestLog, type RequestLog } from '@switchyard/proxy-logging';
import { createMockUpstream, requireChromium, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import {
  chromium,
  type Browser,
  type Dialog,
  type Locator,
  type Page,
  type Request,
  type Route,
} from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUi } from '../scripts/build-ui';
import { createApp } from '../src/create-app';

// The admin UI in real headless Chromium against a real gateway on port 0: sign in, see the
// charts fed by requests just made, open a run's span tree, create a key, use it, revoke it.
// Screenshots land in test-artifacts/ui/ (gitignored; docs/images/ holds copies).

const MASTER = 'sk-sy-master-key-for-the-ui-test-0000';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/ui/', import.meta.url));
const chromiumPath = await requireChromium();

/** The time range a usage query of the UI asks for, in milliseconds (`to - from`). */
const rangeOf = (request: Request): number => {
  const query = new URL(request.url()).searchParams;
  return Number(query.get('to')) - Number(query.get('from'));
};
const HOUR = 3_600_000;
const DAY = 86_400_000;
const THIRTY_DAYS = 2_592_000_000;

/** A usage group as `/admin/usage` answers it, named `key`. */
const usageGroup = (key: string): Record<string, unknown> => ({
  key,
  requests: 1,
  input_tokens: 1,
  output_tokens: 1,
  cached_tokens: 0,
  reasoning_tokens: 0,
  cost_usd: 0.01,
  cache_saved_usd: 0,
  unpriced_requests: 0,
  unpriced_input_tokens: 0,
  unpriced_output_tokens: 0,
});

/** A time as the UI shows it: UTC, to the second (the zone in a column header, or after it). */
const utc = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/**
 * What happened to a load the page started before the one it shows now: its request failed
 * (the page aborted it), or its late answer was shown over the newer one. Deterministic both
 * ways: the abort is seen when the newer load starts, the late answer once it is released.
 */
async function fateOfSupersededLoad(
  page: Page,
  superseded: readonly Request[],
  release: () => Promise<void>,
  lateAnswerShown: Locator,
): Promise<string> {
  const aborted = Promise.all(
    // failed already, or a wait for it begun in the same tick: no event falls in between
    superseded.map(async (request) =>
      request.failure() !== null
        ? request
        : page.waitForEvent('requestfailed', { predicate: (failed) => failed === request }),
    ),
  );
  await release();
  return Promise.race([
    aborted.then(
      () => 'aborted',
      () => 'not aborted',
    ),
    lateAnswerShown.waitFor({ timeout: 10_000 }).then(
      () => 'late answer shown',
      () => 'not shown',
    ),
  ]);
}

/** Requests held by a route handler until the test answers them. */
class Held {
  readonly routes: Route[] = [];
  #waiting: { count: number; resolve: () => void }[] = [];
  hold(route: Route): void {
    this.routes.push(route);
    for (const waiter of this.#waiting) if (this.routes.length >= waiter.count) waiter.resolve();
  }
  /** Resolves once `count` requests are held. */
  async until(count: number): Promise<Route[]> {
    if (this.routes.length < count)
      await new Promise<void>((resolve) => this.#waiting.push({ count, resolve }));
    return this.routes;
  }
  /** Answers every held request with `json`; a request the page aborted meanwhile is skipped. */
  async fulfill(json: (route: Route) => unknown): Promise<void> {
    for (const route of this.routes) await route.fulfill({ json: json(route) }).catch(() => undefined);
  }
}

describe.skipIf(chromiumPath === undefined)('admin UI in headless Chromium', () => {
  let upstream: MockUpstream;
  let log: RequestLog;
  let app: FastifyInstance;
  let url: string;
  let assets: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  const chat = (headers: Record<string, string>, model = 'gpt-4o-mini', key = MASTER): Promise<Response> =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello!' }] }),
    });

  const shot = (name: string): Promise<Buffer> =>
    page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    assets = await mkdtemp(join(tmpdir(), 'switchyard-ui-'));
    await buildUi(assets);
    await mkdir(ARTIFACTS, { recursive: true });
    upstream = await createMockUpstream();
    log = await createRequestLog({ store: 'sqlite', path: ':memory:', flushIntervalMs: 60_000 });
    app = createApp({
      admin: { masterKey: MASTER },
      keyStore: 'memory',
      requestLog: log,
      ui: { assetsDir: assets },
      gateway: {
        providers: [
          { name: 'openai', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-provider-ui-test' },
        ],
        models: [
          { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
          // a model the price catalog does not know: its usage is logged, its cost null
          { name: 'unpriced-model', targets: [{ provider: 'openai', model: 'switchyard-unpriced-model' }] },
        ],
        retry: { maxRetries: 0 },
      },
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    // a run with nested sections, a customer, and one failed request
    const run = { 'x-switchyard-run-id': 'run-ui-1', 'x-switchyard-customer-id': 'acme' };
    const calls = [
      chat({ ...run, 'x-switchyard-span-id': 'span-agent', 'x-switchyard-section': 'agent' }),
      chat({
        ...run,
        'x-switchyard-span-id': 'span-research',
        'x-switchyard-parent-span-id': 'span-agent',
        'x-switchyard-section': 'research',
      }),
      chat({
        ...run,
        'x-switchyard-span-id': 'span-write',
        'x-switchyard-parent-span-id': 'span-agent',
        'x-switchyard-section': 'write',
      }),
      chat({}, 'no-such-model'),
    ];
    const statuses = (await Promise.all(calls)).map((response) => response.status);
    expect(statuses).toEqual([200, 200, 200, 404]);
    await log.queue.flush();

    browser = await chromium.launch({ executablePath: chromiumPath, headless: true });
    page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    // under the test's 20 s: a wait that never ends fails naming what it waited for, instead of a
    // bare test timeout whose body goes on driving the page into the next tests (Playwright: 30 s)
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await log?.close();
    await upstream?.close();
    if (assets !== undefined) await rm(assets, { recursive: true, force: true });
  });

  it('refuses a wrong key, then signs in and charts the requests just made', async () => {
    await page.goto(`${url}/ui`);
    await page.getByLabel('Master key').fill('sk-sy-not-the-master-key-000000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Not accepted');
    // the browser reports that refused call as a failed resource load, an event not ordered with
    // the page showing the refusal: cleared before it arrived, it would fail a later test's check
    await expect.poll(() => pageErrors.some((error) => error.includes('401'))).toBe(true);
    pageErrors.splice(0, pageErrors.length, ...pageErrors.filter((error) => !error.includes('401')));

    await page.getByLabel('Master key').fill(MASTER);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const requests = page.locator('[data-total="requests"] dd');
    await expect.poll(() => requests.textContent()).toBe('4');
    expect(await page.locator('[data-total="error-rate"] dd').textContent()).toBe('25.0%');
    await page.locator('figure.chart canvas').nth(3).waitFor();
    expect(await page.locator('figure.chart canvas').count()).toBe(4);
    // the breakdowns name what was called, for whom
    await page.getByRole('table', { name: 'By model' }).getByRole('cell', { name: 'gpt-4o-mini' }).waitFor();
    await page.getByRole('table', { name: 'By customer' }).getByRole('cell', { name: 'acme' }).waitFor();
    // with their spend, and what the response cache saved them
    await page
      .getByRole('table', { name: 'By model' })
      .getByRole('columnheader', { name: 'Saved by cache' })
      .waitFor();
    // the key never lands in the URL
    expect(page.url()).not.toContain(MASTER);
    await shot('overview');
  });

  it('shows the request log and one request in detail', async () => {
    await page.getByRole('link', { name: 'Requests' }).click();
    const table = page.getByRole('table', { name: 'Requests, newest first' });
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(4);
    await page.getByLabel('Status').fill('404');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    await table.locator('tbody tr button').first().click();
    await page.getByRole('heading', { name: /^Request / }).waitFor();
    expect(await page.locator('.detail').textContent()).toContain('404 model_not_found');
    await shot('requests');
  });

  it("shows a request's bodies as stored: big integers, duplicate keys, and a body cut short", async () => {
    const row = {
      id: 'req-stored-bodies',
      ts: Date.now(),
      api_key_id: null,
      api_key_name: null,
      customer_id: null,
      run_id: null,
      span_id: null,
      parent_span_id: null,
      section: null,
      section_path: null,
      endpoint: '/v1/chat/completions',
      provider: 'openai',
      requested_model: 'gpt-4o-mini',
      resolved_model: 'gpt-4o-mini',
      status: 200,
      error_code: null,
      stream: false,
      duration_ms: 12,
      upstream_ms: 10,
      ttft_ms: null,
      input_tokens: 1,
      output_tokens: 1,
      cached_tokens: 0,
      reasoning_tokens: 0,
      units: null,
      cost_usd: 0.0001,
      cache_hit: false,
      attempts: 1,
      fallbacks: 0,
      // as stored: JSON.parse rounded the seed to ...992 and kept the second "user" only
      request_body: '{"model":"gpt-4o-mini","seed":9007199254740993,"user":"first","user":"second"}',
      // cut at the request log's body limit
      response_body: '{"id":"chatcmpl-1","choices":[{"message":{"content":"Hel',
      client_request_id: null,
      cache_saved_usd: null,
      // a row written before the request log flagged cut bodies: the cut is told from the JSON
      request_body_truncated: null,
      response_body_truncated: null,
    };
    // planted by a key holder while body logging is on: its layout grew with the square of its
    // depth, past the longest string the engine makes (the detail stayed empty, an uncaught error)
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const deepRow = { ...row, id: 'req-deep-body', request_body: deep, response_body: null };
    // rows that say whether a body was cut: a stream's events cut (no JSON to tell it from), and an
    // upstream's own JSON that ends early, stored whole
    const flaggedRow = {
      ...row,
      id: 'req-flagged-bodies',
      request_body: 'data: {"id":"chunk-1"}\n\ndata: {"id":"chu',
      request_body_truncated: true,
      response_body: '{"error":"upstream ended here',
      response_body_truncated: false,
    };
    const matches = (target: URL): boolean => target.pathname.endsWith('/admin/requests');
    await page.route(matches, (route) =>
      route.fulfill({ json: { data: [row, deepRow, flaggedRow], next_cursor: null } }),
    );
    try {
      await page.getByRole('link', { name: 'Overview' }).click();
      await page.getByRole('link', { name: 'Requests' }).click();
      await page.getByRole('button', { name: 'Details of request req-stored-bodies' }).click();
      await page.getByRole('heading', { name: 'Request req-stored-bodies' }).waitFor();
      const [request, response] = await page.locator('.detail details').all();
      expect(await request!.locator('pre').textContent()).toBe(
        [
          '{',
          '  "model": "gpt-4o-mini",',
          '  "seed": 9007199254740993,',
          '  "user": "first",',
          '  "user": "second"',
          '}',
        ].join('\n'),
      );
      expect(await response!.locator('summary').textContent()).toBe('Response body (redacted), cut short');
      await response!.locator('summary').click();
      expect(await response!.getByRole('status').textContent()).toMatch(/^Cut short: /);
      expect(await response!.locator('pre').textContent()).toBe(
        [
          '{',
          '  "id": "chatcmpl-1",',
          '  "choices": [',
          '    {',
          '      "message": {',
          '        "content": "Hel',
        ].join('\n'),
      );
      await page.getByRole('button', { name: 'Details of request req-deep-body' }).click();
      await page.getByRole('heading', { name: 'Request req-deep-body' }).waitFor();
      // shown as stored
      expect(await page.locator('.detail details pre').first().textContent()).toBe(deep);

      // what the row says, not a guess: the guess missed the events cut short and took the
      // upstream's unfinished JSON for a cut
      await page.getByRole('button', { name: 'Details of request req-flagged-bodies' }).click();
      await page.getByRole('heading', { name: 'Request req-flagged-bodies' }).waitFor();
      const [events, unfinished] = await page.locator('.detail details').all();
      expect(await events!.locator('summary').textContent()).toBe('Request body (redacted), cut short');
      await events!.locator('summary').click();
      expect(await events!.getByRole('status').textContent()).toMatch(
        /^Cut short at the request log's size bound\. /,
      );
      expect(await events!.locator('pre').textContent()).toBe(flaggedRow.request_body);
      expect(await unfinished!.locator('summary').textContent()).toBe('Response body (redacted)');
      expect(await unfinished!.getByRole('status').count()).toBe(0);
      expect(await unfinished!.locator('pre').textContent()).toBe(flaggedRow.response_body);
      expect(pageErrors).toEqual([]);
    } finally {
      await page.unroute(matches);
    }
  });

  it('opens a run and shows its sections nested', async () => {
    await page.goto(`${url}/ui/#/runs`);
    await page.getByRole('link', { name: 'run-ui-1' }).click();
    const tree = page.getByRole('tree', { name: 'Sections of run run-ui-1' });
    await tree.waitFor();
    const agent = tree.locator('[data-section="agent"]');
    expect(await agent.getAttribute('aria-level')).toBe('1');
    expect(await agent.locator('[data-section="research"]').getAttribute('aria-level')).toBe('2');
    expect(await agent.locator('[data-section="write"]').getAttribute('aria-level')).toBe('2');
    expect(await page.locator('.run .summary').textContent()).toContain('3 requests');
    await shot('run-tree');
  });

  it('says a malformed run link is not valid, rather than leave the page empty', async () => {
    await page.goto(`${url}/ui/#/runs/%`);
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('This run link is not valid');
    await page.getByRole('link', { name: 'All runs' }).click();
    await page.getByRole('link', { name: 'run-ui-1' }).waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('shows each target with its breaker state', async () => {
    await page.getByRole('link', { name: 'Providers' }).click();
    const row = page.getByRole('row', { name: /openai\/gpt-4o-mini/ });
    await row.waitFor();
    expect(await row.locator('.breaker').textContent()).toBe('closed');
    await shot('providers');
  });

  it('creates a key whose secret works once shown, then revokes it', async () => {
    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByLabel('Name').fill('ui-made-key');
    await page.getByLabel('Requests per minute').fill('60');
    await page.getByLabel('Budget (USD)').fill('5');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = await page.getByLabel('Secret of ui-made-key').inputValue();
    expect(secret).toMatch(/^sk-sy-/);
    // outside a secure context (a gateway reached over plain http by name) there is no Clipboard
    // API: Copy selects the secret and copies it the old way, without an error
    await page.evaluate("Object.defineProperty(navigator, 'clipboard', { value: undefined })");
    await page.getByRole('button', { name: 'Copy' }).click();
    await expect
      .poll(() => page.getByRole('button', { name: /^(Copied|Selected: press Ctrl\+C)$/ }).count())
      .toBe(1);
    const selectedTo: unknown = await page.evaluate(
      "document.activeElement === document.querySelector('input.secret') ? document.activeElement.selectionEnd : -1",
    );
    expect(selectedTo).toBe(secret.length);
    const state = page.locator('[data-key-state="ui-made-key"]');
    await expect.poll(() => state.textContent()).toBe('active');
    await shot('keys-created');
    expect((await chat({}, 'gpt-4o-mini', secret)).status).toBe(200);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Revoke ui-made-key' }).click();
    await expect.poll(() => state.textContent()).toBe('revoked');
    expect((await chat({}, 'gpt-4o-mini', secret)).status).toBe(401);
    await shot('keys-revoked');

    // an expired key is shown as the gateway treats it (it was "active"), and a budget the API
    // took with three decimals can be saved again (the form's step of 0.01 refused it)
    const created = await fetch(`${url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ui-expired-key' }),
    });
    expect(created.status).toBe(201);
    // made, then ended by a date in the past (a key cannot be made expired)
    const { id: expiredId } = (await created.json()) as { id: string };
    const ended = await fetch(`${url}/admin/keys/${expiredId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ expires_at: '2020-01-01T00:00:00Z' }),
    });
    expect(ended.status).toBe(200);
    const odd = await fetch(`${url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ui-odd-budget', budget_usd: 12.345 }),
    });
    expect(odd.status).toBe(201);
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('link', { name: 'Keys' }).click();
    await expect.poll(() => page.locator('[data-key-state="ui-expired-key"]').textContent()).toBe('expired');
    await page.getByRole('button', { name: 'Edit ui-odd-budget' }).click();
    await page.getByLabel('Requests per minute').fill('30');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const oddId = ((await odd.json()) as { id: string }).id;
    await expect
      .poll(async () => {
        const key = await fetch(`${url}/admin/keys/${oddId}`, {
          headers: { authorization: `Bearer ${MASTER}` },
        });
        return ((await key.json()) as { rpm: number | null }).rpm;
      })
      .toBe(30);
    // CSP held: no blocked script or style, no uncaught error anywhere in the session
    expect(pageErrors).toEqual([]);
  });

  it("saves only what the edit form changed, keeping another admin's change made meanwhile", async () => {
    const admin = { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' };
    const made = await fetch(`${url}/admin/keys`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ name: 'ui-shared-key', rpm: 10 }),
    });
    expect(made.status).toBe(201);
    const { id } = (await made.json()) as { id: string };
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByRole('button', { name: 'Edit ui-shared-key' }).click();
    // another admin changes the key after this page listed it
    const meanwhile = await fetch(`${url}/admin/keys/${id}`, {
      method: 'PATCH',
      headers: admin,
      body: JSON.stringify({ customer_id: 'changed-meanwhile', tpm: 5000 }),
    });
    expect(meanwhile.status).toBe(200);
    await page.getByLabel('Requests per minute').fill('20');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect
      .poll(async () => {
        const key = await fetch(`${url}/admin/keys/${id}`, { headers: admin });
        const { rpm, tpm, customer_id } = (await key.json()) as Record<string, unknown>;
        return { rpm, tpm, customer_id };
      })
      .toEqual({ rpm: 20, tpm: 5000, customer_id: 'changed-meanwhile' });
  });

  it('says so when a breakdown shows only the top 20 of its groups', async () => {
    const made = await Promise.all(
      Array.from(
        { length: 21 },
        async (_, i) => (await chat({ 'x-switchyard-customer-id': `customer-${i}` })).status,
      ),
    );
    expect(new Set(made)).toEqual(new Set([200]));
    await log.queue.flush();
    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByRole('link', { name: 'Overview' }).click();
    const byCustomer = page.locator('section.breakdown', {
      has: page.getByRole('table', { name: 'By customer' }),
    });
    await expect
      .poll(() => byCustomer.getByText(/^The top 20 by spend; the range holds more/).count())
      .toBe(1);
    expect(await byCustomer.locator('tbody tr').count()).toBe(20);
    // the model breakdown has one group: no such notice
    const byModel = page.locator('section.breakdown', { has: page.getByRole('table', { name: 'By model' }) });
    expect(await byModel.getByText(/^The top 20/).count()).toBe(0);
  });

  it('tells apart two keys of one name in the key breakdown', async () => {
    const twins = await Promise.all(
      [0, 1].map(async () => {
        const made = await fetch(`${url}/admin/keys`, {
          method: 'POST',
          headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'twin' }),
        });
        expect(made.status).toBe(201);
        return (await made.json()) as { id: string; key: string };
      }),
    );
    for (const twin of twins) expect((await chat({}, 'gpt-4o-mini', twin.key)).status).toBe(200);
    await log.queue.flush();
    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByRole('link', { name: 'Overview' }).click();
    const byKey = page.getByRole('table', { name: 'By key' });
    for (const twin of twins) await byKey.getByRole('cell', { name: `twin (${twin.id})` }).waitFor();
  });

  it('moves one page at a time, however fast Next is clicked', async () => {
    const made = await Promise.all(Array.from({ length: 80 }, async () => (await chat({})).status));
    expect(new Set(made)).toEqual(new Set([200]));
    await log.queue.flush();
    await page.getByRole('link', { name: 'Requests' }).click();
    const pager = page.getByRole('navigation', { name: 'Pages' });
    await expect.poll(() => pager.textContent()).toContain('Page 1');
    // each row by its request id: rows made in the same second can read alike, cell for cell
    const firstRowId = (): Promise<string | null> =>
      page
        .getByRole('table', { name: 'Requests, newest first' })
        .locator('tbody tr button')
        .first()
        .getAttribute('aria-label');
    const first = await firstRowId();
    await page.getByRole('button', { name: 'Next page' }).dblclick();
    await expect.poll(() => pager.textContent()).toContain('Page 2');
    // the second click found the button disabled while the page loaded: no third page asked
    // for with a cursor not known yet (which answered the first page as page 3)
    expect(await pager.textContent()).not.toContain('Page 3');
    const second = await firstRowId();
    expect(second).toMatch(/^Details of request /);
    expect(second).not.toBe(first);
  });

  it('pages through the filters as applied, not as typed since', async () => {
    // over 100 rows by now (the test above made 80), one of them a 404: the oldest
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('link', { name: 'Requests' }).click();
    const pager = page.getByRole('navigation', { name: 'Pages' });
    await expect.poll(() => pager.textContent()).toContain('Page 1');
    await page.getByLabel('Status').fill('404'); // typed, not applied
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => pager.textContent()).toContain('Page 2');
    // the second page of the unfiltered log: 50 rows of 200 (the typed filter with page 1's
    // cursor answered the one 404 older than it, skipping every row in between)
    const table = page.getByRole('table', { name: 'Requests, newest first' });
    expect(await table.locator('tbody tr').count()).toBe(50);
    expect(await table.locator('.status.bad').count()).toBe(0);
    await page.getByLabel('Status').fill('');
  });

  it('shows the runs of the range picked last, not those of a slower range picked before it', async () => {
    const held = new Held();
    const matches = (target: URL): boolean => target.pathname.endsWith('/admin/usage');
    await page.route(matches, async (route) => {
      const range = rangeOf(route.request());
      if (range === THIRTY_DAYS) return held.hold(route);
      await route.fulfill({
        json: { groups: [usageGroup(range === HOUR ? 'run-from-last-hour' : 'run-from-last-day')] },
      });
    });
    try {
      await page.getByRole('link', { name: 'Runs' }).click();
      await page.getByRole('link', { name: 'run-from-last-day' }).waitFor();
      const range = page.locator('select[name="range"]');
      await range.selectOption({ label: 'Last 30 days' });
      const [slow] = await held.until(1);
      await range.selectOption({ label: 'Last hour' });
      await page.getByRole('link', { name: 'run-from-last-hour' }).waitFor();
      // the 30 days answered last, and were shown under "Last hour"
      const fate = await fateOfSupersededLoad(
        page,
        [slow!.request()],
        () => held.fulfill(() => ({ groups: [usageGroup('run-from-30-days')] })),
        page.getByRole('link', { name: 'run-from-30-days' }),
      );
      expect(fate).toBe('aborted');
      expect(
        await page.getByRole('table', { name: 'Recent runs by spend' }).locator('tbody a').allTextContents(),
      ).toEqual(['run-from-last-hour']);
    } finally {
      await page.unroute(matches);
    }
  });

  it('shows the overview of the range picked last, not that of a slower range picked before it', async () => {
    const held = new Held();
    const totals: Record<number, number> = { [HOUR]: 7, [DAY]: 24, [THIRTY_DAYS]: 3000 };
    const series = (range: number): unknown => ({
      from: new Date(Date.now() - range).toISOString(),
      to: new Date().toISOString(),
      bucket_ms: 60_000,
      buckets: [
        {
          ts: Date.now() - 60_000,
          requests: totals[range] ?? 0,
          errors: 0,
          input_tokens: 0,
          output_tokens: 0,
          cost_usd: 0,
          p50_ms: null,
          p95_ms: null,
        },
      ],
      p50_ms: null,
      p95_ms: null,
      truncated: false,
    });
    const answer = (route: Route): unknown =>
      new URL(route.request().url()).pathname.endsWith('/series')
        ? series(rangeOf(route.request()))
        : { groups: [] };
    const matches = (target: URL): boolean => /\/admin\/usage(\/series)?$/.test(target.pathname);
    await page.route(matches, async (route) => {
      if (rangeOf(route.request()) === THIRTY_DAYS) return held.hold(route);
      await route.fulfill({ json: answer(route) });
    });
    const requests = page.locator('[data-total="requests"] dd');
    const range = page.locator('select[name="range"]');
    try {
      await page.getByRole('link', { name: 'Overview' }).click();
      await range.selectOption({ label: 'Last 24 hours' });
      await expect.poll(() => requests.textContent()).toBe('24');
      await range.selectOption({ label: 'Last 30 days' });
      // the series and the four breakdowns
      const slow = await held.until(5);
      await range.selectOption({ label: 'Last hour' });
      await expect.poll(() => requests.textContent()).toBe('7');
      const fate = await fateOfSupersededLoad(
        page,
        slow.map((route) => route.request()),
        () => held.fulfill(answer),
        page.locator('[data-total="requests"] dd', { hasText: '3,000' }),
      );
      expect(fate).toBe('aborted');
      expect(await requests.textContent()).toBe('7');
    } finally {
      await page.unroute(matches);
      await range.selectOption({ label: 'Last 24 hours' });
    }
  });

  it('keeps a key just created in the list when the first load of the list answers after it', async () => {
    const held = new Held();
    const matches = (target: URL): boolean => target.pathname.endsWith('/admin/keys');
    await page.route(matches, async (route) => {
      if (route.request().method() === 'GET' && held.routes.length === 0) return held.hold(route);
      await route.fallback();
    });
    try {
      await page.getByRole('link', { name: 'Keys' }).click();
      const [first] = await held.until(1);
      await page.getByLabel('Name').fill('ui-raced-key');
      await page.getByRole('button', { name: 'Create key' }).click();
      const state = page.locator('[data-key-state="ui-raced-key"]');
      await expect.poll(() => state.textContent()).toBe('active');
      // the list as it was before the key was made, answered last: it was shown, without the key
      const fate = await fateOfSupersededLoad(
        page,
        [first!.request()],
        () => held.fulfill(() => ({ data: [], next_cursor: null })),
        page.getByText('Keys: no keys yet.'),
      );
      expect(fate).toBe('aborted');
      expect(await state.textContent()).toBe('active');
    } finally {
      await page.unroute(matches);
    }
  });

  it('creates one key however fast Create key is clicked, so no secret is lost', async () => {
    const posts: string[] = [];
    const onRequest = (request: Request): void => {
      if (request.method() === 'POST' && new URL(request.url()).pathname.endsWith('/admin/keys'))
        posts.push(request.postData() ?? '');
    };
    page.on('request', onRequest);
    try {
      await page.getByRole('link', { name: 'Overview' }).click();
      await page.getByRole('link', { name: 'Keys' }).click();
      await page.getByLabel('Name').fill('ui-double-clicked-key');
      // the second click finds the button disabled while the first one's key is made
      await page.getByRole('button', { name: 'Create key' }).dblclick();
      await page.getByLabel('Secret of ui-double-clicked-key').waitFor();
      // listed once the key is made: by then a second submit had been sent
      await page.locator('[data-key-state="ui-double-clicked-key"]').first().waitFor();
      expect(posts).toHaveLength(1);
      const listed = await fetch(`${url}/admin/keys?limit=100`, {
        headers: { authorization: `Bearer ${MASTER}` },
      });
      const { data } = (await listed.json()) as { data: { name: string }[] };
      expect(data.filter((key) => key.name === 'ui-double-clicked-key')).toHaveLength(1);
    } finally {
      page.off('request', onRequest);
    }
  });

  it('disables Create key while the key is made, and enables it again when that fails', async () => {
    const held = new Held();
    const matches = (target: URL): boolean => target.pathname.endsWith('/admin/keys');
    await page.route(matches, async (route) => {
      if (route.request().method() === 'POST') return held.hold(route);
      await route.fallback();
    });
    try {
      await page.getByRole('link', { name: 'Overview' }).click();
      await page.getByRole('link', { name: 'Keys' }).click();
      await page.getByLabel('Name').fill('ui-retried-key');
      const create = page.getByRole('button', { name: 'Create key' });
      await create.click();
      const [post] = await held.until(1);
      expect(await create.isDisabled()).toBe(true);
      await post!.fulfill({
        status: 503,
        json: {
          error: { message: 'The key store is not reachable.', type: 'api_error', code: 'store_unavailable' },
        },
      });
      await expect
        .poll(() => page.getByRole('alert').textContent())
        .toBe('Could not save: The key store is not reachable.');
      expect(await create.isEnabled()).toBe(true);
      // the browser reports that refused call as a failed resource load: the one error expected
      await expect.poll(() => pageErrors.findIndex((error) => error.includes('503'))).not.toBe(-1);
      pageErrors.splice(
        pageErrors.findIndex((error) => error.includes('503')),
        1,
      );
      await page.unroute(matches);
      await create.click();
      await page.getByLabel('Secret of ui-retried-key').waitFor();
    } finally {
      await page.unroute(matches);
    }
  });

  it('disables Revoke while the key is revoked', async () => {
    const held = new Held();
    const matches = (target: URL): boolean => target.pathname.endsWith('/revoke');
    await page.route(matches, (route) => held.hold(route));
    const dialogs: string[] = [];
    const accept = (dialog: Dialog): void => {
      dialogs.push(dialog.message());
      void dialog.accept();
    };
    page.on('dialog', accept);
    try {
      const revoke = page.getByRole('button', { name: 'Revoke ui-retried-key' });
      await revoke.click();
      const [post] = await held.until(1);
      expect(await revoke.isDisabled()).toBe(true);
      // a second click while the first revoke ran asked again, and revoked again; a click on a
      // disabled button reaches no handler, and confirm() would have opened before click returns
      await revoke.click({ force: true });
      expect(dialogs).toHaveLength(1);
      await post!.fallback();
      await expect
        .poll(() => page.locator('[data-key-state="ui-retried-key"]').textContent())
        .toBe('revoked');
      expect(held.routes).toHaveLength(1);
    } finally {
      page.off('dialog', accept);
      await page.unroute(matches);
    }
  });

  it('says so when there are more keys than the page lists', { timeout: 60_000 }, async () => {
    const create = (name: string): Promise<Response> =>
      fetch(`${url}/admin/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
    for (let batch = 0; batch < 10; batch++) {
      const made = await Promise.all(
        Array.from({ length: 100 }, async (_, i) => (await create(`bulk-${batch}-${i}`)).status),
      );
      expect(new Set(made)).toEqual(new Set([201]));
    }
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('link', { name: 'Keys' }).click();
    await expect
      .poll(() => page.getByText(/^Showing the first 1,000 keys; the admin API/).count(), { timeout: 20_000 })
      .toBe(1);
    expect(pageErrors).toEqual([]);
  });

  it('stays signed in when a reverse proxy in front refuses one call with an HTML 403', async () => {
    const matches = (target: URL): boolean => target.pathname.endsWith('/admin/providers');
    await page.route(matches, (route) =>
      route.fulfill({
        status: 403,
        contentType: 'text/html',
        body: '<html><body><h1>403 Forbidden</h1></body></html>',
      }),
    );
    try {
      await page.getByRole('link', { name: 'Providers' }).click();
      // a WAF rule on one query signed the page out and forgot the key
      await expect
        .poll(() => page.getByRole('alert').textContent())
        .toBe('Could not load providers: 403 Forbidden');
      expect(await page.evaluate("sessionStorage.getItem('switchyard.adminKey')")).toBe(MASTER);
      expect(await page.getByRole('form', { name: 'Sign in' }).count()).toBe(0);
      // the browser reports the refused call as a failed resource load: the one error expected
      await expect.poll(() => pageErrors.some((error) => error.includes('403'))).toBe(true);
      pageErrors.splice(0, pageErrors.length, ...pageErrors.filter((error) => !error.includes('403')));
    } finally {
      await page.unroute(matches);
    }
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('returns to the sign-in form when a reverse proxy in front refuses the key with an HTML 401', async () => {
    const matches = (target: URL): boolean => target.pathname.includes('/admin/');
    await page.route(matches, (route) =>
      route.fulfill({
        status: 401,
        contentType: 'text/html',
        body: '<html><body><h1>401 Authorization Required</h1></body></html>',
      }),
    );
    try {
      await page.getByRole('link', { name: 'Providers' }).click();
      // it showed "Unexpected token '<'" on the page, and kept the refused key
      await expect.poll(() => page.getByRole('alert').textContent()).toBe('401 Unauthorized');
      await page.getByRole('form', { name: 'Sign in' }).waitFor();
      expect(await page.evaluate("sessionStorage.getItem('switchyard.adminKey')")).toBeNull();
      // the browser reports the refused call as a failed resource load: the one error expected
      await expect.poll(() => pageErrors.some((error) => error.includes('401'))).toBe(true);
      pageErrors.splice(0, pageErrors.length, ...pageErrors.filter((error) => !error.includes('401')));
    } finally {
      await page.unroute(matches);
    }
    await page.getByLabel('Master key').fill(MASTER);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Providers' }).waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('puts the requests it could not price beside the spend, on the overview, the runs and the request log', async () => {
    const run = { 'x-switchyard-run-id': 'run-unpriced', 'x-switchyard-customer-id': 'unpriced-co' };
    const made = await Promise.all([chat(run, 'unpriced-model'), chat(run, 'unpriced-model')]);
    expect(made.map((response) => response.status)).toEqual([200, 200]);
    await log.queue.flush();
    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByRole('link', { name: 'Overview' }).click();
    // summed as $0 with every other request, they made the spend look complete
    const spend = page.locator('[data-total="spend"]');
    await expect.poll(() => spend.locator('dd').textContent()).toMatch(/^\$[\d,.]+ \+ 2 unpriced$/);
    expect(await spend.locator('small').getAttribute('title')).toMatch(
      /^2 requests with usage but no known price \([\d,]+ input \/ [\d,]+ output tokens\): not in the sum\.$/,
    );
    // by model: at $0 the customer is past the top 20 customers by spend that its breakdown shows
    await page
      .getByRole('table', { name: 'By model' })
      .getByRole('row', { name: /switchyard-unpriced-model/ })
      .getByRole('cell', { name: '$0.00 + 2 unpriced' })
      .waitFor();

    await page.getByRole('link', { name: 'Runs' }).click();
    await page
      .getByRole('table', { name: 'Recent runs by spend' })
      .getByRole('row', { name: /run-unpriced/ })
      .getByRole('cell', { name: '$0.00 + 2 unpriced' })
      .waitFor();
    await page.getByRole('link', { name: 'run-unpriced' }).click();
    await expect.poll(() => page.locator('.run .summary').textContent()).toContain('· $0.00 + 2 unpriced');

    await page.getByRole('link', { name: 'Requests' }).click();
    await page.getByLabel('Run id').fill('run-unpriced');
    await page.getByRole('button', { name: 'Apply' }).click();
    const table = page.getByRole('table', { name: 'Requests, newest first' });
    await expect.poll(() => table.locator('tbody tr').count()).toBe(2);
    // a request with usage and no price is "unpriced", not "–" as one that had no usage
    expect(await table.locator('tbody tr td:last-child').allTextContents()).toEqual(['unpriced', 'unpriced']);
    await page.getByLabel('Run id').fill('');
    expect(pageErrors).toEqual([]);
  });

  it("counts the overview's unpriced requests exactly from the series when the breakdowns are cut at 1000 groups", async () => {
    const admin = { authorization: `Bearer ${MASTER}` };
    expect((await chat({}, 'unpriced-model')).status).toBe(200);
    await log.queue.flush();
    // every group of the range, as the gateway answers it: the exact count to show
    const { groups } = (await (
      await fetch(`${url}/admin/usage?group_by=provider`, { headers: admin })
    ).json()) as {
      groups: { unpriced_requests: number; unpriced_input_tokens: number; unpriced_output_tokens: number }[];
    };
    const unpriced = { requests: 0, input: 0, output: 0 };
    for (const group of groups) {
      unpriced.requests += group.unpriced_requests;
      unpriced.input += group.unpriced_input_tokens;
      unpriced.output += group.unpriced_output_tokens;
    }
    expect(unpriced.requests).toBeGreaterThan(0);
    // a log with more groups than the API answers: its most expensive 1000 held none of them
    const matches = (target: URL): boolean => target.pathname.endsWith('/admin/usage');
    await page.route(matches, (route) =>
      route.fulfill({ json: { groups: [usageGroup('priced-group')], truncated: true } }),
    );
    try {
      await page.getByRole('link', { name: 'Keys' }).click();
      await page.getByRole('link', { name: 'Overview' }).click();
      await page
        .getByRole('table', { name: 'By provider' })
        .getByRole('row', { name: /priced-group/ })
        .waitFor();
      // summed from the cut breakdown, the spend showed none of them (or "N+" for some)
      const spend = page.locator('[data-total="spend"]');
      await expect
        .poll(() => spend.locator('dd').textContent())
        .toMatch(new RegExp(`^\\$[\\d,.]+ \\+ ${unpriced.requests.toLocaleString('en-US')} unpriced$`));
      expect(await spend.locator('small').getAttribute('title')).toBe(
        `${unpriced.requests.toLocaleString('en-US')} request${unpriced.requests === 1 ? '' : 's'} with usage but no known price (${unpriced.input.toLocaleString('en-US')} input / ${unpriced.output.toLocaleString('en-US')} output tokens): not in the sum.`,
      );
      expect(pageErrors).toEqual([]);
    } finally {
      await page.unroute(matches);
    }
  });

  it("shows times in UTC, and ends its windows at the gateway's clock, not a browser clock three days off", async () => {
    const admin = { authorization: `Bearer ${MASTER}` };
    // a browser in another zone whose clock is three days behind the gateway's
    const context = await browser.newContext({
      viewport: { width: 1366, height: 900 },
      timezoneId: 'Pacific/Auckland',
    });
    const skewed = await context.newPage();
    skewed.setDefaultTimeout(15_000);
    const errors: string[] = [];
    skewed.on('pageerror', (error) => errors.push(error.message));
    const asked: URL[] = [];
    skewed.on('request', (request) => {
      const target = new URL(request.url());
      if (target.pathname.endsWith('/admin/usage/series')) asked.push(target);
    });
    await skewed.clock.setFixedTime(Date.now() - 3 * DAY);
    try {
      const series = (await (await fetch(`${url}/admin/usage/series`, { headers: admin })).json()) as {
        buckets: { requests: number }[];
      };
      const total = series.buckets.reduce((sum, bucket) => sum + bucket.requests, 0);
      expect(total).toBeGreaterThan(4);
      await skewed.goto(`${url}/ui`);
      await skewed.getByLabel('Master key').fill(MASTER);
      await skewed.getByRole('button', { name: 'Sign in' }).click();
      await skewed.getByRole('heading', { name: 'Overview' }).waitFor();
      // the browser's last 24 hours ended three days ago, and held none of them
      const requests = skewed.locator('[data-total="requests"] dd');
      await expect.poll(() => requests.textContent()).toBe(total.toLocaleString('en-US'));
      const endsNear = (asked: URL | undefined): number =>
        Math.abs(Number(asked?.searchParams.get('to')) - Date.now());
      expect(endsNear(asked.at(-1))).toBeLessThan(DAY);
      expect(await skewed.getByText('Times in UTC').count()).toBe(1);

      await skewed.getByRole('link', { name: 'Requests' }).click();
      const table = skewed.getByRole('table', { name: 'Requests, newest first' });
      await table.getByRole('columnheader', { name: 'Time (UTC)' }).waitFor();
      const newest = (await (await fetch(`${url}/admin/requests?limit=1`, { headers: admin })).json()) as {
        data: { id: string; ts: number }[];
      };
      const { id, ts } = newest.data[0]!;
      await expect.poll(() => table.locator('tbody tr button').first().textContent()).toBe(utc(ts));
      await skewed.getByRole('button', { name: `Details of request ${id}` }).click();
      await skewed.getByRole('heading', { name: `Request ${id}` }).waitFor();
      expect(await skewed.locator('.detail').textContent()).toContain(`Time${utc(ts)} UTC`);

      // reloaded, signed in: the first window waits for the gateway's clock (a HEAD of the page)
      asked.length = 0;
      await skewed.goto(`${url}/ui/#/overview`);
      await skewed.reload();
      await expect.poll(() => requests.textContent()).toBe(total.toLocaleString('en-US'));
      expect(asked.length).toBeGreaterThan(0);
      for (const target of asked) expect(endsNear(target)).toBeLessThan(DAY);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('explains, rather than fails, the pages of a gateway without a SQL request log', async () => {
    const bare = createApp({
      admin: { masterKey: MASTER },
      ui: { assetsDir: assets },
      gateway: { providers: [{ name: 'mock', type: 'mock' }] },
    });
    const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });
    try {
      await page.goto(`${bareUrl}/ui`);
      await page.getByLabel('Master key').fill(MASTER);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      const info = page.getByText(/^The request log is not queryable here/);
      await expect.poll(() => info.count()).toBe(1);
      expect(await page.getByText(/Unknown route/).count()).toBe(0);
      await page.getByRole('link', { name: 'Requests' }).click();
      await expect.poll(() => info.count()).toBe(1);
      expect(pageErrors.filter((error) => !error.includes('404'))).toEqual([]);
    } finally {
      // Chromium keeps sockets to the page's origin, among them preconnected ones that never
      // carried a request: close() ends those with the listener (before, it waited on one past
      // the test's deadline)
      await bare.close();
    }
  });
});
