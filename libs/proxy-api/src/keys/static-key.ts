import { Type, type Static } from '@sinclair/typebox';
import { MAX_CLIENT_KEY_LENGTH, MAX_KEY_LIMIT } from './key-secret';

/**
 * The largest budget a key may have, USD: spend is counted in whole micro-USD, exact in a
 * double (and in Redis's Lua) up to 2^53; a budget of 1e308 became Infinity.
 */
export const MAX_KEY_BUDGET_USD = 1_000_000_000;

/** The budget of a key: an amount per period. */
export const KeyBudgetSchema = Type.Object(
  {
    /** USD allowed per period. */
    usd: Type.Number({ minimum: 0, maximum: MAX_KEY_BUDGET_USD }),
    /** @default "month" */
    period: Type.Optional(
      Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('month'), Type.Literal('total')]),
    ),
  },
  { additionalProperties: false },
);

/** A client key declared in configuration (for simple setups with no admin API). */
export const StaticKeySchema = Type.Object(
  {
    /** The secret clients present (`sk-sy-...`); put it in the environment: `${APP_KEY}`. */
    key: Type.String({ minLength: 20, maxLength: MAX_CLIENT_KEY_LENGTH, pattern: '^sk-sy-[A-Za-z0-9_-]+$' }),
    /** Unique among static keys; used in the key id (`key_static_<name>`). */
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._-]+$' }),
    customerId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    owner: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    /**
     * Free-form string metadata, bounded as a virtual key's (at most 50 entries,
     * names of 100 characters, values of 1000), checked with the options (`productionOptionsProblems`).
     */
    metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
    /**
     * Aliases or `*` globs; absent or empty = every model. Bounded as a virtual key's (at most
     * 200 entries of 200 characters), checked with the options (`productionOptionsProblems`).
     */
    models: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    rpm: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_KEY_LIMIT })),
    tpm: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_KEY_LIMIT })),
    maxParallel: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_KEY_LIMIT })),
    budget: Type.Optional(KeyBudgetSchema),
    /** ISO 8601 date-time after which the key is refused. */
    expiresAt: Type.Optional(Type.String({ minLength: 10, pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}' })),
    /** @default true */
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** A client key declared in configuration (see {@link StaticKeySchema}). */
export type StaticKeyConfig = Static<typeof StaticKeySchema>;
