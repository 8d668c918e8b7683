/** The period a key's budget resets on (UTC calendar periods; `total` never resets). */
export type BudgetPeriod = 'day' | 'week' | 'month' | 'total';

/**
 * A virtual client key as stored: the secret itself is never kept, only its HMAC-SHA-256
 * under the server's key secret.
 */
export interface VirtualKey {
  /** Stable id (`key_...`), sortable by creation time; safe to log. */
  readonly id: string;
  /** Hex HMAC-SHA-256 of the secret under the server's key secret. */
  readonly hash: string;
  /** The last four characters of the secret, to tell keys apart in a list. */
  readonly hint: string;
  readonly name: string;
  /** The customer the key's traffic is billed to (sets `customerId` on every log row). */
  readonly customerId: string | null;
  /** Who owns the key (a team, a person, an application). */
  readonly owner: string | null;
  /** Free-form string metadata. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Model aliases or glob patterns (`gpt-4o*`, `openai/*`) the key may use; empty = all. */
  readonly models: readonly string[];
  /** Requests per minute; null = unlimited. */
  readonly rpm: number | null;
  /** Tokens (prompt + completion) per minute; null = unlimited. */
  readonly tpm: number | null;
  /** Requests in flight at once; null = unlimited. */
  readonly maxParallel: number | null;
  /** Spend allowed per budget period in USD; null = unlimited. */
  readonly budgetUsd: number | null;
  readonly budgetPeriod: BudgetPeriod;
  /** Epoch milliseconds after which the key is refused; null = never. */
  readonly expiresAt: number | null;
  /** A disabled key is refused until enabled again. */
  readonly enabled: boolean;
  /** Epoch milliseconds of revocation; a revoked key is refused for good. */
  readonly revokedAt: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** `static` for keys declared in configuration (read-only through the admin API). */
  readonly source: 'store' | 'static';
}

/** The fields a caller sets when creating or updating a key. */
export interface VirtualKeyFields {
  name?: string;
  customerId?: string | null;
  owner?: string | null;
  metadata?: Record<string, string>;
  models?: string[];
  rpm?: number | null;
  tpm?: number | null;
  maxParallel?: number | null;
  budgetUsd?: number | null;
  budgetPeriod?: BudgetPeriod;
  expiresAt?: number | null;
  enabled?: boolean;
}

/** Why a presented key was refused (never which part of the secret was wrong). */
export type KeyRefusal = 'unknown' | 'disabled' | 'revoked' | 'expired';

/** Whether a key may be used at `nowMs`, and if not, why. */
export function keyRefusal(key: VirtualKey, nowMs: number): KeyRefusal | undefined {
  if (key.revokedAt !== null) return 'revoked';
  if (!key.enabled) return 'disabled';
  if (key.expiresAt !== null && nowMs >= key.expiresAt) return 'expired';
  return undefined;
}
