import { channel } from 'node:diagnostics_channel';
import { SwitchyardError, toSwitchyardError } from '../errors/switchyard-error';
import { runSeries } from '../hooks/call-sync-taps';
import { transportError } from '../http/upstream-error';
import type { GatewayHooks } from '../hooks/gateway-hooks';
import type { Logger } from '../options/logger';
import type { ProviderAdapter } from '../providers/provider-adapter';
import { abortableSleep } from '../resilience/abortable-sleep';
import { AttemptTimer } from '../resilience/attempt-timer';
import { countsAsBreakerFailure } from '../resilience/breaker-failure';
import { refusedBeforeSending } from '../resilience/refused-before-sending';
import type { ResiliencePolicies } from '../resilience/resilience-policies';
import { fullJitterDelayMs } from '../resilience/retry-backoff';
import type { RouteTable } from '../router/route-table';
import type { ResolvedRoute, RouteTarget } from '../router/route-types';
import { targetKey } from '../router/target-key';
import { raceAbort } from '../stream/abort-race';
import type { TargetStats } from '../router/target-stats';
import type { RoutingInput, TargetRouter } from '../router/target-router';
import type { Deadline } from './deadline';
import { observe } from './observe';
import type { AttemptRecord, RequestContext } from './request-context';

/** Published at the end of every upstream attempt. */
export const upstreamRequestChannel = channel('switchyard:upstream:request');

/** What one attempt is given. */
export interface AttemptInput {
  adapter: ProviderAdapter;
  target: RouteTarget;
  /**
   * The attempt's timeouts and its cancellation (an `AbortSource` with a lazily made
   * `signal`); a stream clears the first-content deadline and arms the idle one per chunk.
   */
  timer: AttemptTimer;
  /**
   * Keeps the attempt's limiter slot and in-flight count past the attempt's return (a
   * stream holds them until it ends); call the returned function exactly once then, with the
   * error that ended it if one did (the target's breaker counts it).
   */
  retain: () => (failure?: SwitchyardError) => void;
}

/** What the attempt loop needs from the gateway. */
export interface AttemptEnvironment {
  hooks: GatewayHooks;
  logger: Logger;
  routes: RouteTable;
  providers: ReadonlyMap<string, ProviderAdapter>;
  attemptTimeoutMs: number;
  /** Adapters of the built-in factories, which end a call when it aborts; others are raced against the abort. */
  builtinAdapters: WeakSet<ProviderAdapter>;
  policies: ResiliencePolicies;
  router: TargetRouter;
  stats: TargetStats;
}

/** What the attempt loop knows of the request. */
export interface AttemptRequest {
  routing: RoutingInput;
  /** Limiter weight of a call to `target`: estimated tokens (the prompt once, and each choice's output capped at the target model's limit). */
  weight(target: RouteTarget): number;
  /**
   * Whether an attempt may retain its call past its result (a stream): the breaker then counts
   * the call's outcome when the rest ends. Other calls are counted as they settle.
   */
  streams: boolean;
  /**
   * Why `adapter` cannot take the request at all (embeddings on an adapter without `embed`),
   * asked per target before its breaker and limiter: a refused target spends neither.
   */
  refusal?: (adapter: ProviderAdapter) => SwitchyardError | undefined;
}

type Disposition = 'retry' | 'skip' | 'fallback' | 'fatal';

/** What a failed attempt means for the rest of the request (`route`: the alias requested). */
function dispose(error: SwitchyardError, route: ResolvedRoute): Disposition {
  if (error.code === 'circuit_open' || error.code === 'limiter_rejected') return 'skip';
  // rejected credentials: another target may still answer, a retry of this one will not
  if (error.code === 'upstream_auth_error') return 'skip';
  // this target cannot serve a feature of the request (raised before any upstream call): another may
  if (error.code === 'unsupported_feature') return 'skip';
  if (error.code === 'context_length_exceeded' && route.fallbackOn?.contextLengthExceeded === true)
    return 'fallback';
  if (error.code === 'content_filter' && route.fallbackOn?.contentFilter === true) return 'fallback';
  return error.retryable ? 'retry' : 'fatal';
}

