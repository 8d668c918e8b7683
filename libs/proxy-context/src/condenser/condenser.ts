import {
  SwitchyardError,
  createRequestContext,
  isChatRequestEndpoint,
  ownEntry,
  requestedOutputTokens,
  silentLogger,
  type CallOptions,
  type ChatCompletion,
  type ChatCompletionRequest,
  type ChatMessage,
  type CondensationReport,
  type GatewayHooks,
  type GatewayPlugin,
  type Logger,
  type RequestContext,
  type RequestDirectives,
} from '@switchyard/proxy-core';
import {
  dropOldest,
  isCondenseStrategy,
  middleOut,
  truncateLong,
  type CondenseStrategy,
  type Selection,
} from './condense-strategies';
import { CONDENSER_DEFAULTS, validateCondenserOptions, type CondenserOptions } from './condenser-options';
import { toUnits, type MessageUnit } from './message-units';
import { SUMMARY_INSTRUCTION, summaryMessage, transcriptOf } from './summarize-units';
import {
  countMessage,
  countResponseFormat,
  countTools,
  tokenCounterForModels,
  tokenizerFamilies,
  upperBoundTokens,
  type TokenCounter,
} from './token-counter';

const PLUGIN_NAME = 'switchyard:condenser';
/** `metadata.purpose` of the condenser's own summary requests, which are never condensed. */
export const SUMMARY_PURPOSE = 'condenser-summary';
const REPLY_PRIMING = 3;

/** The chat function `summarize` calls: the gateway's own `chat`. */
export type ChatFunction = (request: ChatCompletionRequest, options?: CallOptions) => Promise<ChatCompletion>;

/** Counters of the condenser (for metrics). */
export interface CondenserStats {
  condensed: number;
  /** Requests refused with `context_length_exceeded`. */
  refused: number;
  /** Summaries that failed (the turns were then dropped without one). */
  summaryFailures: number;
}

/**
 * A response cache the condenser asks before condensing (`ResponseCache` is one), so a request
 * the cache answers is neither tokenised nor summarised, and a miss's answer is stored under the
 * request as it was before condensing.
 */
export interface CondenserCache {
  /** Looks the request up as it stands; true when the cache will answer it. */
  lookAhead(request: ChatCompletionRequest, context: RequestContext): Promise<boolean>;
  /** Tells the cache that the request it looked up goes on condensed, as `replacement`. */
  replaced(
    original: ChatCompletionRequest,
    replacement: ChatCompletionRequest,
    context: RequestContext,
  ): void;
}

/** What a condensing pass produced. */
interface Outcome {
  messages: ChatMessage[];
  strategy: string;
  removed: number;
  tokens: number;
  summary?: CondensationReport['summary'];
}

/**
 * The context condenser: when a request would overflow its model's context window (from
 * the model catalog, minus `max_tokens` up to the model's output limit), or when asked, it
 * fits the messages with a strategy, keeping system and developer messages (between turns too,
 * in place) and tool-call/tool-result pairs whole. The result always fits, or the request fails with `context_length_exceeded`.
 * @example
 * const condenser = createCondenser({ catalog: createModelCatalog(), summary: { model: 'cheap' } });
 * const gateway = createGateway({ providers, models, plugins: [condenser] });
 * condenser.connect(gateway); // lets `summarize` ask the summary model through the gateway
 */
export class Condenser implements GatewayPlugin {
  readonly name = PLUGIN_NAME;
  readonly #options: CondenserOptions;
  readonly #logger: Logger;
  #chat: ChatFunction | undefined;
  #cache: CondenserCache | undefined;
  readonly #counters: CondenserStats = { condensed: 0, refused: 0, summaryFailures: 0 };

  constructor(options: CondenserOptions) {
    validateCondenserOptions(options);
    this.#options = Object.freeze({ ...options });
    this.#logger = options.logger ?? silentLogger;
  }

  /** Gives `summarize` the gateway's chat function (call after creating the gateway). */
  connect(gateway: { chat: ChatFunction }): void {
    this.#chat = (request, options) => gateway.chat(request, options);
  }

