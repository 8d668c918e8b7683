import {
  SwitchyardError,
  type AttemptRecord,
  type Gateway,
  type RequestContext,
  type RequestMetadata,
} from '@switchyard/proxy-core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { keyAllowsModel } from '../keys/key-model-match';
import type { VirtualKey } from '../keys/virtual-key';
import type { CostEstimateInput } from './cost-estimator';
import type { Admission, KeyLimiter, RequestOutcome } from './key-limiter';
import type { Lease } from './limit-backend';

interface Pending {
  lease: Lease;
  settled: boolean;
}

/**
 * The per-request side of key policy: the allowed-models check, admission against the
 * key's limits before the handler, and settlement after it (from the engine's
 * `onRequestEnd`, where tokens and `context.costUsd` are known, also for a request the client
 * abandoned; or, for requests that never reached a route, when the response closes). A `/proxy`
 * exchange settles from the `onRequestEnd` of its `gateway.report()`, which comes after the
 * response closed.
 */
export class KeyPolicy {
  readonly #limiter: KeyLimiter;
  // the engine's context carries the request's metadata object itself, so it finds its lease
  readonly #pending = new WeakMap<RequestMetadata, Pending>();

  constructor(limiter: KeyLimiter) {
    this.#limiter = limiter;
  }

  /** Taps the engine so each request settles with what it actually used. */
  attach(gateway: Gateway): void {
    gateway.hooks.onRequestEnd.tap('switchyard-key-limits', (context: RequestContext) => {
      const pending = this.#pending.get(context.metadata);
      if (pending === undefined) return;
      // a summary the condenser asked for on this request's behalf is charged with it
      const summary = context.condensation?.summary;
      // the universal proxy makes no engine attempts: it reached the upstream once it has its answer
      const reachedUpstream =
        context.attempts.some(reachedProvider) ||
        (context.endpoint === 'proxy' && context.upstreamMs !== undefined);
      // tpm counts tokens spent upstream: a cache hit's answer spent none (and costs 0), the
      // summary the condenser asked for before the lookup did
      const own = context.cacheHit ? 0 : (context.usage?.total_tokens ?? 0);
      this.#settle(pending, {
        tokens: own + (summary?.usage?.total_tokens ?? 0),
        costUsd: withSummaryCost(
          context.cacheHit ? (context.costUsd ?? 0) : context.costUsd,
          summary?.costUsd,
          reachedUpstream,
        ),
        reachedUpstream,
      });
    });
  }

  /**
   * Checks the model and admits the request against its key's limits (a preHandler step).
   * Throws a refusal; answers synchronously (undefined) unless the limiter has to wait. With no
   * `endpoint`, a route of the embedder's (`requireClientKey`): the gateway knows neither its
   * model nor its cost, so no model is checked and nothing is reserved, only the key's limits
   * as they stand (requests per minute, tokens per minute, requests in flight, budget spent).
   */
  enforce(
    request: FastifyRequest,
    reply: FastifyReply,
    endpoint: CostEstimateInput['endpoint'] | undefined,
  ): Promise<void> | undefined {
    const key = request.switchyardKey;
    if (key === undefined) return undefined;
    const input = endpoint === undefined ? undefined : this.#checkModel(request, key, endpoint);
    const admission = this.#limiter.admit(key, input);
    if (admission instanceof Promise) return admission.then((settled) => this.#hold(request, reply, settled));
    this.#hold(request, reply, admission);
    return undefined;
  }

  /**
   * Whether `request` was admitted already: it holds a lease (set where the lease is taken,
   * keyed by the request's metadata object). `requireClientKey` on one route twice (as
   * `onRequest` and `preHandler`, or as a route hook and an `addHook`) admits it once.
   */
  admitted(request: FastifyRequest): boolean {
    return this.#pending.has(request.switchyardMetadata);
  }

  /** Refuses a model the key may not use; what the limiter estimates the request's cost from. */
  #checkModel(
    request: FastifyRequest,
    key: VirtualKey,
    endpoint: CostEstimateInput['endpoint'],
  ): CostEstimateInput {
    // the proxy streams bodies through unread, so it cannot check a model against the list:
    // a key limited to some models may not use it at all rather than use any model through it
    if (endpoint === 'proxy' && !this.#allowsEveryModel(key)) {
      throw new SwitchyardError(
        'model_not_allowed',
        'This API key is limited to some models, so it may not use /proxy: the proxy does not read the model of a request.',
      );
    }
    const body = request.body;
    const model =
      typeof body === 'object' && body !== null && typeof (body as { model?: unknown }).model === 'string'
        ? (body as { model: string }).model
        : undefined;
    if (model !== undefined && !keyAllowsModel(key, model)) {
      throw new SwitchyardError('model_not_allowed', `This API key may not use the model "${model}".`, {
        param: 'model',
      });
    }
    return { model: model ?? '', endpoint, body };
  }

  #hold(request: FastifyRequest, reply: FastifyReply, admission: Admission): void {
    void reply.headers(admission.headers);
    if (!admission.admitted) throw admission.error;
    const pending: Pending = { lease: admission.lease, settled: false };
    this.#pending.set(request.switchyardMetadata, pending);
    // a response closes once: a plain listener, no once() wrapper (a bound function per request).
    // Once a route made the engine context, the engine (or, for a proxy exchange, its
    // gateway.report()) ends the request through onRequestEnd on every path, a client that went
    // away included, and only then are the tokens and cost known: a stream the client cut is
    // charged what it used so far, or its reservation when that is unknown, not nothing. The
    // response's close often comes first (the abort reaches the upstream after it), so it
    // settles only a request that never reached a route: refused, or closed before the handler.
    reply.raw.on('close', () => {
      if (request.switchyardContext === undefined)
        this.#settle(pending, { tokens: 0, costUsd: undefined, reachedUpstream: false });
    });
    // a client that left while its admission waited (on Redis, for a key lookup) closed the
    // response before that listener was there, and no close comes again: settle now, and end the
    // request here rather than run its handler for no one (a custom route or a refused /proxy
    // path would never settle: the key's parallel slot and reservation held for good)
    if (reply.raw.closed) {
      this.#settle(pending, { tokens: 0, costUsd: undefined, reachedUpstream: false });
      throw new SwitchyardError(
        'client_closed_request',
        'The client went away while its request was admitted.',
      );
    }
  }

  #allowsEveryModel(key: VirtualKey): boolean {
    return key.models.length === 0 || key.models.includes('*');
  }

  #settle(pending: Pending, outcome: RequestOutcome): void {
    if (pending.settled) return;
    pending.settled = true;
    void this.#limiter.settle(pending.lease, outcome);
  }
}

/**
 * Whether an attempt reached its provider: it answered, or its call was made and then abandoned
 * (the client left, the request's deadline passed) while the provider worked on it, which the
 * provider bills though no answer came. Failures the provider answered (a 5xx, a 429) or never
 * saw (a refused connection) are not billed.
 */
function reachedProvider(attempt: AttemptRecord): boolean {
  if (attempt.ok) return true;
  const code = attempt.error?.code;
  return attempt.called === true && (code === 'client_closed_request' || code === 'request_timeout');
}

/**
 * A request's cost with its summary call's: a sum of known prices, unknown (null) when either
 * is unknown, and the request's own when the summary was not priced at all (no pricing). A
 * request with no cost of its own (no usage) cost only its summary when it reached no provider;
 * one that did (abandoned, timed out while its provider worked) is unknown, its reservation.
 */
function withSummaryCost(
  cost: number | null | undefined,
  summary: number | null | undefined,
  reachedUpstream: boolean,
): number | null | undefined {
  if (summary === undefined) return cost;
  if (cost === null || summary === null) return null;
  if (cost === undefined) return reachedUpstream ? null : summary;
  return cost + summary;
}
