import { SwitchyardError } from '@switchyard/proxy-core';
import type { RequestListQuery, SqlRequestLogStore, UsageGroupBy } from '@switchyard/proxy-logging';
import type { FastifyInstance } from 'fastify';
import { requireAdmin } from '../admin/require-admin';

const GROUPS: readonly UsageGroupBy[] = ['customer', 'key', 'model', 'provider', 'run', 'section'];
const DAY_MS = 24 * 60 * 60 * 1000;

type Query = Record<string, string | undefined>;

function time(query: Query, name: string): number | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) throw new SwitchyardError('invalid_request', `${name} must be an ISO 8601 time or epoch milliseconds.`, { param: name });
  return ms;
}

function integer(query: Query, name: string, min: number, max: number): number | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new SwitchyardError('invalid_request', `${name} must be an integer from ${min} to ${max}.`, { param: name });
  return value;
}

function text(query: Query, name: string): string | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  if (raw.length > 256) throw new SwitchyardError('invalid_request', `${name} is too long.`, { param: name });
  return raw;
}

/** The admin query API over the request log: `/admin/requests`, `/admin/usage`, `/admin/runs/:id`. */
export function requestLogRoutes(app: FastifyInstance, store: SqlRequestLogStore): void {
  app.get('/admin/requests', { onRequest: requireAdmin }, async (request) => {
    const query = request.query as Query;
    const list: RequestListQuery = {};
    const limit = integer(query, 'limit', 1, 1000);
    if (limit !== undefined) list.limit = limit;
    const cursor = text(query, 'cursor');
    if (cursor !== undefined) list.cursor = cursor;
    const model = text(query, 'model');
    if (model !== undefined) list.model = model;
    const provider = text(query, 'provider');
    if (provider !== undefined) list.provider = provider;
    const customer = text(query, 'customer_id');
    if (customer !== undefined) list.customerId = customer;
    const run = text(query, 'run_id');
    if (run !== undefined) list.runId = run;
    const clientRequestId = text(query, 'client_request_id');
    if (clientRequestId !== undefined) list.clientRequestId = clientRequestId;
    const status = integer(query, 'status', 100, 599);
    if (status !== undefined) list.status = status;
    const from = time(query, 'from');
    if (from !== undefined) list.from = from;
    const to = time(query, 'to');
    if (to !== undefined) list.to = to;
    return store.list(list);
  });

  app.get('/admin/usage', { onRequest: requireAdmin }, async (request) => {
    const query = request.query as Query;
    const groupBy = (query['group_by'] ?? 'model') as UsageGroupBy;
    if (!GROUPS.includes(groupBy)) throw new SwitchyardError('invalid_request', `group_by must be one of ${GROUPS.join(', ')}.`, { param: 'group_by' });
    const to = time(query, 'to') ?? Date.now();
    const from = time(query, 'from') ?? to - DAY_MS;
    const groups = await store.usage(groupBy, from, to);
    return { group_by: groupBy, from: new Date(from).toISOString(), to: new Date(to).toISOString(), groups };
  });

  app.get('/admin/runs/:id', { onRequest: requireAdmin }, async (request) => {
    const { id } = request.params as { id: string };
    if (id.length > 128) throw new SwitchyardError('invalid_request', 'The run id is too long.', { param: 'id' });
    const run = await store.run(id);
    if (run === undefined) throw new SwitchyardError('not_found', `No requests for run ${JSON.stringify(id)}.`);
    return run;
  });
}
