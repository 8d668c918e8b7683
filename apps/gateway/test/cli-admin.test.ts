import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createMockUpstream,
  freeTcpPort,
  openAIRoutes,
  type MockRoute,
  type MockUpstream,
} from '@switchyard/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../src/start-gateway';

// The admin commands of the built binary against a gateway listening on port 0.
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const MASTER = 'cli-test-master-key-0123456789';
const children: ChildProcessWithoutNullStreams[] = [];
let gateway: RunningGateway;
let upstream: MockUpstream;
let dir: string;

/**
 * Requests for the model `held` wait upstream until the test releases them: a row that is logged
 * after rows of requests that arrived later, without waiting on a clock.
 */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}
const held = { arrived: deferred(), released: deferred() };
const openAIChat = openAIRoutes.find((route) => route.path.test('/v1/chat/completions'));
const heldChat: MockRoute = {
  method: 'POST',
  path: /\/chat\/completions$/,
  async handle(exchange) {
    if ((exchange.body as { model?: unknown } | undefined)?.model === 'held') {
      held.arrived.resolve();
      await held.released.promise;
    }
    await openAIChat?.handle(exchange);
  },
};

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: {
      PATH: process.env['PATH'] ?? '',
      SWITCHYARD_URL: gateway.url,
      SWITCHYARD_ADMIN_KEY: MASTER,
      ...env,
    },
  });
  children.push(child);
  return child;
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** A bound for one CLI process on two loaded cores: Node.js start-up, the command's import, its call. */
const CLI_RUN_MS = 5_000;

/**
 * The CLI once per argument list, two processes at a time, the results in the order given: seven
 * at once on two loaded cores outlasted the test's timeout, each start-up waiting on the others.
 */
async function cliTwoAtATime<const T extends readonly (readonly string[])[]>(
  calls: T,
): Promise<{ -readonly [K in keyof T]: Result }> {
  const results: Result[] = [];
  for (let index = 0; index < calls.length; index += 2)
    results.push(...(await Promise.all(calls.slice(index, index + 2).map((args) => cli([...args])))));
  return results as { -readonly [K in keyof T]: Result };
}

async function chat(
  bearer: string,
  customer?: string,
  headers: Record<string, string> = {},
  model = 'mock',
): Promise<number> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${bearer}`,
      'content-type': 'application/json',
      'x-switchyard-cache': 'skip',
      ...(customer === undefined ? {} : { 'x-switchyard-customer-id': customer }),
      ...headers,
    },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Waits until the request log holds `count` rows for the customer (rows are written in batches). */
async function logged(customer: string, count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(`${gateway.url}/admin/requests?customer_id=${customer}`, {
      headers: { authorization: `Bearer ${MASTER}` },
    });
    const page = (await response.json()) as { data: unknown[] };
    if (page.data.length >= count) return;
    if (Date.now() > deadline)
      throw new Error(`only ${page.data.length} of ${count} rows for ${customer} were logged`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Resolves with stdout once it matches, while the child keeps running. */
function outputMatching(child: ChildProcessWithoutNullStreams, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (data: Buffer) => {
      text += data.toString();
      if (pattern.test(text)) resolve(text);
    });
    child.once('exit', (code) =>
      reject(new Error(`exited (${String(code)}) before printing ${String(pattern)}: ${text}`)),
    );
  });
}

/** What a running child prints, kept from the start; `matching` waits until it matches. */
function printedBy(child: ChildProcessWithoutNullStreams): { matching(pattern: RegExp): Promise<string> } {
  let printed = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (data: Buffer) => {
    printed += data.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  child.once('exit', () => {
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    async matching(pattern) {
      while (!pattern.test(printed)) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`exited before printing ${String(pattern)}: ${printed}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      return printed;
    },
  };
}

/** The request log's rows of a customer, newest first. */
async function rowsOf(customer: string): Promise<Array<{ id: string; ts: number; requested_model: string }>> {
  const answer = await fetch(`${gateway.url}/admin/requests?customer_id=${customer}`, {
    headers: { authorization: `Bearer ${MASTER}` },
  });
  return ((await answer.json()) as { data: Array<{ id: string; ts: number; requested_model: string }> }).data;
}

