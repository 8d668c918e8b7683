import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closedPortUrl,
  startRecordingServer,
  type RecordedCall,
  type RecordingServer,
} from '../../test/recording-server';
import { isSwitchyardClientError } from '../errors/switchyard-client-error';
import type { RunTree, UsageReport } from './admin-types';
import { createSwitchyardAdmin } from './create-switchyard-admin';

const run: RunTree = {
  run_id: 'run-1',
  requests: 2,
  cost_usd: 0.3,
  unpriced_requests: 1,
  input_tokens: 30,
  output_tokens: 12,
  sections: [
    {
      span_id: 'aaaaaaaaaaaaaaaa',
      parent_span_id: null,
      section: 'agent:research',
      section_path: 'agent:research',
      requests: 1,
      cost_usd: 0.1,
      total_cost_usd: 0.3,
      unpriced_requests: 0,
      total_unpriced_requests: 1,
      input_tokens: 10,
      output_tokens: 4,
      latency_ms: 12,
      children: [],
    },
  ],
};
const usage: UsageReport = {
  group_by: 'customer',
  from: null,
  to: null,
  groups: [
    {
      key: 'acme',
      requests: 2,
      input_tokens: 30,
      output_tokens: 12,
      cached_tokens: 0,
      reasoning_tokens: 0,
      cost_usd: 0.3,
      cache_saved_usd: 0,
      unpriced_requests: 1,
      unpriced_input_tokens: 12,
      unpriced_output_tokens: 5,
    },
  ],
};

function answer(call: RecordedCall): { status: number; body: unknown } {
  if (call.headers.authorization !== 'Bearer master-key')
    return { status: 401, body: { error: { message: 'Admin key required.', code: 'authentication_error' } } };
  const url = new URL(call.path, 'http://admin');
  if (url.pathname === '/admin/runs/run-1') return { status: 200, body: run };
  if (url.pathname.startsWith('/admin/runs/'))
    return { status: 404, body: { error: { message: 'No such run.', code: 'not_found' } } };
  if (url.pathname === '/admin/usage') return { status: 200, body: usage };
  if (url.pathname === '/admin/requests')
    return { status: 200, body: { data: [{ run_id: 'run-1' }], next_cursor: null } };
  return { status: 200, body: { unexpected: true } };
}

let server: RecordingServer;
beforeAll(async () => {
  server = await startRecordingServer('admin', answer);
});
afterAll(() => server.close());

