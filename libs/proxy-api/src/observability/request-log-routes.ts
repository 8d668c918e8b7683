import { SwitchyardError } from '@switchyard/proxy-core';
import {
  MAX_USAGE_GROUPS,
  type RequestListQuery,
  type SqlRequestLogStore,
  type UsageGroupBy,
} from '@switchyard/proxy-logging';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { NO_NUL } from '../admin/admin-no-nul';
import { requireAdmin } from '../admin/require-admin';
import { optionalQueryTime, QueryTimeSchema, queryWindow } from './query-time';

const GROUPS: readonly UsageGroupBy[] = ['customer', 'key', 'model', 'provider', 'run', 'section'];

// Query strings are not coerced, and a repeated parameter arrives as an array: each parameter
// is one bounded string (an array or an unknown name is a 400 before the handler runs). An
// empty value means "not given", as the admin UI sends its empty filters.
const Text = Type.String({ maxLength: 256, pattern: NO_NUL });
const Digits = Type.String({ maxLength: 10, description: 'An integer' });
const RequestsQuery = Type.Object(
  {
    limit: Type.Optional(Digits),
    cursor: Type.Optional(Text),
    model: Type.Optional(Text),
    requested_model: Type.Optional(Text),
    provider: Type.Optional(Text),
    customer_id: Type.Optional(Text),
    run_id: Type.Optional(Text),
    client_request_id: Type.Optional(Text),
    status: Type.Optional(Digits),
    from: Type.Optional(QueryTimeSchema),
    to: Type.Optional(QueryTimeSchema),
  },
  { additionalProperties: false },
);
const UsageQuery = Type.Object(
  {
    group_by: Type.Optional(Type.Unsafe<UsageGroupBy>({ type: 'string', enum: [...GROUPS] })),
    from: Type.Optional(QueryTimeSchema),
    to: Type.Optional(QueryTimeSchema),
  },
  { additionalProperties: false },
);
const RunParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, pattern: NO_NUL }) });

function integer(raw: string | undefined, name: string, min: number, max: number): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max))
    throw new SwitchyardError('invalid_request', `${name} must be an integer from ${min} to ${max}.`, {
      param: name,
    });
  return value;
}

function text(raw: string | undefined): string | undefined {
  return raw === '' ? undefined : raw;
}

/** The filters of `/admin/requests`, from its validated query. */
function listQuery(query: Static<typeof RequestsQuery>): RequestListQuery {
  const list: RequestListQuery = {};
  const fields: Partial<RequestListQuery> = {
    limit: integer(query.limit, 'limit', 1, 1000),
    cursor: text(query.cursor),
    model: text(query.model),
    requestedModel: text(query.requested_model),
    provider: text(query.provider),
    customerId: text(query.customer_id),
    runId: text(query.run_id),
    clientRequestId: text(query.client_request_id),
    status: integer(query.status, 'status', 100, 599),
    from: optionalQueryTime(query.from, 'from'),
    to: optionalQueryTime(query.to, 'to'),
  };
  // absent filters stay absent (the store's options are exact)
  for (const [name, value] of Object.entries(fields))
    if (value !== undefined) Object.assign(list, { [name]: value });
  return list;
}

/** The admin query API over the request log: `/admin/requests`, `/admin/usage`, `/admin/runs/:id`. */
export function requestLogRoutes(app: FastifyInstance, store: SqlRequestLogStore): void {
  const tags = ['admin'];
  app.get<{ Querystring: Static<typeof RequestsQuery> }>(
    '/admin/requests',
    {
      onRequest: requireAdmin,
      schema: { tags, summary: 'Request log rows, newest first', querystring: RequestsQuery },
    },
    async (request) => store.list(listQuery(request.query)),
  );

  app.get<{ Querystring: Static<typeof UsageQuery> }>(
    '/admin/usage',
    {
      onRequest: requireAdmin,
      schema: { tags, summary: 'Requests, tokens and cost by group', querystring: UsageQuery },
    },
    async (request) => {
      const groupBy = request.query.group_by ?? 'model';
      const end = optionalQueryTime(request.query.to, 'to');
      const { from, to } = queryWindow(optionalQueryTime(request.query.from, 'from'), end);
      // one more than shown: whether the window holds more groups than the answer
      const groups = await store.usage(groupBy, from, to, MAX_USAGE_GROUPS + 1);
      const truncated = groups.length > MAX_USAGE_GROUPS;
      return {
        group_by: groupBy,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        groups: truncated ? groups.slice(0, MAX_USAGE_GROUPS) : groups,
        truncated,
      };
    },
  );

  app.get<{ Params: Static<typeof RunParams> }>(
    '/admin/runs/:id',
    {
      onRequest: requireAdmin,
      schema: { tags, summary: "One run's requests and sections", params: RunParams },
    },
    async (request) => {
      const run = await store.run(request.params.id);
      if (run === undefined)
        throw new SwitchyardError('not_found', `No requests for run ${JSON.stringify(request.params.id)}.`);
      return run;
    },
  );
}

/**
 * The admin query API when the request log is not kept in SQL (none, or `store: memory` or
 * `none`): its routes exist, behind the admin key, and answer `404 not_found` saying why, where
 * an unknown route's 404 would leave a caller (the admin UI) guessing.
 */
export function requestLogOffRoutes(app: FastifyInstance): void {
  const off = async (): Promise<never> => {
    throw new SwitchyardError(
      'not_found',
      'The request log is not queryable here: the admin query API needs a SQL request log (requestLog.store: sqlite or postgres).',
    );
  };
  const options = { onRequest: requireAdmin, schema: { hide: true } };
  for (const url of ['/admin/requests', '/admin/usage', '/admin/usage/series', '/admin/runs/:id'])
    app.get(url, options, off);
}
