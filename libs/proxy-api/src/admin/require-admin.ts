import { SwitchyardError } from '@switchyard/proxy-core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { heldSecretEquals } from '../keys/key-secret';
import { presentedKey } from '../keys/client-key-auth';

/** What `requireAdmin` checks against, decorated on the app by the Switchyard routes. */
export interface AdminAuthState {
  /** The master key, or undefined when the admin API is disabled. */
  readonly masterKey: string | undefined;
  /** Open mode (no keys of any kind configured): admin routes pass too. */
  readonly open: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Admin authentication settings (see `requireAdmin`). */
    switchyardAdminAuth: AdminAuthState | undefined;
  }
}

/**
 * Fastify `onRequest` hook for every `/admin/*` route: requires `Authorization: Bearer
 * <masterKey>` (compared in constant time). Without a master key the admin API is refused,
 * except in open mode (no keys configured at all), where it is as open as the rest of the
 * gateway. It needs only the headers: as an `onRequest` hook it refuses before the body is
 * read or parsed (it also works as a `preHandler`, but then a body is parsed and validated first).
 * @example
 * app.get('/admin/things', { onRequest: requireAdmin }, handler);
 */
export async function requireAdmin(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const state = request.server.switchyardAdminAuth;
  if (state?.open === true) return;
  if (state?.masterKey === undefined) {
    throw new SwitchyardError('permission_denied', 'The admin API is disabled: no master key is configured.');
  }
  const secret = presentedKey(request, 'authorization');
  if (secret === undefined) throw new SwitchyardError('authentication_error', 'Missing master key: send it in an Authorization: Bearer header.');
  if (!heldSecretEquals(state, state.masterKey, secret)) throw new SwitchyardError('authentication_error', 'The master key is not valid.');
}
