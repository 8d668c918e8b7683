import { SwitchyardError } from '@switchyard/proxy-core';
import type { FastifyRequest } from 'fastify';
import type { KeyCheck, KeyRegistry } from './key-registry';
import { heldSecretEquals, KEY_PREFIX, MAX_CLIENT_KEY_LENGTH } from './key-secret';
import type { VirtualKey } from './virtual-key';

declare module 'fastify' {
  interface FastifyRequest {
    /** The virtual key the request authenticated with (unset in open mode or for the master key). */
    switchyardKey: VirtualKey | undefined;
  }
}

/** Where a route takes the client key from (`authorization` also reads `x-api-key`). */
export type KeySource = 'authorization' | 'x-switchyard-key';

/** What client authentication checks against. */
export interface ClientAuthState {
  /** No static keys, no key store and no master key: every request passes (quick start). */
  readonly open: boolean;
  readonly registry: KeyRegistry | undefined;
  readonly masterKey: string | undefined;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers[name];
  if (typeof header !== 'string') return undefined;
  const value = header.trim();
  return value.length > 0 ? value : undefined;
}

/**
 * The presented secret: `Authorization: Bearer` (or, as the Anthropic SDK sends it,
 * `x-api-key`) for `/v1` and the admin API, `x-switchyard-key` for `/proxy`. A Bearer
 * header wins over `x-api-key`; either is checked the same way.
 */
export function presentedKey(request: FastifyRequest, source: KeySource): string | undefined {
  if (source === 'x-switchyard-key') return headerValue(request, 'x-switchyard-key');
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const bearer = BEARER.exec(header)?.[1];
    if (bearer !== undefined) return bearer;
  }
  return headerValue(request, 'x-api-key');
}

const REFUSALS = {
  unknown: 'The API key is not valid.',
  disabled: 'The API key is disabled.',
  revoked: 'The API key has been revoked.',
  expired: 'The API key has expired.',
} as const;

/**
 * Authenticates a request's client key and fills `request.switchyardKey` and the key fields
 * of `request.switchyardMetadata`. Throws a 401 `authentication_error` (the message never
 * echoes the presented secret), or a 503 `overloaded` when a key that is neither static nor
 * cached cannot be looked up because the key store does not answer. Reusable by any route (the universal proxy uses
 * `x-switchyard-key`).
 */
export async function authenticateClient(
  state: ClientAuthState,
  request: FastifyRequest,
  source: KeySource,
): Promise<void> {
  await authenticateNow(state, request, source);
}

/**
 * {@link authenticateClient} for the request path: throws its refusals, and answers
 * synchronously (undefined) unless the key store has to be asked, so a static or cached key
 * costs no promise.
 */
export function authenticateNow(
  state: ClientAuthState,
  request: FastifyRequest,
  source: KeySource,
): Promise<void> | undefined {
  if (state.open) return undefined;
  const secret = presentedKey(request, source);
  const where =
    source === 'authorization'
      ? 'an Authorization: Bearer header or an x-api-key header'
      : 'an x-switchyard-key header';
  if (secret === undefined)
    throw new SwitchyardError('authentication_error', `Missing API key: send it in ${where}.`);
  // a key verified moments ago after this same comparison failed is not the master key: its
  // requests skip the comparison's HMAC (see VerifiedSecrets)
  const master = state.masterKey;
  if (
    master !== undefined &&
    state.registry?.heldAsNotMaster(secret, master) !== true &&
    heldSecretEquals(state, master, secret)
  ) {
    request.switchyardMetadata.apiKeyId = 'master';
    request.switchyardMetadata.apiKeyName = 'master';
    return undefined;
  }
  if (
    state.registry === undefined ||
    !secret.startsWith(KEY_PREFIX) ||
    secret.length > MAX_CLIENT_KEY_LENGTH
  ) {
    throw new SwitchyardError('authentication_error', REFUSALS.unknown);
  }
  const check = state.registry.checkNow(secret, master);
  if (check instanceof Promise) return check.then((settled) => identify(request, settled));
  identify(request, check);
  return undefined;
}

function identify(request: FastifyRequest, check: KeyCheck): void {
  if (!check.ok) throw new SwitchyardError('authentication_error', REFUSALS[check.refusal]);
  const { key } = check;
  request.switchyardKey = key;
  request.switchyardMetadata.apiKeyId = key.id;
  request.switchyardMetadata.apiKeyName = key.name;
  if (key.customerId !== null) {
    request.switchyardMetadata.customerId = key.customerId;
    request.switchyardMetadata.keyCustomerId = key.customerId;
  }
}
