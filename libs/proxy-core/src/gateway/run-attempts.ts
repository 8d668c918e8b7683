import { channel } from 'node:diagnostics_channel';
import { SwitchyardError, toSwitchyardError } from '../errors/switchyard-error';
import type { GatewayHooks } from '../hooks/gateway-hooks';
import type { Logger } from '../options/logger';
import type { ProviderAdapter } from '../providers/provider-adapter';
import { orderTargets } from '../router/order-targets';
import type { RouteTable } from '../router/route-table';
import type { ResolvedRoute, RouteTarget } from '../router/route-types';
import { startDeadline, type Deadline } from './deadline';
import { observe } from './observe';
import type { AttemptRecord, RequestContext } from './request-context';

/** Published at the end of every upstream attempt. */
export const upstreamRequestChannel = channel('switchyard:upstream:request');

/** What one attempt is given. */
export interface AttemptInput {
  adapter: ProviderAdapter;
  target: RouteTarget;
  signal: AbortSignal;
  /** The attempt's own deadline; a stream clears it once content arrived. */
  attemptDeadline: Deadline;
}

/** What the attempt loop needs from the gateway. */
export interface AttemptEnvironment {
  hooks: GatewayHooks;
  logger: Logger;
  routes: RouteTable;
  providers: ReadonlyMap<string, ProviderAdapter>;
  attemptTimeoutMs: number;
}

function routesToTry(route: ResolvedRoute, routes: RouteTable): ResolvedRoute[] {
  const list = [route];
  for (const alias of route.fallbacks) {
    const fallback = routes.resolve(alias);
    if (fallback !== undefined) list.push(fallback);
  }
  return list;
}

/**
 * Runs `attempt` against the route's targets in strategy order, then against its fallback
 * aliases, until one succeeds or a non-retryable error (or the request's own end) stops it.
 */
export async function runAttempts<T>(
  env: AttemptEnvironment,
  context: RequestContext,
  route: ResolvedRoute,
  requestSignal: AbortSignal,
  attempt: (input: AttemptInput) => Promise<T>,
): Promise<T> {
  let lastError: SwitchyardError | undefined;
  for (const candidate of routesToTry(route, env.routes)) {
    for (const target of orderTargets(candidate)) {
      const adapter = env.providers.get(target.provider);
      if (adapter === undefined) continue;
      const index = context.attempts.length;
      await env.hooks.beforeAttempt.promise({ index, alias: candidate.alias, target }, context);
      const attemptDeadline = startDeadline(
        env.attemptTimeoutMs,
        'upstream_timeout',
        `Provider "${target.provider}" did not answer within ${env.attemptTimeoutMs} ms.`,
      );
      const signal = AbortSignal.any([requestSignal, attemptDeadline.signal]);
      const startedAt = Date.now();
      const start = performance.now();
      const record: AttemptRecord = {
        index,
        alias: candidate.alias,
        provider: adapter.name,
        providerType: adapter.type,
        model: target.model,
        startedAt,
        durationMs: 0,
        ok: false,
      };
      try {
        const result = await attempt({ adapter, target, signal, attemptDeadline });
        record.ok = true;
        record.durationMs = performance.now() - start;
        context.provider = adapter.name;
        context.providerType = adapter.type;
        context.upstreamModel = target.model;
        return result;
      } catch (thrown) {
        const error = signal.aborted && signal.reason instanceof SwitchyardError ? signal.reason : toSwitchyardError(thrown, adapter.name);
        record.durationMs = performance.now() - start;
        record.error = error;
        lastError = error;
        if (requestSignal.aborted || !error.retryable) throw error;
        env.logger.warn({ requestId: context.requestId, provider: adapter.name, model: target.model, code: error.code }, 'upstream attempt failed; trying the next target');
      } finally {
        attemptDeadline.clear();
        context.attempts.push(record);
        observe(env.hooks.onAttempt, env.logger, record, context);
        if (upstreamRequestChannel.hasSubscribers) {
          upstreamRequestChannel.publish({ requestId: context.requestId, ...record, errorCode: record.error?.code });
        }
      }
    }
  }
  throw lastError ?? new SwitchyardError('model_not_found', `No provider is available for model "${route.alias}".`);
}
