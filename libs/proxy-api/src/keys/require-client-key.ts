import { SwitchyardError } from '@switchyard/proxy-core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { OpenModeCheck } from '../http/open-mode-guard';
import { sendErrorReply } from '../http/send-error-reply';
import { settleHook } from '../http/settle-hook';
import { toErrorReply } from '../http/to-error-reply';
import { isSwitchyardRequestStarted, startSwitchyardRequest } from '../http/switchyard-request';
import type { KeyPolicy } from '../limits/key-limits-hook';
import { authenticateNow, type ClientAuthState } from './client-key-auth';

/** What `requireClientKey` checks against: the client authentication of the `/v1` routes, filled in by the Switchyard routes at start. */
export interface ClientKeyGuard {
  readonly auth: ClientAuthState;
  /** In open mode, the Host and Origin check; undefined with keys, or when `allowedHosts` holds `*`. */
  readonly openCheck: OpenModeCheck | undefined;
  /** The keys' limits; undefined refuses nothing (before start, no key authenticates anyway). */
  readonly policy: KeyPolicy | undefined;
  /** Counts a refusal in the app's metrics; undefined with metrics off (set once they are made). */
  countRefusal: ((request: FastifyRequest, error: SwitchyardError) => void) | undefined;
}

// The app's guard is a decoration under a Symbol only this module holds, not a name declared on
// FastifyInstance: declared, it would put the guard (and KeyPolicy, KeyLimiter, ... with it) in
// every embedder's types, and let any plugin reach it and change what a key is checked against
const CLIENT_KEY_GUARD = Symbol('switchyard.clientKeyGuard');

/**
 * Decorates `app` (the app `createApp()` returns) with a guard that refuses every key until the
 * Switchyard routes fill it in at start: a decoration made there serves the app's own routes,
 * in every scope, where one made in the routes' scope would not reach them.
 */
export function decorateClientKeyGuard(app: FastifyInstance): void {
  app.decorate(CLIENT_KEY_GUARD, {
    auth: { open: false, registry: undefined, masterKey: undefined },
    openCheck: undefined,
    policy: undefined,
    countRefusal: undefined,
  } satisfies ClientKeyGuard);
}

/**
 * Fills in the guard `createApp()` decorated its app with (seen from the routes' scope), or,
 * with the routes mounted in an app of your own, decorates the routes' scope with `guard`.
 */
export function installClientKeyGuard(app: FastifyInstance, guard: ClientKeyGuard): ClientKeyGuard {
  if (app.hasDecorator(CLIENT_KEY_GUARD))
    return Object.assign(app.getDecorator<ClientKeyGuard>(CLIENT_KEY_GUARD), guard);
  app.decorate(CLIENT_KEY_GUARD, guard);
  return guard;
}

/** The guard of the app a route belongs to; undefined outside the app `createApp()` returns. */
function clientKeyGuardOf(server: FastifyInstance): ClientKeyGuard | undefined {
  return server.hasDecorator(CLIENT_KEY_GUARD)
    ? server.getDecorator<ClientKeyGuard>(CLIENT_KEY_GUARD)
    : undefined;
}

/**
 * Fastify hook that authenticates a route you add to the app `createApp()` returns as the
 * `/v1` routes are: the key from `Authorization: Bearer` or `x-api-key` (static keys, the key
 * store's virtual keys, the master key; revoked, expired and disabled keys refused), then the
 * key's limits (requests and tokens per minute, requests in flight, budget spent) with its
 * lease given back when the response ends. The route's model and cost are unknown to the
 * gateway: the key's model list is not checked, nothing is reserved or charged. In open mode
 * (no keys configured) it serves this machine's clients only, as `/v1` does: a Host of this
 * machine (loopback, 0.0.0.0 or `[::]`) or of `allowedHosts`, and no page of another site. A refusal is answered here with the
 * status and body `/v1/chat/completions` gives, whatever error handler the app has. The
 * handler finds the key in `request.switchyardMetadata.apiKeyId` (`apiKeyName`; `master` for
 * the master key, unset in open mode) and the whole virtual key in `request.switchyardKey`.
 * Use it as `onRequest` (the key is checked before the body is read) or `preHandler`; given
 * twice on one route (a route hook and an `addHook`, say), it admits the request once. Added to
 * the whole app (`app.addHook('onRequest', requireClientKey)`), it leaves the `/v1` and `/proxy`
 * routes to their own checks.
 * @example
 * app.post('/tools/search', { onRequest: requireClientKey }, async (request) => ({ key: request.switchyardMetadata.apiKeyId }));
 */
export function requireClientKey(
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  const guard = clientKeyGuardOf(request.server);
  if (guard === undefined) {
    // switchyardRoutes mounted in another app keeps its keys in its own scope: refuse, never serve unchecked
    sendErrorReply(
      request,
      reply,
      new SwitchyardError(
        'internal_error',
        'requireClientKey guards routes of the app createApp() returns: this route is outside it, so it has no client keys to check.',
      ),
    );
    return;
  }
  // a Switchyard route (the hook added to the whole app runs on them too) checks its keys itself, with
  // its own endpoint's limits: admitted here as well, the request would hold two leases and leak one
  if (request.routeOptions.config.switchyardChecksClientKeys === true) {
    done();
    return;
  }
  // a route of the app's own (outside the Switchyard routes' scope) has not been started by their hooks
  if (!isSwitchyardRequestStarted(request)) startSwitchyardRequest(request, reply);
  // a second run on the same request (the hook given twice) would take a second lease: the
  // request would count twice against rpm, and a max_parallel: 1 key be refused its own request
  else if (guard.policy?.admitted(request) === true) {
    done();
    return;
  }
  settleHook(
    () => admit(guard, request, reply),
    (error) => {
      if (error === undefined) {
        done();
        return;
      }
      // outside the Switchyard routes' scope no refusal report runs: counted here, or a key
      // guessed at on this route would leave no trace in the metrics
      const refusal = toErrorReply(error);
      guard.countRefusal?.(request, refusal);
      sendErrorReply(request, reply, refusal);
    },
  );
}

/** The `/v1` routes' checks in their order: the open-mode guard, or the key and then its limits. */
function admit(
  guard: ClientKeyGuard,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> | undefined {
  if (guard.auth.open) {
    const refusal = guard.openCheck?.(request);
    if (refusal !== undefined) throw refusal;
    return undefined;
  }
  const authenticating = authenticateNow(guard.auth, request, 'authorization');
  if (authenticating === undefined) return guard.policy?.enforce(request, reply, undefined);
  return authenticating.then(() => guard.policy?.enforce(request, reply, undefined));
}