/**
 * Whether a target's failure stands for the rest of the request: its credentials were rejected,
 * its adapter cannot serve the request, or the request does not fit its context. Not an open
 * circuit or a full limiter, which a later pass may find closed or free, nor a content filter,
 * which another answer may pass.
 */
function settles(error: SwitchyardError): boolean {
  return (
    error.code === 'upstream_auth_error' ||
    error.code === 'unsupported_feature' ||
    error.code === 'context_length_exceeded'
  );
}

/**
 * What an attempt's failure tells the client, as the request's final error: a target's own
 * failure (its upstream's answer, or a call that broke or timed out) most; our refusal to call it
 * (its open circuit, its full limiter) less; its adapter's refusal of the request before sending
 * anything (a feature it cannot serve) least. A failure replaces the request's last error unless
 * that says more: an upstream's 429 and its Retry-After are not hidden by the open circuit of a
 * target tried after it, and the client gets `circuit_open` or `limiter_rejected` only when no
 * target was called.
 */
function failureRank(error: SwitchyardError): number {
  if (error.code === 'unsupported_feature' || refusedBeforeSending(error)) return 0;
  if (error.code === 'circuit_open' || error.code === 'limiter_rejected') return 1;
  return 2;
}

/**
 * How long to leave a target alone after it failed: what it asked for, but unless it rate-limited us no
 * longer than the backoff ceiling, so a failing upstream's headers cannot park a request
 * for minutes.
 */
function upstreamPauseMs(error: SwitchyardError, maxDelayMs: number): number | undefined {
  if (error.retryAfterMs === undefined) return undefined;
  return error.code === 'upstream_rate_limited'
    ? error.retryAfterMs
    : Math.min(error.retryAfterMs, maxDelayMs);
}

/**
 * Whether the gateway would call a target now, as far as it can tell before asking its limiter:
 * its adapter takes the request and its circuit admits a call.
 */
function callable(
  env: AttemptEnvironment,
  key: string,
  adapter: ProviderAdapter,
  request: AttemptRequest,
): boolean {
  return request.refusal?.(adapter) === undefined && env.policies.peekBreaker(key)?.admitting !== false;
}

function routesToTry(route: ResolvedRoute, routes: RouteTable): ResolvedRoute[] {
  const list = [route];
  for (const alias of route.fallbacks) {
    const fallback = routes.resolve(alias);
    // an alias listed twice (a resolveRoute tap's route; configured ones are refused) is tried once
    if (fallback !== undefined && !list.includes(fallback)) list.push(fallback);
  }
  return list;
}

/**
 * The resilience pipeline, outermost first: retry (rounds over the route's targets and
 * fallback aliases, with backoff, inside the deadline and the retry budget) -> breaker ->
 * limiter -> per-attempt timeout -> adapter. Within a round, a failed target fails over at
 * once to the next one in strategy order, then to the fallback aliases.
 */