async function closedPortUrl(): Promise<string> {
  return `http://127.0.0.1:${await freeTcpPort()}`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-cli-admin-'));
  upstream = await createMockUpstream({ routes: [heldChat] });
  gateway = await startGateway({
    config: {
      providers: [
        { name: 'mock', type: 'mock' },
        { name: 'up', type: 'openai', apiKey: 'sk-cli-admin-test-0000', baseUrl: `${upstream.url}/v1` },
      ],
      models: [
        { name: 'mock', targets: [{ provider: 'mock', model: 'mock' }] },
        { name: 'held', targets: [{ provider: 'up', model: 'held' }] },
        { name: 'cached', targets: [{ provider: 'mock', model: 'mock-cached' }] },
        // the mock provider's models have no price either: a priced one, and one the catalog does not know
        { name: 'priced', targets: [{ provider: 'up', model: 'gpt-4o-mini' }] },
        { name: 'unpriced', targets: [{ provider: 'up', model: 'switchyard-unpriced-model' }] },
      ],
      admin: { masterKey: MASTER },
      requestLog: { store: 'sqlite', path: join(dir, 'requests.db'), flushIntervalMs: 10 },
    },
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
  });
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
afterAll(async () => {
  held.released.resolve();
  await gateway.shutdown();
  await upstream.close();
  await rm(dir, { recursive: true, force: true });
});

describe('switchyard keys', () => {
  it('creates a key, printing its secret once, and lists it without the secret', async () => {
    const created = await cli([
      'keys',
      'create',
      '--name',
      'billing',
      '--customer',
      'acme',
      '--rpm',
      '600',
      '--budget',
      '50',
      '--budget-period',
      'month',
    ]);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const secret = /sk-sy-[\w-]+/.exec(created.stdout)?.[0];
    expect(created.stdout).toContain('"billing" (customer acme)');
    expect(secret).toBeDefined();
    expect(await chat(secret!)).toBe(200);

    const [listed, json] = await Promise.all([cli(['keys', 'list']), cli(['keys', 'list', '--json'])]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+NAME\s+CUSTOMER\s+KEY\s+STATE/);
    expect(listed.stdout).toMatch(
      /billing\s+acme\s+sk-sy-\.\.\.\S{4}\s+active\s+\*\s+rpm 600\s+\$50\.00\/month/,
    );
    expect(listed.stdout).not.toContain(secret);
    const keys = (JSON.parse(json.stdout) as { data: Array<{ name: string; rpm: number; key?: string }> })
      .data;
    expect(keys.find((k) => k.name === 'billing')).toMatchObject({ rpm: 600 });
    expect(json.stdout).not.toContain(secret);
  });

  it('puts the secret in the --json answer of create and rotate, and revokes', async () => {
    const created = await cli([
      'keys',
      'create',
      '--name',
      'rotating',
      '--models',
      'mock, gpt-4o*',
      '--json',
    ]);
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; key: string; models: string[] };
    expect(key.key).toMatch(/^sk-sy-/);
    expect(key.models).toEqual(['mock', 'gpt-4o*']);

    const rotated = await cli(['keys', 'rotate', key.id]);
    expect(rotated.code).toBe(0);
    const fresh = /sk-sy-[\w-]+/.exec(rotated.stdout)?.[0];
    expect(rotated.stdout).toContain(`Rotated key ${key.id}`);
    expect(fresh).not.toBe(key.key);
    expect(await chat(key.key)).toBe(401);
    expect(await chat(fresh!)).toBe(200);

    const rotatedJson = await cli(['keys', 'rotate', key.id, '--json']);
    expect((JSON.parse(rotatedJson.stdout) as { key: string }).key).toMatch(/^sk-sy-/);

    const revoked = await cli(['keys', 'revoke', key.id]);
    expect(revoked).toMatchObject({ code: 0 });
    expect(revoked.stdout).toContain(`Revoked key ${key.id} "rotating"`);
    const [again, listed] = await Promise.all([
      cli(['keys', 'revoke', key.id, '--json']),
      cli(['keys', 'list']),
    ]);
    expect(JSON.parse(again.stdout)).toMatchObject({ id: key.id, revoked: true });
    expect(listed.stdout).toMatch(new RegExp(`${key.id}\\s+rotating\\s+-\\s+\\S+\\s+revoked`));
  });

  it('updates only the fields given: limits, budget and expiry cleared with none, disabled and enabled again', async () => {
    const created = await cli([
      'keys',
      'create',
      '--name',
      'changing',
      '--rpm',
      '5',
      '--budget',
      '9',
      '--json',
    ]);
    const key = JSON.parse(created.stdout) as { id: string; key: string };
    const disabled = await cli([
      'keys',
      'update',
      key.id,
      '--disable',
      '--rpm',
      'none',
      '--tpm',
      '1000',
      '--models',
      'mock',
      '--expires',
      '2099-01-31',
    ]);
    expect(disabled).toMatchObject({ code: 0, stderr: '' });
    expect(disabled.stdout).toBe(
      `Updated key ${key.id} "changing": disabled, models mock, limits tpm 1,000, budget $9.00/month.\n`,
    );
    expect(await chat(key.key)).toBe(401);
    const enabled = await cli(['keys', 'update', key.id, '--enable', '--budget', 'none', '--json']);
    expect(JSON.parse(enabled.stdout)).toMatchObject({
      name: 'changing',
      enabled: true,
      rpm: null,
      tpm: 1000,
      budget_usd: null,
      models: ['mock'],
      expires_at: '2099-01-31T00:00:00.000Z',
    });
    expect(await chat(key.key)).toBe(200);
    const [nothing, both, badLimit, missing] = await Promise.all([
      cli(['keys', 'update', key.id]),
      cli(['keys', 'update', key.id, '--enable', '--disable']),
      cli(['keys', 'update', key.id, '--rpm', '0']),
      cli(['keys', 'update', 'key_does_not_exist', '--rpm', '5']),
    ]);
    expect(nothing).toMatchObject({ code: 2 });
    expect(nothing.stderr).toContain('Nothing to change');
    expect(both).toMatchObject({ code: 2 });
    expect(badLimit).toMatchObject({ code: 2 });
    expect(badLimit.stderr).toContain('--rpm: "0" is not an integer from 1 to');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('404 not_found): No key with id key_does_not_exist.');
  });

  // eight CLI processes
  it(
    'exits 1 with the gateway message for a refused call, and 2 for a wrong command line',
    { timeout: 8 * CLI_RUN_MS },
    async () => {
      const [missing, noId, badFlag, badValue, unknownSub, noModels, past] = await cliTwoAtATime([
        ['keys', 'revoke', 'key_does_not_exist'],
        ['keys', 'rotate'],
        ['keys', 'list', '--bogus'],
        ['keys', 'create', '--rpm', 'lots'],
        ['keys', 'delete', 'x'],
        // an empty list is every model to the gateway: `--models "$UNSET"` granted them all
        ['keys', 'create', '--name', 'none', '--models', ' , '],
        ['keys', 'create', '--name', 'late', '--expires', '2020-01-01'],
      ]);
      expect(noModels.code).toBe(2);
      expect(noModels.stderr).toContain('--models: name at least one model or pattern');
      expect(past.code).toBe(1);
      expect(past.stderr).toContain("'expires_at' (2020-01-01T00:00:00.000Z) is in the past");
      expect((await cli(['keys', 'list'])).stdout).not.toMatch(/\b(none|late)\b/);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('404 not_found): No key with id key_does_not_exist.');
      expect(noId).toMatchObject({ code: 2 });
      expect(noId.stderr).toContain('Missing KEY_ID');
      expect(badFlag.code).toBe(2);
      expect(badFlag.stderr).toContain("Unknown option '--bogus'");
      expect(badFlag.stderr).toContain('switchyard keys create');
      expect(badValue.code).toBe(2);
      expect(badValue.stderr).toContain('--rpm: "lots" is not an integer');
      expect(unknownSub.code).toBe(2);
    },
  );

  it('refuses a wrong admin key with exit 1, never echoing the key', async () => {
    const wrong = 'not-the-master-key-987654321';
    const [human, json, flag] = await Promise.all([
      cli(['keys', 'list'], { SWITCHYARD_ADMIN_KEY: wrong }),
      cli(['keys', 'list', '--json'], { SWITCHYARD_ADMIN_KEY: wrong }),
      cli(['usage', '--admin-key', wrong]),
    ]);
    expect(human.code).toBe(1);
    expect(human.stderr).toContain('401 authentication_error): The master key is not valid.');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toEqual({
      error: {
        message: expect.stringContaining('The master key is not valid.') as unknown,
        exit_code: 1,
        status: 401,
        code: 'authentication_error',
      },
    });
    expect(flag.code).toBe(1);
    for (const result of [human, json, flag]) expect(result.stdout + result.stderr).not.toContain(wrong);
  });

  it('reports an unreachable gateway with exit 1', async () => {
    const url = await closedPortUrl();
    const result = await cli(['keys', 'list'], { SWITCHYARD_URL: url });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Cannot reach the gateway at ${url}: ECONNREFUSED`);
  });
});

describe('switchyard usage', () => {
  it('prints usage per customer and per model as tables and JSON', async () => {
    await Promise.all([chat(MASTER, 'usage-acme'), chat(MASTER, 'usage-acme'), chat(MASTER, 'usage-globex')]);
    await Promise.all([logged('usage-acme', 2), logged('usage-globex', 1)]);
    const [byCustomer, json, byModel] = await Promise.all([
      cli(['usage', '--by', 'customer', '--since', '7d']),
      cli(['usage', '--by', 'customer', '--since', '7d', '--json']),
      cli(['usage', '--by', 'model']),
    ]);
    expect(byCustomer.code).toBe(0);
    expect(byCustomer.stdout).toMatch(/^Usage by customer, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d to .* UTC/);
    expect(byCustomer.stdout).toMatch(
      /CUSTOMER\s+REQUESTS\s+INPUT TOKENS\s+OUTPUT TOKENS\s+CACHED\s+COST\s+CACHE SAVED$/m,
    );
    expect(byCustomer.stdout).toMatch(/usage-acme\s+2\s/);
    expect(byCustomer.stdout).toMatch(/usage-globex\s+1\s/);
    expect(byCustomer.stdout).toMatch(/\nTOTAL\s+\d+/);
    const report = JSON.parse(json.stdout) as {
      group_by: string;
      from: string;
      groups: Array<{ key: string | null; requests: number }>;
    };
    expect(report.group_by).toBe('customer');
    expect(Date.now() - Date.parse(report.from)).toBeGreaterThanOrEqual(7 * 24 * 3600 * 1000);
    expect(report.groups.find((g) => g.key === 'usage-acme')?.requests).toBe(2);
    expect(byModel.stdout).toMatch(/MODEL\s+REQUESTS/);
    expect(byModel.stdout).toMatch(/\nmock\s+\d+/);
  });

  it('counts the unpriced requests beside the cost, in the table and the JSON (they were summed as $0 unseen)', async () => {
    await Promise.all([
      chat(MASTER, 'usage-unpriced', {}, 'priced'),
      chat(MASTER, 'usage-unpriced', {}, 'unpriced'),
      chat(MASTER, 'usage-unpriced', {}, 'unpriced'),
      chat(MASTER, 'usage-priced', {}, 'priced'),
    ]);
    await Promise.all([logged('usage-unpriced', 3), logged('usage-priced', 1)]);
    // one at a time: each is a Node.js process, and the machine may have two loaded cores
    const table = await cli(['usage', '--by', 'customer']);
    const json = await cli(['usage', '--by', 'customer', '--json']);
    expect(table).toMatchObject({ code: 0, stderr: '' });
    expect(table.stdout).toMatch(/\nusage-unpriced\s+3\s.*\s\$[\d.]+ \+ 2 unpriced\s+\$/);
    // a group with none shows its cost alone
    expect(table.stdout).toMatch(/\nusage-priced\s+1\s.*\s\$[\d.]+\s+\$[\d.]+$/m);
    expect(table.stdout).toMatch(/\nTOTAL\s.*\s\$[\d.]+ \+ \d+ unpriced\s/);
    expect(table.stdout).toContain('Unpriced: requests with usage but no known price');
    const group = (JSON.parse(json.stdout) as { groups: Array<Record<string, unknown>> }).groups.find(
      (candidate) => candidate['key'] === 'usage-unpriced',
    );
    expect(group).toMatchObject({ requests: 3, unpriced_requests: 2 });
    expect(group?.['unpriced_input_tokens']).toEqual(expect.any(Number));
  });

  it('groups a request the response cache answered under the model that produced the answer, not "(no model)"', async () => {
    const statuses: Array<string | null> = [];
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${MASTER}`,
          'content-type': 'application/json',
          'x-switchyard-customer-id': 'usage-cached',
        },
        body: JSON.stringify({ model: 'cached', messages: [{ role: 'user', content: 'answer me once' }] }),
      });
      await response.arrayBuffer();
      statuses.push(response.headers.get('x-switchyard-cache'));
    }
    expect(statuses).toEqual(['MISS', 'HIT']);
    await logged('usage-cached', 2);
    const byModel = await cli(['usage', '--by', 'model']);
    expect(byModel.code).toBe(0);
    expect(byModel.stdout).toMatch(/\nmock-cached\s+2\s/);
  });

  it('rejects a bad duration or grouping with exit 2 and the accepted forms', async () => {
    const [duration, group] = await Promise.all([
      cli(['usage', '--since', '7days']),
      cli(['usage', '--by', 'colour']),
    ]);
    expect(duration.code).toBe(2);
    expect(duration.stderr).toContain(
      '--since: "7days" is neither a duration (30m, 24h, 7d, 2w) nor an ISO 8601 date',
    );
    expect(group.code).toBe(2);
    expect(group.stderr).toContain(
      '--by: "colour" is not one of customer, model, key, provider, run, section.',
    );
  });
});