  /**
   * Sets the response cache asked before condensing, as the design orders them: the cache lookup
   * first, the condenser on a miss (`createContextPlugins` sets its cache); undefined stops it.
   */
  setCache(cache: CondenserCache | undefined): void {
    this.#cache = cache;
  }

  apply(hooks: GatewayHooks): void {
    hooks.beforeRequest.tapPromise(PLUGIN_NAME, async (request, context) => this.condense(request, context));
  }

  stats(): CondenserStats {
    return { ...this.#counters };
  }

  /** Fits one request (what the `beforeRequest` tap does); returns it unchanged when nothing is needed. */
  async condense(request: ChatCompletionRequest, context: RequestContext): Promise<ChatCompletionRequest> {
    // chat completions and Anthropic's `/v1/messages` (its route sends the engine a chat request, its `system` prompt as leading system messages)
    if (!isChatRequestEndpoint(context.endpoint) || context.metadata['purpose'] === SUMMARY_PURPOSE)
      return request;
    const asked = context.directives?.condense;
    if (asked !== undefined && !isCondenseStrategy(asked)) {
      throw new SwitchyardError(
        'invalid_request',
        `Unknown condensing strategy "${asked}" (known: middle-out, drop-oldest, truncate-long, summarize).`,
        {
          param: 'x-switchyard-condense',
        },
      );
    }
    const perModel = ownEntry(this.#options.models, request.model);
    const configured = asked ?? perModel?.strategy;
    if (configured === undefined && !(this.#options.auto ?? CONDENSER_DEFAULTS.auto)) return request;
    const limits = this.#limits(request, perModel?.maxInputTokens);
    // an unknown model has no window: the condenser stays off
    if (limits === undefined) return request;
    const { budget, tokenizerModels } = limits;
    if (budget <= 0) {
      this.#counters.refused += 1;
      throw new SwitchyardError(
        'context_length_exceeded',
        `max_tokens leaves no room for the prompt in the context window of "${request.model}".`,
        { param: 'max_tokens' },
      );
    }
    const imageTokens = { imageTokens: this.#options.imageTokens ?? CONDENSER_DEFAULTS.imageTokens };
    // most requests obviously fit in every target's tokens: no tokenizing on the hot path for them
    if (upperBoundTokens(request, tokenizerFamilies(tokenizerModels), imageTokens) <= budget) return request;
    // an answer the cache holds for the request as sent: no tokenising, no summary
    const cache = this.#cache;
    if (cache !== undefined && (await cache.lookAhead(request, context))) return request;
    // the request may go to any target, and must fit the smallest window in each one's tokens
    const counter = await tokenCounterForModels(tokenizerModels);
    const counts = request.messages.map((message) => countMessage(message, counter, imageTokens));
    const fixed =
      REPLY_PRIMING + countTools(request, counter) + countResponseFormat(request.response_format, counter);
    const before = counts.reduce((sum, n) => sum + n, fixed);
    if (before <= budget) return request;

    const strategy = configured ?? this.#options.strategy ?? CONDENSER_DEFAULTS.strategy;
    let outcome = await this.#apply(strategy, request, counts, fixed, budget, counter, context);
    if (outcome.tokens > budget) {
      // the chosen strategy could not remove enough (pinned turns too large): shorten long messages
      const recounted = outcome.messages.map((message) => countMessage(message, counter, imageTokens));
      const cut = truncateLong(
        outcome.messages,
        recounted,
        fixed,
        budget,
        counter,
        this.#options.minKeepTokens ?? CONDENSER_DEFAULTS.minKeepTokens,
      );
      if (cut.truncated > 0)
        outcome = {
          // a summary made on the way is kept: it was spent, and the request is charged it
          ...outcome,
          messages: cut.messages,
          strategy: `${outcome.strategy}+truncate-long`,
          removed: outcome.removed + cut.truncated,
          tokens: cut.tokens,
        };
    }
    if (outcome.tokens > budget) {
      this.#counters.refused += 1;
      // a summary asked for before the refusal was spent all the same: report it, so the request is charged it
      if (outcome.summary !== undefined) context.condensation = report(outcome, before);
      throw new SwitchyardError(
        'context_length_exceeded',
        `The messages take ${before} tokens and cannot be condensed below ${outcome.tokens} for the ${budget}-token budget of "${request.model}".`,
        { param: 'messages' },
      );
    }
    this.#counters.condensed += 1;
    context.condensation = report(outcome, before);
    this.#logger.info(
      {
        requestId: context.requestId,
        model: request.model,
        strategy: outcome.strategy,
        removed: outcome.removed,
        tokensBefore: before,
        tokensAfter: outcome.tokens,
      },
      'condensed the request to fit the context window',
    );
    const condensed = { ...request, messages: outcome.messages };
    cache?.replaced(request, condensed, context);
    return condensed;
  }

  /**
   * The prompt budget in tokens and the models whose tokenizers count (the alias' targets, else
   * the model itself), or undefined when the window is unknown.
   */
  #limits(
    request: ChatCompletionRequest,
    maxInputTokens: number | undefined,
  ): { budget: number; tokenizerModels: string[] } | undefined {
    const targets = ownEntry(this.#options.aliases, request.model) ?? [];
    const ids = [request.model, ...targets];
    const known = ids.map((id) => this.#options.catalog.lookup(id)).filter((info) => info !== undefined);
    const tokenizerModels = targets.length > 0 ? targets : [known[0]?.id ?? request.model];
    if (known.length === 0)
      return maxInputTokens === undefined ? undefined : { budget: maxInputTokens, tokenizerModels };
    const window = Math.min(...known.map((info) => info.contextWindow));
    // a catalog of a plugin's own may not know a model's output limit: no cap then
    const maxOutput = Math.min(
      ...known.map((info) =>
        Number.isFinite(info.maxOutputTokens) ? info.maxOutputTokens : Number.POSITIVE_INFINITY,
      ),
    );
    // the answer cannot be longer than the model writes: a client asking for more (Anthropic's
    // clients send their ceiling, 32000 from Claude Code) is left to the provider, only the reserve is capped
    const reserve = requestedOutputTokens(
      request,
      this.#options.outputReserveTokens ?? CONDENSER_DEFAULTS.outputReserveTokens,
      maxOutput,
    );
    return {
      budget: Math.min(window - reserve, maxInputTokens ?? Number.POSITIVE_INFINITY),
      tokenizerModels,
    };
  }

  async #apply(
    strategy: CondenseStrategy,
    request: ChatCompletionRequest,
    counts: number[],
    fixed: number,
    budget: number,
    counter: TokenCounter,
    context: RequestContext,
  ): Promise<Outcome> {
    const units = toUnits(request.messages, counts);
    switch (strategy) {
      case 'drop-oldest':
        return fromSelection('drop-oldest', dropOldest(units, fixed, budget));
      case 'middle-out':
        return fromSelection('middle-out', middleOut(units, fixed, budget));
      case 'truncate-long': {
        const cut = truncateLong(
          request.messages,
          counts,
          fixed,
          budget,
          counter,
          this.#options.minKeepTokens ?? CONDENSER_DEFAULTS.minKeepTokens,
        );
        return {
          messages: cut.messages,
          strategy: 'truncate-long',
          removed: cut.truncated,
          tokens: cut.tokens,
        };
      }
      case 'summarize':
        return this.#summarize(units, fixed, budget, counter, context);
    }
  }

  async #summarize(
    units: MessageUnit[],
    fixed: number,
    budget: number,
    counter: TokenCounter,
    context: RequestContext,
  ): Promise<Outcome> {
    const summary = this.#options.summary;
    if (summary === undefined || this.#chat === undefined) {
      throw new SwitchyardError(
        'invalid_request',
        'The "summarize" strategy needs a summary model configured on the gateway.',
        { param: 'x-switchyard-condense' },
      );
    }
    const maxTokens = summary.maxTokens ?? CONDENSER_DEFAULTS.summaryMaxTokens;
    // room for the summary message itself (envelope, prefix, delimiters), then drop the oldest turns it will stand for
    const reserve = maxTokens + countMessage(summaryMessage(''), counter);
    // the summary is a user message in front of the kept turns: they may open with the assistant
    const selection = dropOldest(units, fixed + reserve, budget, false);
    if (selection.removed.length === 0) return fromSelection('drop-oldest', dropOldest(units, fixed, budget));
    const removed = [...selection.removed].sort((a, b) => a.start - b.start);
    const removedStart = removed[0]!.start;
    const removedMessages = removed.flatMap((unit) => unit.messages);
    let text: string;
    const summaryContext = createRequestContext({
      metadata: { ...context.metadata, purpose: SUMMARY_PURPOSE },
      signal: context.signal,
      // the transcript is the client's conversation: its no-store, no-cache and skip hold for it too
      ...summaryDirectives(context.directives),
    });
    try {
      const answer = await this.#chat(
        {
          model: summary.model,
          messages: [
            { role: 'system', content: SUMMARY_INSTRUCTION },
            {
              role: 'user',
              content: transcriptOf(
                removedMessages,
                counter,
                summary.inputMaxTokens ?? CONDENSER_DEFAULTS.summaryInputMaxTokens,
              ),
            },
          ],
          max_tokens: maxTokens,
          temperature: 0,
        },
        { context: summaryContext },
      );
      text = answer.choices[0]?.message.content ?? '';
    } catch (error) {
      this.#counters.summaryFailures += 1;
      this.#logger.warn(
        { requestId: context.requestId, err: error },
        'the summary model failed; earlier turns were dropped without a summary',
      );
      return {
        ...fromSelection('drop-oldest', dropOldest(units, fixed, budget)),
        summary: spentOn(summaryContext),
      };
    }
    const message = summaryMessage(counter.head(text, maxTokens));
    // where the removed turns began (after the leading system prompt): instructions kept between
    // turns stay after the summary of the turns before them
    const at = selection.kept.findIndex((unit) => unit.start > removedStart);
    const before = at < 0 ? selection.kept : selection.kept.slice(0, at);
    const after = at < 0 ? [] : selection.kept.slice(at);
    const messages = [
      ...before.flatMap((unit) => unit.messages),
      message,
      ...after.flatMap((unit) => unit.messages),
    ];
    return {
      messages,
      strategy: 'summarize',
      removed: removedMessages.length,
      tokens: selection.tokens - reserve + countMessage(message, counter),
      summary: spentOn(summaryContext),
    };
  }
}

/**
 * The directives of a summary call: the request's own, but for `condense` (a summary request is
 * never condensed, and the strategy was the request's, not the summary's).
 */
function summaryDirectives(directives: RequestDirectives | undefined): { directives?: RequestDirectives } {
  if (directives === undefined) return {};
  const { condense, ...rest } = directives;
  return condense === undefined ? { directives } : { directives: rest };
}

/** The report of a condensing pass that started from `before` tokens. */
function report(outcome: Outcome, before: number): CondensationReport {
  return {
    strategy: outcome.strategy,
    removed: outcome.removed,
    tokensBefore: before,
    tokensAfter: outcome.tokens,
    ...(outcome.summary === undefined ? {} : { summary: outcome.summary }),
  };
}

/** What a summary call used (a failed one may have used something too), for the request that caused it. */
function spentOn(summary: RequestContext): CondensationReport['summary'] {
  if (summary.usage === undefined && summary.costUsd === undefined) return undefined;
  return {
    ...(summary.usage === undefined ? {} : { usage: summary.usage }),
    ...(summary.costUsd === undefined ? {} : { costUsd: summary.costUsd }),
  };
}

function fromSelection(strategy: string, selection: Selection): Outcome {
  return {
    messages: selection.kept.flatMap((unit) => unit.messages),
    strategy,
    removed: selection.removed.reduce((sum, unit) => sum + unit.messages.length, 0),
    tokens: selection.tokens,
  };
}

/** Creates the condenser plugin (see {@link Condenser}). */
export function createCondenser(options: CondenserOptions): Condenser {
  return new Condenser(options);
}