export async function runAttempts<T>(
  env: AttemptEnvironment,
  context: RequestContext,
  route: ResolvedRoute,
  deadline: Deadline,
  request: AttemptRequest,
  attempt: (input: AttemptInput) => Promise<T>,
): Promise<T> {
  const { policies } = env;
  // the attempts' time is the request's upstream time, whether one answered or all failed:
  // either way it is the upstreams', not the gateway's overhead
  const started = performance.now();
  const leave = policies.budget.enter();
  // a retry pass's share of the retry budget, taken when the pass first goes to call a target and
  // held to the pass's end: a pass that calls no one (its targets paused, their circuits open,
  // their limiters refusing) sends the upstreams no load, and holds none
  let releaseRetry: (() => void) | undefined;
  // whether this pass is a retry that has taken no share yet
  let owesRetry = false;
  // made on the first Retry-After: most requests never need it
  let notBefore: Map<string, number> | undefined;
  // when the last backoff meant to wake: a timer may fire a few ms before performance.now() gets
  // there (Node schedules it on the event loop's cached clock, stale after a long loop turn), and
  // the target whose Retry-After the backoff waited out must not be skipped for being "early"
  let wokeAt = 0;
  const plan = routesToTry(route, env.routes);
  let lastError: SwitchyardError | undefined;
  // targets whose failure no later pass changes (rejected credentials, a feature or a request
  // they cannot serve): called once a request, not again on every retry pass
  let settled: string[] | undefined;
  try {
    for (let round = 0; ; round += 1) {
      const keys: string[] = [];
      // when each target of the pass that a later pass may call could be called again: one that
      // failed retryably (at once, or once its pause is over) and one still paused. Not one whose
      // circuit is open or whose limiter refused (its breaker's reset and its limiter's queue are
      // the clocks there), nor one that cannot serve the request: none of those is callable now
      const ready: Array<{ key: string; at: number }> = [];
      aliases: for (let aliasIndex = 0; aliasIndex < plan.length; aliasIndex++) {
        const candidate = plan[aliasIndex] as ResolvedRoute;
        // counted when the fallback alias calls a target: one whose targets were all tried is no move
        let fallingBack = aliasIndex > 0 && lastError !== undefined;
        for (const target of env.router.order(candidate, request.routing)) {
          const adapter = env.providers.get(target.provider);
          if (adapter === undefined) continue;
          const key = targetKey(target);
          // once per pass, however many of the aliases tried name it (a few keys: a scan is cheap)
          if (keys.includes(key) || settled?.includes(key) === true) continue;
          keys.push(key);
          const wait = notBefore?.get(key);
          // the upstream asked us to wait before calling it again
          if (wait !== undefined && wait > Math.max(performance.now(), wokeAt)) {
            ready.push({ key, at: wait });
            continue;
          }
          // the retry's share, for the first target this pass goes to call: a refusal ends the
          // request as a refused retry did, before the target's hooks run
          const spending = owesRetry && callable(env, key, adapter, request);
          if (spending) {
            releaseRetry = policies.budget.tryRetry();
            if (releaseRetry === undefined) {
              countBudgetRefusal(policies, context);
              // a retry pass follows one that failed: its error is set
              throw lastError as SwitchyardError;
            }
            owesRetry = false;
          }
          if (fallingBack) {
            policies.counters.fallbacks += 1;
            fallingBack = false;
          }
          const index = context.attempts.length;
          try {
            return await tryTarget(env, context, candidate, target, adapter, deadline, request, attempt);
          } catch (thrown) {
            // called no one after all (its limiter refused it, its circuit opened while it waited, its
            // adapter refused before sending): the share goes back, for a target this pass may call
            if (spending && context.attempts[index]?.called !== true) {
              releaseRetry?.();
              releaseRetry = undefined;
              owesRetry = true;
            }
            const error = toSwitchyardError(thrown, adapter.name);
            if (lastError === undefined || failureRank(error) >= failureRank(lastError)) lastError = error;
            if (deadline.aborted) throw error;
            // the requested alias's fallbackOn rules its whole plan, as its fallbacks list does
            const disposition = dispose(error, route);
            if (disposition === 'fatal') throw error;
            if (disposition !== 'retry' && settles(error)) (settled ??= []).push(key);
            if (disposition === 'fallback') continue aliases;
            if (disposition === 'retry') {
              const pauseMs = upstreamPauseMs(error, policies.retry.maxDelayMs);
              const at = performance.now() + (pauseMs ?? 0);
              if (pauseMs !== undefined) (notBefore ??= new Map()).set(key, at);
              ready.push({ key, at });
            }
            env.logger.warn(
              { requestId: context.requestId, provider: adapter.name, model: target.model, code: error.code },
              'upstream attempt failed; trying the next target',
            );
          }
        }
      }
      if (lastError === undefined)
        throw new SwitchyardError('model_not_found', `No provider is available for model "${route.alias}".`);
      releaseRetry?.();
      releaseRetry = undefined;
      owesRetry = false;
      // the first moment a target that may be called again can be: when every such target asked
      // for a pause, the first pause to end. One whose circuit is open now is not waited for (its
      // own failure may have opened it): the breaker's reset is its clock, and a pass meant for it
      // would call no one
      let earliest = Infinity;
      for (const { key, at } of ready)
        if (policies.peekBreaker(key)?.state !== 'open') earliest = Math.min(earliest, at);
      // a pass with no target worth calling again (none failed retryably or waits out a pause: the
      // rest were refused, their circuits open, their limiters full) ends the request
      if (earliest === Infinity || round >= policies.retry.maxRetries) throw lastError;
      const now = performance.now();
      const delayMs = Math.max(
        fullJitterDelayMs(round, policies.retry.baseDelayMs, policies.retry.maxDelayMs),
        Math.ceil(earliest - now),
      );
      // the deadline's own end: the request's clock started before its hooks and route ran
      if (now + delayMs >= deadline.endsAt) throw lastError;
      // the share is taken when the pass calls a target; with none to be had now, the request ends
      // at once rather than after its backoff
      if (!policies.budget.canRetry()) {
        countBudgetRefusal(policies, context);
        throw lastError;
      }
      policies.counters.retries += 1;
      policies.emit({ type: 'retry', round: round + 1, delayMs, requestId: context.requestId });
      wokeAt = now + delayMs;
      await abortableSleep(delayMs, deadline);
      owesRetry = true;
    }
  } finally {
    context.upstreamMs = performance.now() - started;
    releaseRetry?.();
    leave();
    // every attempt failed: the request is the failure it ends with, that target's in the row, the
    // metrics and provider health, not a request that reached no provider; not a later target that
    // was never called (its circuit open, its limiter full, unsupported_feature) while an earlier
    // one's failure stands (see failureRank)
    if (context.provider === undefined) {
      const last =
        context.attempts.findLast((attempt) => attempt.error !== undefined && attempt.error === lastError) ??
        context.attempts.at(-1);
      if (last !== undefined) {
        context.provider = last.provider;
        context.providerType = last.providerType;
        context.upstreamModel = last.model;
      }
    }
  }
}

