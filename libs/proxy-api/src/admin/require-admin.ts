import { SwitchyardError } from '@switchyard/proxy-core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { heldSecretEquals } from '../keys/key-secret';
import { presentedKey } from '../keys/client-key-auth';
import { sendErrorReply } from '../http/send-error-reply';
import { isSwitchyardRequestStarted } from '../http/switchyard-request';
import {
  hostNameOf,
  isLocalHostName,
  isLocalOrigin,
  isLoopbackAddress,
  localHostNames,
} from '../http/loopback-host';
import { PRODUCTION_DEFAULTS, type OptionNames } from '../production/production-options';

/** What `requireAdmin` checks against, decorated on the app by the Switchyard routes. */
export interface AdminAuthState {
  /** The master key, or undefined when the admin API is disabled. */
  readonly masterKey: string | undefined;
  /** Open mode (no keys of any kind configured): admin routes pass for this machine only (see `requireAdmin`). */
  readonly open: boolean;
  /** Host names (as `hostNameOf` gives them) an open app also serves admin routes under, from any address. @default none */
  readonly allowedHosts?: ReadonlySet<string>;
  /** How the open-mode refusals name the master key and `admin.allowedHosts`. @default PRODUCTION_DEFAULTS.optionNames */
  readonly optionNames?: Pick<OptionNames, 'masterKey' | 'adminAllowedHosts'>;
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
 * except in open mode (no keys configured at all), where it answers this machine only: a
 * Host of this machine (loopback, or 0.0.0.0 and `[::]`, which reach it) over a loopback
 * connection, or a Host listed in `admin.allowedHosts`. It needs only the headers: as an
 * `onRequest` hook it refuses before the body is read or parsed (it also works as a
 * `preHandler`, but then a body is parsed and validated first). On a route added to the app
 * `createApp()` returns, a refusal is answered here with the status and body the Switchyard
 * routes give (that app's error handler is Fastify's default, or yours); on theirs it is thrown
 * to their error handler and error hooks.
 * @example
 * app.get('/admin/things', { onRequest: requireAdmin }, handler);
 */
export async function requireAdmin(
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  try {
    checkAdmin(request);
  } catch (error) {
    // the Switchyard routes' onRequest hook starts each of their requests before this one runs
    if (isSwitchyardRequestStarted(request)) throw error;
    return sendErrorReply(request, reply, error);
  }
  return undefined;
}

function checkAdmin(request: FastifyRequest): void {
  const state = request.server.switchyardAdminAuth;
  if (state?.open === true) {
    refuseUnlessLocal(request, state.allowedHosts, howToEnable(state.optionNames));
    return;
  }
  if (state?.masterKey === undefined) {
    throw new SwitchyardError('permission_denied', 'The admin API is disabled: no master key is configured.');
  }
  const secret = presentedKey(request, 'authorization');
  if (secret === undefined)
    throw new SwitchyardError(
      'authentication_error',
      'Missing master key: send it in an Authorization: Bearer header.',
    );
  if (!heldSecretEquals(state, state.masterKey, secret))
    throw new SwitchyardError('authentication_error', 'The master key is not valid.');
}

/** The fixes an open-mode refusal names, in the option names the app was given. */
function howToEnable(names: AdminAuthState['optionNames'] = {}): string {
  const { masterKey, adminAllowedHosts } = { ...PRODUCTION_DEFAULTS.optionNames, ...names };
  return `Configure ${masterKey} to serve the admin API to whoever holds it, or list the Host name this client uses in ${adminAllowedHosts}.`;
}

/**
 * An open app's admin API reads the request log, usage and runs without a credential, so it
 * answers only what is surely this machine. The Host, because a page on another site that
 * rebinds its DNS name to 127.0.0.1 reaches a loopback listener with its own name as the Host;
 * the socket's address, because a client on another machine can send `Host: localhost`. The
 * socket and not `request.ip`: `X-Forwarded-For` is the client's to write. A listed Host is
 * served from any address: listing it says the app is meant to be reached under that name.
 * The Origin, whatever the Host: a page on another site needs no rebinding to send a request
 * to http://127.0.0.1:<port> from this machine's browser (loopback Host, loopback socket), and
 * with `cors.origin: true` it reads the answer; browsers send Origin on every such request.
 */
function refuseUnlessLocal(
  request: FastifyRequest,
  allowed: ReadonlySet<string> | undefined,
  fixes: string,
): void {
  const host = request.headers.host;
  const name = host === undefined ? '' : hostNameOf(host);
  const origin = request.headers.origin;
  if (origin !== undefined && !isLocalOrigin(origin, allowed))
    throw notLocal(`the request comes from a page whose Origin "${origin}"`, allowed, fixes);
  if (allowed?.has(name) === true) return;
  // this machine's name: loopback, or 0.0.0.0 / [::], which reach it; the socket decides below
  if (!isLocalHostName(name, undefined)) throw notLocal(`the Host "${host ?? ''}"`, allowed, fixes);
  const remote = request.socket.remoteAddress;
  if (remote === undefined || !isLoopbackAddress(remote)) {
    // a unix socket has no remote address: a reverse proxy in front of it may carry anyone's request
    const over =
      remote === undefined
        ? 'over TCP from this machine only (this connection has no address, as over a unix socket)'
        : 'connections from this machine only';
    throw new SwitchyardError(
      'permission_denied',
      `The admin API of an app with no keys (open mode) answers ${over}. ${fixes}`,
    );
  }
}

/** The refusal of a request whose Origin or Host (`what`) names neither a loopback nor a listed host. */
function notLocal(what: string, allowed: ReadonlySet<string> | undefined, fixes: string): SwitchyardError {
  return new SwitchyardError(
    'permission_denied',
    `The admin API of an app with no keys (open mode) answers this machine only, and ${what} is not one of ${localHostNames(allowed)}. ${fixes}`,
  );
}