describe('switchyard logs', () => {
  it('queries the request log with filters, as a table and as JSON', async () => {
    const created = JSON.parse((await cli(['keys', 'create', '--name', 'logs-key', '--json'])).stdout) as {
      key: string;
      id: string;
    };
    await Promise.all([chat(MASTER, 'logs-a'), chat(MASTER, 'logs-a'), chat(created.key, 'logs-b')]);
    await Promise.all([logged('logs-a', 2), logged('logs-b', 1)]);
    const [table, json, byKey, limited, none] = await Promise.all([
      cli(['logs', 'query', '--customer', 'logs-a', '--status', '200', '--since', '1h']),
      cli(['logs', 'query', '--customer', 'logs-a', '--json']),
      cli(['logs', 'query', '--key', 'logs-key', '--json']),
      cli(['logs', 'query', '--customer', 'logs-a', '--limit', '1']),
      cli(['logs', 'query', '--customer', 'nobody-at-all']),
    ]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^TIME \(UTC\)\s+STATUS\s+MODEL\s+PROVIDER\s+KEY\s+CUSTOMER\s+MS\s+TOKENS IN\/OUT\s+COST\s+ID$/,
    );
    expect(lines.slice(1)).toHaveLength(2);
    for (const line of lines.slice(1)) expect(line).toMatch(/\s200\s+mock\s+mock\s+master\s+logs-a\s/);
    const page = JSON.parse(json.stdout) as {
      data: Array<{ customer_id: string; status: number }>;
      next_cursor: string | null;
    };
    expect(page.data.map((r) => r.customer_id)).toEqual(['logs-a', 'logs-a']);
    expect(page.next_cursor).toBeNull();
    const keyed = JSON.parse(byKey.stdout) as { data: Array<{ api_key_id: string; customer_id: string }> };
    expect(keyed.data.map((r) => [r.api_key_id, r.customer_id])).toEqual([[created.id, 'logs-b']]);
    expect(limited.stdout.trim().split('\n')).toHaveLength(3);
    expect(limited.stdout).toContain('(newest 1 shown; more with --limit, or --json and --cursor)');
    expect(none.stdout).toBe('No matching requests.\n');
  });

  it('finds the rows of a client correlation id (x-request-id) with --client-request-id', async () => {
    // the `cached` alias answers as `mock-cached`: the name asked for and the model that answered differ
    await Promise.all([
      chat(MASTER, 'logs-corr', { 'x-request-id': 'cli-corr-1' }, 'cached'),
      chat(MASTER, 'logs-corr', { 'x-request-id': 'cli-corr-2' }, 'cached'),
    ]);
    await logged('logs-corr', 2);
    const rows = (result: { stdout: string }): unknown[] =>
      (JSON.parse(result.stdout) as { data: unknown[] }).data;
    const [json, table, named, answering, byAnswering, byAlias] = await Promise.all([
      cli(['logs', 'query', '--client-request-id', 'cli-corr-1', '--json']),
      cli(['logs', 'query', '--client-request-id', 'cli-corr-2', '--customer', 'logs-corr']),
      // the model the client named, a filter of its own
      cli(['logs', 'query', '--requested-model', 'cached', '--customer', 'logs-corr', '--json']),
      cli(['logs', 'query', '--requested-model', 'mock-cached', '--customer', 'logs-corr', '--json']),
      cli(['logs', 'query', '--model', 'mock-cached', '--customer', 'logs-corr', '--json']),
      cli(['logs', 'query', '--model', 'cached', '--customer', 'logs-corr', '--json']),
    ]);
    expect(rows(named)).toHaveLength(2);
    expect(rows(answering)).toEqual([]);
    expect(rows(byAnswering)).toHaveLength(2);
    expect(rows(byAlias)).toEqual([]);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const page = JSON.parse(json.stdout) as {
      data: Array<{ client_request_id: string; customer_id: string }>;
    };
    expect(page.data.map((r) => [r.client_request_id, r.customer_id])).toEqual([['cli-corr-1', 'logs-corr']]);
    expect(table.code).toBe(0);
    // the header and the one row of cli-corr-2
    expect(table.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('tails new rows until Ctrl-C, then exits 0', async () => {
    await chat(MASTER, 'tail-before');
    await logged('tail-before', 1);
    const child = spawnCli([
      'logs',
      'tail',
      '--interval',
      '50ms',
      '--limit',
      '1',
      '--customer',
      'tail-before',
    ]);
    const first = await outputMatching(child, /tail-before/);
    expect(first).toMatch(/^TIME \(UTC\)\s+STATUS/);
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);

    const json = spawnCli(['logs', 'tail', '--json', '--interval', '50ms', '--limit', '1', '--since', '1h']);
    await outputMatching(json, /\n/);
    await chat(MASTER, 'tail-after');
    const text = await outputMatching(json, /tail-after/);
    const rows = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { customer_id: string });
    expect(rows.at(-1)?.customer_id).toBe('tail-after');
    expect(new Set(rows.map((r) => JSON.stringify(r))).size).toBe(rows.length);
    json.kill('SIGINT');
    const [jsonCode] = (await once(json, 'exit')) as [number];
    expect(jsonCode).toBe(0);
  });

  it('tails, after the last --limit rows, only rows it has not seen: never the rows --limit cut (they were printed one poll later)', async () => {
    for (let i = 0; i < 4; i += 1) await chat(MASTER, 'tail-cut');
    await logged('tail-cut', 4);
    // after a round trip to the log: stamped later than the four
    await chat(MASTER, 'tail-cut');
    await logged('tail-cut', 5);
    const child = spawnCli([
      'logs',
      'tail',
      '--json',
      '--interval',
      '50ms',
      '--limit',
      '1',
      '--customer',
      'tail-cut',
    ]);
    // one listener from the start: what is printed while the test makes its request is kept
    const printed = printedBy(child);
    const first = JSON.parse(await printed.matching(/\n/)) as { id: string; ts: number };
    await chat(MASTER, 'tail-cut');
    await logged('tail-cut', 6);
    const answer = await fetch(`${gateway.url}/admin/requests?customer_id=tail-cut&limit=1`, {
      headers: { authorization: `Bearer ${MASTER}` },
    });
    const added = ((await answer.json()) as { data: Array<{ id: string }> }).data[0]?.id ?? '';
    const text = await printed.matching(new RegExp(added));
    const rows = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; ts: number });
    expect(rows.map((row) => row.id)).toEqual([first.id, added]);
    child.kill('SIGINT');
    expect((await once(child, 'exit'))[0]).toBe(0);
  });

  it('tails a row logged after newer ones were printed (its request ran longer) exactly once, when it is logged (tail never printed it: it kept to rows from the newest one shown on)', async () => {
    await chat(MASTER, 'tail-late');
    await logged('tail-late', 1);
    const child = spawnCli(['logs', 'tail', '--json', '--interval', '50ms', '--customer', 'tail-late']);
    const printed = printedBy(child);
    const first = JSON.parse(await printed.matching(/\n/)) as { id: string };
    // arrives first, ends last
    const long = chat(MASTER, 'tail-late', {}, 'held');
    await held.arrived.promise;
    await chat(MASTER, 'tail-late');
    await logged('tail-late', 2);
    const newer = (await rowsOf('tail-late'))[0]?.id ?? '';
    await printed.matching(new RegExp(newer));
    held.released.resolve();
    expect(await long).toBe(200);
    await logged('tail-late', 3);
    // logged after the late row: the poll that prints it has the late row too
    await chat(MASTER, 'tail-late');
    await logged('tail-late', 4);
    const rows = await rowsOf('tail-late');
    const last = rows[0]?.id ?? '';
    const late = rows.find((row) => row.requested_model === 'held')?.id;
    const text = await printed.matching(new RegExp(last));
    const ids = text
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids).toEqual([first.id, newer, late, last]);
    child.kill('SIGINT');
    expect((await once(child, 'exit'))[0]).toBe(0);
  });

  it('stops quietly, exit 0, when the reader of its output goes away (usage | head -1 died with an EPIPE stack trace)', async () => {
    await chat(MASTER, 'closed-pipe');
    await logged('closed-pipe', 1);
    for (const args of [['usage'], ['logs', 'query'], ['logs', 'tail', '--interval', '50ms']]) {
      const child = spawnCli(args);
      // no reader left: the command's first write fails with EPIPE
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
      const [code] = (await once(child, 'exit')) as [number];
      expect({ args, code, stderr }).toEqual({ args, code: 0, stderr: '' });
    }
  });

  it('rejects flags of the other subcommand and bad values with exit 2', async () => {
    const [interval, cursor, status, noSub] = await Promise.all([
      cli(['logs', 'query', '--interval', '1s']),
      cli(['logs', 'tail', '--cursor', 'abc']),
      cli(['logs', 'query', '--status', 'ok']),
      cli(['logs']),
    ]);
    expect([interval.code, cursor.code, status.code, noSub.code]).toEqual([2, 2, 2, 2]);
    expect(status.stderr).toContain('--status: "ok" is not an integer from 100 to 599.');
    expect(noSub.stderr).toContain('logs needs a subcommand: query or tail.');
  });
});