/** Counts a retry the budget refused (the request then ends with its last error). */
function countBudgetRefusal(policies: ResiliencePolicies, context: RequestContext): void {
  policies.counters.retryBudgetExhausted += 1;
  policies.emit({ type: 'retry_budget_exhausted', requestId: context.requestId });
}

/** One attempt at one target: breaker check -> limiter -> breaker -> per-attempt timeout -> adapter. */
async function tryTarget<T>(
  env: AttemptEnvironment,
  context: RequestContext,
  candidate: ResolvedRoute,
  target: RouteTarget,
  adapter: ProviderAdapter,
  deadline: Deadline,
  request: AttemptRequest,
  attempt: (input: AttemptInput) => Promise<T>,
): Promise<T> {
  const key = targetKey(target);
  const index = context.attempts.length;
  // awaited only when a tap is asynchronous: see runSeries
  const before = runSeries(
    env.hooks.beforeAttempt,
    { index, alias: candidate.alias, target, server: adapter.server },
    context,
  );
  if (before !== undefined) await before;
  const record: AttemptRecord = {
    index,
    alias: candidate.alias,
    provider: adapter.name,
    providerType: adapter.type,
    model: target.model,
    startedAt: Date.now(),
    durationMs: 0,
    ok: false,
    called: false,
  };
  const start = performance.now();
  let timer: AttemptTimer | undefined;
  let releaseSlot: (() => void) | undefined;
  let endInFlight: (() => void) | undefined;
  let retained = false;
  // whether the upstream call was made: a slot the breaker refused to use, or whose call the
  // adapter refused before sending anything, gives its request and tokens back to the
  // per-minute limits
  let callMade = false;
  let released = false;
  const breaker = env.policies.breaker(key);
  // a retained attempt's rest (a stream after its first content), settled by releaseAll: what
  // the breaker counts as the call's outcome; made only for a breaker, which awaits it
  let rest: Promise<void> | undefined;
  let settleRest: ((failure: SwitchyardError | undefined) => void) | undefined;
  const releaseAll = (failure?: SwitchyardError): void => {
    // once: an attempt given up on abort may still reach retain() when its adapter answers late
    if (released) return;
    released = true;
    timer?.dispose();
    releaseSlot?.();
    endInFlight?.();
    settleRest?.(failure);
  };
  const call = async (): Promise<T> => {
    callMade = true;
    const attemptTimer = new AttemptTimer(env.attemptTimeoutMs, adapter.name, deadline);
    timer = attemptTimer;
    try {
      const pending = attempt({
        adapter,
        target,
        timer: attemptTimer,
        retain: () => {
          retained = true;
          if (breaker !== undefined && !released && rest === undefined)
            rest = new Promise<void>((resolve, reject) => {
              settleRest = (failure) => (failure === undefined ? resolve() : reject(failure));
            });
          return releaseAll;
        },
      });
      // a plugin's adapter that ignores the abort must not hold the request past its deadlines
      const result = await (env.builtinAdapters.has(adapter) ? pending : raceAbort(pending, attemptTimer));
      env.stats.recordLatency(key, performance.now() - start);
      return result;
    } catch (thrown) {
      // a fired timeout is the reason, whatever the adapter made of the abort; the abort's own
      // reason thrown (a call given up on abort, see raceAbort) reads as the kit reads it
      const error =
        attemptTimer.aborted && attemptTimer.reason instanceof SwitchyardError
          ? attemptTimer.reason
          : attemptTimer.aborted && thrown === attemptTimer.reason
            ? transportError(adapter.name, thrown, attemptTimer)
            : toSwitchyardError(thrown, adapter.name);
      // the adapter refused the request before sending anything (a feature this target cannot
      // serve, a field it cannot translate): the upstream was not called, so the call spent no
      // request or tokens
      if (refusedBeforeSending(error)) callMade = false;
      // a failing target must not keep the lead in lowest-latency routing: its failure weighs
      // as a whole attempt timeout (a fast 500 would otherwise look like a fast answer)
      if (countsAsBreakerFailure(error))
        env.stats.recordLatency(key, Math.max(performance.now() - start, env.attemptTimeoutMs));
      throw error;
    }
  };
  try {
    const refusal = request.refusal?.(adapter);
    if (refusal !== undefined) throw refusal;
    // an open circuit spends no limiter slot; the slot is taken outside the breaker, so a
    // refusal (a full queue in front of a hung target) is not counted as the target's success
    breaker?.assertAdmits();
    // in flight from here and timed from the attempt's start, its limiter wait included: a target
    // whose limiter holds calls back is busy and slow to answer, not idle and fast
    endInFlight = env.stats.begin(key);
    const limiter = env.policies.limiter(key, target.limits);
    if (limiter !== undefined) {
      const permit = await limiter.acquire(request.weight(target), deadline);
      releaseSlot = () => permit.release(!callMade);
    }
    const result =
      breaker === undefined
        ? await call()
        : await breaker.run(call, request.streams ? () => rest : undefined);
    record.ok = true;
    context.provider = adapter.name;
    context.providerType = adapter.type;
    context.upstreamModel = target.model;
    return result;
  } catch (thrown) {
    const error = toSwitchyardError(thrown, adapter.name);
    record.error = error;
    throw error;
  } finally {
    if (!retained || !record.ok) releaseAll();
    record.called = callMade;
    record.durationMs = performance.now() - start;
    context.attempts.push(record);
    observe(env.hooks.onAttempt, env.logger, record, context);
    if (upstreamRequestChannel.hasSubscribers) {
      upstreamRequestChannel.publish({
        requestId: context.requestId,
        ...record,
        errorCode: record.error?.code,
        // the gateway's hooks: a subscriber serving one gateway of several keeps to its own
        source: env.hooks,
      });
    }
  }
}
