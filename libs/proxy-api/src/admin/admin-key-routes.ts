import { SwitchyardError } from '@switchyard/proxy-core';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { KeyRegistry } from '../keys/key-registry';
import type { VirtualKeyFields } from '../keys/virtual-key';
import type { KeyLimiter } from '../limits/key-limiter';
import { budgetMicros, MICROS_PER_USD } from '../limits/usd-micros';
import {
  AdminKeyFieldsSchema,
  fromAdminKeyFields,
  toAdminKeyJson,
  type AdminKeyFields,
} from './admin-key-json';
import { NO_NUL } from './admin-no-nul';
import { requireAdmin } from './require-admin';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL }) });
const ListQuery = Type.Object({
  // query strings are not coerced: a page size is digits
  limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL })),
});

function fields(body: AdminKeyFields): VirtualKeyFields {
  const converted = fromAdminKeyFields(body);
  if ('invalid' in converted)
    throw new SwitchyardError(
      'invalid_request',
      `Invalid request: '${converted.invalid}' is not a date-time.`,
      { param: converted.invalid },
    );
  return converted;
}

/**
 * The key admin API under `/admin/keys`: create, list (cursor pagination), get, update,
 * rotate, revoke, and a key's current usage and spend. The plaintext secret appears only
 * in the answers to create and rotate.
 */
export function adminKeyRoutes(
  app: FastifyInstance,
  registry: KeyRegistry,
  limiter: KeyLimiter,
  pageSize: number,
): void {
  const tags = ['admin'];
  const notFound = (id: string): SwitchyardError =>
    new SwitchyardError('not_found', `No key with id ${id}.`, { param: 'id' });

  app.post<{ Body: AdminKeyFields }>(
    '/admin/keys',
    {
      onRequest: requireAdmin,
      schema: {
        tags,
        summary: 'Create a virtual key (the secret is shown once)',
        body: AdminKeyFieldsSchema,
      },
    },
    async (request, reply) => {
      const created = fields(request.body);
      // a key made expired would refuse its every request: a date typed wrong, most likely
      // (a PATCH may still set a past date, to end a key now)
      if (typeof created.expiresAt === 'number' && created.expiresAt <= registry.now())
        throw new SwitchyardError(
          'invalid_request',
          `Invalid request: 'expires_at' (${new Date(created.expiresAt).toISOString()}) is in the past: the key would refuse every request.`,
          { param: 'expires_at' },
        );
      const minted = await registry.create(created);
      return reply.code(201).send({ ...toAdminKeyJson(minted.key), key: minted.secret });
    },
  );

  app.get<{ Querystring: { limit?: string; cursor?: string } }>(
    '/admin/keys',
    { onRequest: requireAdmin, schema: { tags, summary: 'List keys', querystring: ListQuery } },
    async (request) => {
      const page = await registry.list({
        limit: request.query.limit === undefined ? pageSize : Number(request.query.limit),
        cursor: request.query.cursor,
      });
      return { object: 'list', data: page.data.map(toAdminKeyJson), next_cursor: page.nextCursor };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/admin/keys/:id',
    { onRequest: requireAdmin, schema: { tags, summary: 'Get a key', params: IdParams } },
    async (request) => {
      const key = await registry.get(request.params.id);
      if (key === undefined) throw notFound(request.params.id);
      return toAdminKeyJson(key);
    },
  );

  app.patch<{ Params: { id: string }; Body: AdminKeyFields }>(
    '/admin/keys/:id',
    {
      onRequest: requireAdmin,
      schema: { tags, summary: 'Update a key', params: IdParams, body: AdminKeyFieldsSchema },
    },
    async (request) => toAdminKeyJson(await registry.update(request.params.id, fields(request.body))),
  );

  app.post<{ Params: { id: string } }>(
    '/admin/keys/:id/rotate',
    {
      onRequest: requireAdmin,
      schema: { tags, summary: 'Rotate a key: a new secret, same id, limits and spend', params: IdParams },
    },
    async (request) => {
      const minted = await registry.rotate(request.params.id);
      return { ...toAdminKeyJson(minted.key), key: minted.secret };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/admin/keys/:id/revoke',
    { onRequest: requireAdmin, schema: { tags, summary: 'Revoke a key for good', params: IdParams } },
    async (request) => toAdminKeyJson(await registry.revoke(request.params.id)),
  );

  app.delete<{ Params: { id: string } }>(
    '/admin/keys/:id',
    {
      onRequest: requireAdmin,
      schema: { tags, summary: 'Revoke a key (same as POST /admin/keys/:id/revoke)', params: IdParams },
    },
    async (request) => toAdminKeyJson(await registry.revoke(request.params.id)),
  );

  app.get<{ Params: { id: string } }>(
    '/admin/keys/:id/usage',
    {
      onRequest: requireAdmin,
      schema: { tags, summary: "A key's current usage and spend", params: IdParams },
    },
    async (request) => {
      const key = await registry.get(request.params.id);
      if (key === undefined) throw notFound(request.params.id);
      const usage = await limiter.usage(key);
      return {
        id: key.id,
        object: 'switchyard.key.usage',
        requests: {
          limit: usage.requests.limit,
          used: usage.requests.used,
          reset_ms: usage.requests.resetMs,
        },
        tokens: { limit: usage.tokens.limit, used: usage.tokens.used, reset_ms: usage.tokens.resetMs },
        in_flight: { limit: key.maxParallel, used: usage.inFlight },
        budget: {
          limit_usd: key.budgetUsd,
          period: key.budgetPeriod,
          period_id: usage.budgetPeriodId,
          spent_usd: usage.spentMicros / MICROS_PER_USD,
          reserved_usd: usage.reservedMicros / MICROS_PER_USD,
          // in micro-dollars, then dollars: 0.3 - 0.1 in dollars is 0.19999999999999998
          remaining_usd:
            key.budgetUsd === null
              ? null
              : Math.max(0, budgetMicros(key.budgetUsd) - usage.spentMicros) / MICROS_PER_USD,
        },
      };
    },
  );
}