describe('switchyard runs', () => {
  const section = (run: string, span: string, name: string, parent?: string): Record<string, string> => ({
    'x-switchyard-run-id': run,
    'x-switchyard-span-id': span,
    'x-switchyard-section': name,
    ...(parent === undefined ? {} : { 'x-switchyard-parent-span-id': parent }),
  });

  it('shows a run per section as an indented tree, with calls, tokens, cost and latency, or as JSON', async () => {
    // a run id with characters a URL path must escape
    const run = 'job:7@cli';
    // a priced model: the costs are sums, with no unpriced requests beside them
    await Promise.all([
      chat(MASTER, 'runs-a', section(run, 'plan-1', 'plan'), 'priced'),
      chat(MASTER, 'runs-a', section(run, 'search-1', 'search', 'plan-1'), 'priced'),
      chat(MASTER, 'runs-a', section(run, 'search-1', 'search', 'plan-1'), 'priced'),
      chat(MASTER, 'runs-a', section(run, 'write-1', 'write', 'plan-1'), 'priced'),
      chat(MASTER, 'runs-a', section('another-run', 'plan-1', 'plan'), 'priced'),
    ]);
    await logged('runs-a', 5);
    const [table, json] = await Promise.all([
      cli(['runs', 'show', run]),
      cli(['runs', 'show', run, '--json']),
    ]);
    expect(table).toMatchObject({ code: 0, stderr: '' });
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^Run job:7@cli: 4 calls, [\d,]+ input and [\d,]+ output tokens, \$[\d.]+, [\d.]+ m?s of call time$/,
    );
    expect(lines[1]).toMatch(
      /^SECTION\s+CALLS\s+INPUT TOKENS\s+OUTPUT TOKENS\s+COST\s+TOTAL COST\s+LATENCY\s+AVG$/,
    );
    // the root first, its children indented under it, in the order the API gives them
    const body = lines.slice(2);
    expect(body).toHaveLength(3);
    expect(body[0]).toMatch(/^plan\s+1\s/);
    expect(body.slice(1).sort()).toEqual([
      expect.stringMatching(/^ {2}search\s+2\s/),
      expect.stringMatching(/^ {2}write\s+1\s/),
    ]);
    for (const line of body) expect(line).toMatch(/\d+ m?s\s+\d+ m?s$/);

    const answer = JSON.parse(json.stdout) as {
      run_id: string;
      requests: number;
      input_tokens: number;
      sections: Array<{
        section: string;
        requests: number;
        children: Array<{ section: string; requests: number }>;
      }>;
    };
    expect(answer).toMatchObject({ run_id: run, requests: 4 });
    expect(answer.input_tokens).toBeGreaterThan(0);
    expect(answer.sections.map((s) => [s.section, s.requests])).toEqual([['plan', 1]]);
    expect(answer.sections[0]?.children.map((s) => [s.section, s.requests]).sort()).toEqual([
      ['search', 2],
      ['write', 1],
    ]);
  });

  it("counts the unpriced requests beside a run's and each section's cost and total cost (they were summed as $0 unseen)", async () => {
    const run = 'run-unpriced';
    await Promise.all([
      chat(MASTER, 'runs-unpriced', section(run, 'plan-1', 'plan'), 'priced'),
      chat(MASTER, 'runs-unpriced', section(run, 'search-1', 'search', 'plan-1'), 'unpriced'),
      chat(MASTER, 'runs-unpriced', section(run, 'search-1', 'search', 'plan-1'), 'unpriced'),
    ]);
    await logged('runs-unpriced', 3);
    const table = await cli(['runs', 'show', run]);
    const json = await cli(['runs', 'show', run, '--json']);
    expect(table).toMatchObject({ code: 0, stderr: '' });
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^Run run-unpriced: 3 calls, .* tokens, \$[\d.]+ \+ 2 unpriced, [\d.]+ m?s of call time$/,
    );
    // the root's own cost leaves none out, its total the two of its child
    expect(lines[2]).toMatch(/^plan\s+1\s.*\s\$[\d.]+\s+\$[\d.]+ \+ 2 unpriced\s/);
    expect(lines[2]).not.toMatch(/unpriced.*unpriced/);
    expect(lines[3]).toMatch(/^ {2}search\s+2\s.*\s\$0 \+ 2 unpriced\s+\$0 \+ 2 unpriced\s/);
    const answer = JSON.parse(json.stdout) as {
      unpriced_requests: number;
      sections: Array<{ unpriced_requests: number; total_unpriced_requests: number }>;
    };
    expect(answer.unpriced_requests).toBe(2);
    expect(answer.sections[0]).toMatchObject({ unpriced_requests: 0, total_unpriced_requests: 2 });
  });

  // seven CLI processes
  it(
    'exits 1 with the gateway message for an unknown run, and 2 for a wrong command line',
    { timeout: 7 * CLI_RUN_MS },
    async () => {
      const [unknown, unknownJson, noSub, noId, extra, help, dotDot] = await cliTwoAtATime([
        ['runs', 'show', 'no-such-run'],
        ['runs', 'show', 'no-such-run', '--json'],
        ['runs'],
        ['runs', 'show'],
        ['runs', 'show', 'a', 'b'],
        ['--help'],
        // a dot segment would resolve to another admin route
        ['runs', 'show', '..'],
      ]);
      expect(dotDot.code).toBe(2);
      expect(dotDot.stderr).toContain('RUN_ID ".." is not a run id.');
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('No requests for run "no-such-run".');
      expect(JSON.parse(unknownJson.stderr)).toMatchObject({
        error: { exit_code: 1, status: 404, code: 'not_found' },
      });
      expect([noSub.code, noId.code, extra.code]).toEqual([2, 2, 2]);
      expect(noSub.stderr).toContain('runs needs a subcommand: show.');
      expect(noId.stderr).toContain('Missing RUN_ID.');
      expect(help.stdout).toContain('switchyard runs show RUN_ID');
    },
  );
});