describe('createSwitchyardAdmin', () => {
  it('reads a run tree with the admin key', async () => {
    const admin = createSwitchyardAdmin({ gatewayUrl: `${server.url}/`, adminKey: 'master-key' });
    await expect(admin.getRun('run-1')).resolves.toEqual(run);
    expect(server.calls.at(-1)?.path).toBe('/admin/runs/run-1');
  });

  it("appends its paths to the gateway URL's path, leaving out a query or fragment of it", async () => {
    for (const gatewayUrl of [`${server.url}/#top`, `${server.url}//?tenant=a`]) {
      const admin = createSwitchyardAdmin({ gatewayUrl, adminKey: 'master-key' });
      await expect(admin.getRun('run-1')).resolves.toEqual(run);
      expect(server.calls.at(-1)?.path).toBe('/admin/runs/run-1');
    }
  });

  it('asks for usage by customer and by any grouping, with the time window as ISO dates', async () => {
    const admin = createSwitchyardAdmin({ gatewayUrl: server.url, adminKey: 'master-key' });
    await expect(admin.usageByCustomer({ from: new Date('2026-01-01T00:00:00Z') })).resolves.toEqual(usage);
    expect(server.calls.at(-1)?.path).toBe(
      '/admin/usage?group_by=customer&from=2026-01-01T00%3A00%3A00.000Z',
    );
    await admin.getUsage({ groupBy: 'section', to: '2026-02-01' });
    expect(server.calls.at(-1)?.path).toBe('/admin/usage?group_by=section&to=2026-02-01');
  });

  it('lists request log rows with the query API filters', async () => {
    const admin = createSwitchyardAdmin({ gatewayUrl: server.url, adminKey: 'master-key' });
    await expect(admin.listRequests({ runId: 'run-1', customerId: 'acme', limit: 5 })).resolves.toEqual({
      data: [{ run_id: 'run-1' }],
      next_cursor: null,
    });
    expect(server.calls.at(-1)?.path).toBe('/admin/requests?limit=5&customer_id=acme&run_id=run-1');
    await admin.listRequests({ requestedModel: 'fast' });
    expect(server.calls.at(-1)?.path).toBe('/admin/requests?requested_model=fast');
    await admin.listRequests({ clientRequestId: 'job-42:step-1' });
    expect(server.calls.at(-1)?.path).toBe('/admin/requests?client_request_id=job-42%3Astep-1');
  });

  it('maps gateway errors to client error codes, without the key in the message', async () => {
    const wrongKey = createSwitchyardAdmin({ gatewayUrl: server.url, adminKey: 'not-the-key' });
    const denied: unknown = await wrongKey.getRun('run-1').catch((e: unknown) => e);
    expect(isSwitchyardClientError(denied) && [denied.code, denied.status]).toEqual([
      'authentication_error',
      401,
    ]);
    expect((denied as Error).message).not.toContain('not-the-key');
    const admin = createSwitchyardAdmin({ gatewayUrl: server.url, adminKey: 'master-key' });
    const missing: unknown = await admin.getRun('nope').catch((e: unknown) => e);
    expect(isSwitchyardClientError(missing) && missing.code).toBe('not_found');
    expect((missing as Error).message).toContain('No such run.');
  });

  it('refuses dot-only run ids instead of sending the admin key to another route', async () => {
    const admin = createSwitchyardAdmin({ gatewayUrl: server.url, adminKey: 'master-key' });
    const before = server.calls.length;
    for (const runId of ['.', '..', '...']) {
      const error: unknown = await admin.getRun(runId).catch((e: unknown) => e);
      expect(isSwitchyardClientError(error) && error.code).toBe('invalid_request');
    }
    expect(server.calls.slice(before).map((c) => c.path)).toEqual([]);
    await expect(admin.getRun('.run.1')).rejects.toMatchObject({ code: 'not_found' });
    expect(server.calls.at(-1)?.path).toBe('/admin/runs/.run.1');
  });

  it('rejects, never throws, on arguments it cannot send: a lone surrogate in a run id (a URIError), no usage query (a TypeError)', async () => {
    const admin = createSwitchyardAdmin({ gatewayUrl: server.url, adminKey: 'master-key' });
    const before = server.calls.length;
    const calls: Array<() => Promise<unknown>> = [
      () => admin.getRun('a\uD800'),
      () => admin.getUsage(undefined as never),
      () => admin.getUsage(null as never),
      () => admin.usageByCustomer(null as never),
      () => admin.getRun('run-1', null as never),
    ];
    for (const call of calls) {
      let pending: Promise<unknown> | undefined;
      expect(() => {
        pending = call();
      }).not.toThrow();
      await expect(pending).rejects.toBeInstanceOf(Error);
    }
    await expect(admin.getRun('a\uD800')).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(admin.getUsage(undefined as never)).rejects.toMatchObject({ code: 'invalid_request' });
    expect(server.calls.length).toBe(before);
  });

  it('reports an unreachable gateway as upstream_connection_error', async () => {
    const admin = createSwitchyardAdmin({ gatewayUrl: await closedPortUrl(), adminKey: 'master-key' });
    const error: unknown = await admin.getRun('run-1').catch((e: unknown) => e);
    expect(isSwitchyardClientError(error) && error.code).toBe('upstream_connection_error');
  });

  it('reports an answer cut off or stalled mid-body as upstream_connection_error, not as an unexpected body', async () => {
    // 200 and the start of a run, then the connection drops (`cut`) or the body stalls
    const server = createServer((req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"run_id":"run-1",', () => {
        if (req.url === '/admin/runs/cut') res.destroy();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const gatewayUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const cut: unknown = await createSwitchyardAdmin({ gatewayUrl, adminKey: 'master-key' })
        .getRun('cut')
        .catch((e: unknown) => e);
      expect(isSwitchyardClientError(cut) && [cut.code, cut.status]).toEqual([
        'upstream_connection_error',
        200,
      ]);
      expect((cut as Error).cause).toBeDefined();
      // the deadline covers the body too, and says so
      const stalled: unknown = await createSwitchyardAdmin({
        gatewayUrl,
        adminKey: 'master-key',
        timeoutMs: 200,
      })
        .getRun('stalled')
        .catch((e: unknown) => e);
      expect(isSwitchyardClientError(stalled) && stalled.code).toBe('upstream_connection_error');
      expect((stalled as Error).message).toContain('did not answer within 200 ms');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("ends a call the caller aborts with the caller's reason, not as an unreachable gateway", async () => {
    const admin = createSwitchyardAdmin({ gatewayUrl: server.url, adminKey: 'master-key' });
    const controller = new AbortController();
    const reason = new Error('the user navigated away');
    controller.abort(reason);
    await expect(admin.getRun('run-1', { signal: controller.signal })).rejects.toBe(reason);
    await expect(admin.listRequests({}, { signal: controller.signal })).rejects.toBe(reason);
  });

  it('refuses an invalid Date in a time window as a rejected call, sending nothing', async () => {
    const admin = createSwitchyardAdmin({ gatewayUrl: server.url, adminKey: 'master-key' });
    const before = server.calls.length;
    const invalid = new Date('not a date');
    let usage: Promise<unknown> | undefined;
    let requests: Promise<unknown> | undefined;
    expect(() => {
      usage = admin.usageByCustomer({ from: invalid });
      requests = admin.listRequests({ to: invalid });
    }).not.toThrow();
    await expect(usage).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(requests).rejects.toMatchObject({ code: 'invalid_request' });
    expect(server.calls.length).toBe(before);
  });

  it('validates its options', () => {
    expect(() => createSwitchyardAdmin({ gatewayUrl: 'nope', adminKey: '' })).toThrow(
      /gatewayUrl[\s\S]*adminKey/,
    );
  });

  it('refuses a timeoutMs above 2147483647 (AbortSignal.timeout would fire after 1 ms: every call aborted at once), saying why', () => {
    expect(() =>
      createSwitchyardAdmin({ gatewayUrl: 'http://localhost:4000', adminKey: 'k', timeoutMs: 3_000_000_000 }),
    ).toThrow(
      'Invalid admin client options:\n- /timeoutMs: 3000000000 ms is above 2147483647 ms (about 24.8 days), the longest a Node.js timer waits: a longer delay would fire after 1 ms',
    );
    expect(() =>
      createSwitchyardAdmin({ gatewayUrl: 'http://localhost:4000', adminKey: 'k', timeoutMs: 2_147_483_647 }),
    ).not.toThrow();
    expect(() =>
      createSwitchyardAdmin({ gatewayUrl: 'http://localhost:4000', adminKey: 'k', timeoutMs: 0 }),
    ).toThrow('/timeoutMs: Expected integer to be greater or equal to 1');
  });

  it('calls with the longest timeoutMs without aborting at once', async () => {
    const admin = createSwitchyardAdmin({
      gatewayUrl: server.url,
      adminKey: 'master-key',
      timeoutMs: 2_147_483_647,
    });
    await expect(admin.getRun('run-1')).resolves.toMatchObject({ run_id: 'run-1' });
  });
});
