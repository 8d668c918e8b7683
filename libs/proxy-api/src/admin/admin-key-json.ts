import { Type, type Static } from '@sinclair/typebox';
import { KeyMetadataSchema } from '../keys/key-metadata';
import { KeyModelsSchema } from '../keys/key-models';
import { MAX_KEY_LIMIT } from '../keys/key-secret';
import { MAX_KEY_BUDGET_USD } from '../keys/static-key';
import { parseIsoTime } from '../observability/query-time';
import type { VirtualKey, VirtualKeyFields } from '../keys/virtual-key';
import { NO_NUL } from './admin-no-nul';

const Nullable = <
  T extends ReturnType<typeof Type.Integer> | ReturnType<typeof Type.String> | ReturnType<typeof Type.Number>,
>(
  schema: T,
) => Type.Union([schema, Type.Null()]);

/** The writable fields of a key in the admin API (snake_case, like the rest of the API). */
export const AdminKeyFieldsSchema = Type.Object(
  {
    // metadata and models are stored as JSON, which escapes a NUL: only these columns hold text as sent
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL })),
    customer_id: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL }))),
    owner: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL }))),
    metadata: Type.Optional(KeyMetadataSchema),
    models: Type.Optional(KeyModelsSchema),
    rpm: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: MAX_KEY_LIMIT }))),
    tpm: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: MAX_KEY_LIMIT }))),
    max_parallel: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: MAX_KEY_LIMIT }))),
    budget_usd: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: MAX_KEY_BUDGET_USD }))),
    budget_period: Type.Optional(
      Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('month'), Type.Literal('total')]),
    ),
    expires_at: Type.Optional(Nullable(Type.String({ minLength: 10, maxLength: 40 }))),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** A key's writable fields as sent to the admin API. */
export type AdminKeyFields = Static<typeof AdminKeyFieldsSchema>;

/** A key as the admin API shows it: never the secret or its hash. */
export interface AdminKeyJson {
  id: string;
  object: 'switchyard.key';
  name: string;
  hint: string;
  customer_id: string | null;
  owner: string | null;
  metadata: Record<string, string>;
  models: string[];
  rpm: number | null;
  tpm: number | null;
  max_parallel: number | null;
  budget_usd: number | null;
  budget_period: string;
  expires_at: string | null;
  enabled: boolean;
  revoked: boolean;
  revoked_at: string | null;
  created_at: string;
  updated_at: string;
  source: 'store' | 'static';
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toAdminKeyJson(key: VirtualKey): AdminKeyJson {
  return {
    id: key.id,
    object: 'switchyard.key',
    name: key.name,
    hint: `sk-sy-...${key.hint}`,
    customer_id: key.customerId,
    owner: key.owner,
    metadata: { ...key.metadata },
    models: [...key.models],
    rpm: key.rpm,
    tpm: key.tpm,
    max_parallel: key.maxParallel,
    budget_usd: key.budgetUsd,
    budget_period: key.budgetPeriod,
    expires_at: iso(key.expiresAt),
    enabled: key.enabled,
    revoked: key.revokedAt !== null,
    revoked_at: iso(key.revokedAt),
    created_at: new Date(key.createdAt).toISOString(),
    updated_at: new Date(key.updatedAt).toISOString(),
    source: key.source,
  };
}

/** Admin fields to the registry's; `expires_at` must be an ISO 8601 date or date-time (no offset: UTC). */
export function fromAdminKeyFields(body: AdminKeyFields): VirtualKeyFields | { invalid: string } {
  let expiresAt: number | null | undefined;
  if (body.expires_at !== undefined && body.expires_at !== null) {
    expiresAt = parseIsoTime(body.expires_at);
    if (expiresAt === undefined) return { invalid: 'expires_at' };
  } else expiresAt = body.expires_at;
  return {
    name: body.name,
    customerId: body.customer_id,
    owner: body.owner,
    metadata: body.metadata,
    models: body.models,
    rpm: body.rpm,
    tpm: body.tpm,
    maxParallel: body.max_parallel,
    budgetUsd: body.budget_usd,
    budgetPeriod: body.budget_period,
    expiresAt,
    enabled: body.enabled,
  };
}
