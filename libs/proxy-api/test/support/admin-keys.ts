import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';

/** A virtual key the admin API created: its id and the secret a client sends. */
export interface CreatedKey {
  id: string;
  key: string;
}

/** The figures of `GET /admin/keys/:id/usage` that tests read. */
export interface KeyUsage {
  requests: { used: number };
  tokens: { used: number };
  in_flight: { used: number };
  budget: { spent_usd: number; reserved_usd: number };
}

/** Creates a virtual key through the admin API with `fields` as its limits (the test fails unless it answers 201). */
export async function createKey(
  app: FastifyInstance,
  masterKey: string,
  fields: Record<string, unknown> = {},
): Promise<CreatedKey> {
  const created = await app.inject({
    method: 'POST',
    url: '/admin/keys',
    headers: { authorization: `Bearer ${masterKey}` },
    payload: { name: 'test', ...fields },
  });
  expect(created.statusCode).toBe(201);
  return created.json();
}

/** A key's usage and spend, as the admin API reports them. */
export async function keyUsage(app: FastifyInstance, masterKey: string, id: string): Promise<KeyUsage> {
  const usage = await app.inject({
    method: 'GET',
    url: `/admin/keys/${id}/usage`,
    headers: { authorization: `Bearer ${masterKey}` },
  });
  expect(usage.statusCode).toBe(200);
  return usage.json();
}

/** Creates a key whose total budget (never reset) is `usd`. */
export function keyWithBudget(app: FastifyInstance, masterKey: string, usd: number): Promise<CreatedKey> {
  return createKey(app, masterKey, { name: 'budgeted', budget_usd: usd, budget_period: 'total' });
}