describe('switchyard bench', () => {
  it('loads the gateway and prints a summary table, or JSON', async () => {
    const [human, json] = await Promise.all([
      cli(['bench', '-d', '1', '-c', '1']),
      cli(['bench', '--duration', '1s', '--connections', '1', '--stream', '--json']),
    ]);
    expect(human.code).toBe(0);
    for (const label of ['Requests/s', 'Latency p50', 'Latency p90', 'Latency p99', 'Errors', 'Non-2xx']) {
      expect(human.stdout).toMatch(new RegExp(`\\n${label}\\s+\\S`));
    }
    expect(human.stdout).toMatch(/Non-2xx\s+0\n/);
    expect(json.code).toBe(0);
    const summary = JSON.parse(json.stdout) as {
      stream: boolean;
      requests: number;
      errors: number;
      non_2xx: number;
      latency_ms: Record<string, number>;
      status_codes: Record<string, number>;
    };
    expect(summary).toMatchObject({ stream: true, errors: 0, non_2xx: 0 });
    expect(summary.requests).toBeGreaterThan(0);
    expect(summary.status_codes['200']).toBe(summary.requests);
    expect(Object.keys(summary.latency_ms)).toEqual(['p50', 'p90', 'p99', 'mean', 'max']);
  }, 60_000);

  it('stops before the load when the gateway refuses the request, with its message', async () => {
    const [badKey, badModel, badDuration] = await Promise.all([
      cli(['bench', '-d', '1', '--api-key', 'sk-sy-not-a-real-key']),
      cli(['bench', '-d', '1', '--model', 'no-such-model', '--json']),
      cli(['bench', '-d', 'forever']),
    ]);
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toContain('The gateway refused the benchmark request (401 authentication_error)');
    expect(badKey.stdout).toBe('');
    expect(badModel.code).toBe(1);
    expect(JSON.parse(badModel.stderr)).toMatchObject({ error: { status: 404, exit_code: 1 } });
    expect(badDuration.code).toBe(2);
  }, 60_000);

  it('takes a blank SWITCHYARD_API_KEY as unset and sends the admin key (it sent the blank as the key, refused with 401)', async () => {
    const result = await cli(['bench', '-d', '1', '-c', '1', '--json'], { SWITCHYARD_API_KEY: ' ' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ errors: 0, non_2xx: 0 });
  }, 60_000);
});

describe('switchyard config validate --json', () => {
  it('lists every problem as JSON and exits 1', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'server: { port: eighty }\nproviders: [ { name: a, type: nope } ]\n');
    const result = await cli(['config', 'validate', file, '--json']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { valid: boolean; problems: string[] };
    expect(report.valid).toBe(false);
    expect(report.problems.some((p) => p.includes('/server/port'))).toBe(true);
    const good = join(dir, 'good.yaml');
    await writeFile(good, 'providers: [ { name: mock, type: mock } ]\n');
    expect(
      JSON.parse((await cli(['config', 'validate', good, '--json'], { SWITCHYARD_WORKERS: '1' })).stdout),
    ).toEqual({
      file: good,
      valid: true,
      problems: [],
      warnings: [],
      workers: 1,
    });
  });
});
