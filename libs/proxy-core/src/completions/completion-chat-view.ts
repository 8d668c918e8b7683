import { SwitchyardError } from '../errors/switchyard-error';
import { contentText } from '../wire/chat-message-parts';
import type { ChatCompletionRequest } from '../wire/openai-chat';
import type { CompletionRequest } from '../wire/openai-completions';

/** The legacy default of `max_tokens`. */
export const LEGACY_COMPLETION_DEFAULTS = { maxTokens: 16 } as const;

/**
 * The member of a completion's chat view that carries what chat has no field for. Hooks see
 * it; it is removed before a chat request goes upstream. (The response cache keys only chat
 * requests today, so completions are never cached.)
 */
export const LEGACY_COMPLETION_FIELD = 'legacy_completion';

/** The completion-only fields of a legacy request, as its chat view carries them. */
export interface LegacyCompletionFields {
  echo?: boolean;
  suffix?: string;
  logprobs?: number;
  best_of?: number;
}

/** The one prompt of a legacy request. */
export function completionPrompt(request: CompletionRequest): string {
  const prompts = typeof request.prompt === 'string' ? [request.prompt] : request.prompt;
  if (prompts.length !== 1)
    throw new SwitchyardError('invalid_request', 'Send one prompt per completion request.', {
      param: 'prompt',
      beforeSending: true,
    });
  return prompts[0] as string;
}

function present<T>(value: T | null | undefined): value is T {
  return value !== undefined && value !== null;
}

/** The fields a legacy completion and a chat request share, with the same meaning and shape. */
const SHARED_FIELDS = [
  'temperature',
  'top_p',
  'stop',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  'seed',
  'user',
] as const;

/** Copies the {@link SHARED_FIELDS} that are set from one request shape to the other. */
function copySharedFields(
  from: CompletionRequest | ChatCompletionRequest,
  to: CompletionRequest | ChatCompletionRequest,
): void {
  const source = from as Partial<Record<(typeof SHARED_FIELDS)[number], unknown>>;
  const target = to as Partial<Record<(typeof SHARED_FIELDS)[number], unknown>>;
  for (const field of SHARED_FIELDS) {
    if (present(source[field])) target[field] = source[field];
  }
}

/**
 * The chat request a legacy completion travels the gateway as: the prompt as the one user
 * message, the shared sampling fields as they are, the rest under {@link LEGACY_COMPLETION_FIELD}.
 * Hooks (guardrails, the condenser, the cache, the request log) work on this view.
 */
export function completionChatView(request: CompletionRequest): ChatCompletionRequest {
  const view: ChatCompletionRequest = {
    model: request.model,
    messages: [{ role: 'user', content: completionPrompt(request) }],
    max_tokens: request.max_tokens ?? LEGACY_COMPLETION_DEFAULTS.maxTokens,
  };
  copySharedFields(request, view);
  if (present(request.n) && request.n !== 1) view.n = request.n;
  if (request.stream === true)
    view.stream_options = { include_usage: request.stream_options?.include_usage === true };
  const legacy: LegacyCompletionFields = {};
  if (request.echo === true) legacy.echo = true;
  if (present(request.suffix)) legacy.suffix = request.suffix;
  if (present(request.logprobs)) legacy.logprobs = request.logprobs;
  if (present(request.best_of) && request.best_of !== 1) legacy.best_of = request.best_of;
  if (Object.keys(legacy).length > 0) view[LEGACY_COMPLETION_FIELD] = legacy;
  return view;
}

/** The completion-only fields of a chat view (none for a plain chat request). */
export function legacyFields(view: ChatCompletionRequest): LegacyCompletionFields {
  const legacy = view[LEGACY_COMPLETION_FIELD];
  return typeof legacy === 'object' && legacy !== null ? legacy : {};
}

/** The prompt of a chat view: its messages' text, joined by blank lines when a hook added some. */
export function viewPrompt(view: ChatCompletionRequest): string {
  return view.messages.map((message) => contentText(message.content)).join('\n\n');
}

/**
 * The native legacy request for a chat view (after `beforeRequest` taps changed it, so a
 * redacted prompt or a changed model is what goes upstream).
 */
export function nativeCompletionRequest(view: ChatCompletionRequest, stream: boolean): CompletionRequest {
  const legacy = legacyFields(view);
  const request: CompletionRequest = { model: view.model, prompt: viewPrompt(view) };
  if (present(view.max_tokens)) request.max_tokens = view.max_tokens;
  copySharedFields(view, request);
  if (present(view.n)) request.n = view.n;
  if (legacy.echo === true) request.echo = true;
  if (legacy.suffix !== undefined) request.suffix = legacy.suffix;
  if (legacy.logprobs !== undefined) request.logprobs = legacy.logprobs;
  if (legacy.best_of !== undefined) request.best_of = legacy.best_of;
  if (stream) {
    request.stream = true;
    request.stream_options = { include_usage: true };
  }
  return request;
}

/**
 * The chat request that answers a chat view on a provider without native completions. What
 * only a completions endpoint does (`suffix`, `logprobs`, `best_of`) is refused here;
 * `echo` is done by the gateway.
 */
export function chatRequestFromView(view: ChatCompletionRequest, provider: string): ChatCompletionRequest {
  const { [LEGACY_COMPLETION_FIELD]: legacy, ...chat } = view;
  const fields = (legacy ?? {}) as LegacyCompletionFields;
  for (const param of ['suffix', 'logprobs', 'best_of'] as const) {
    if (fields[param] !== undefined) {
      throw new SwitchyardError(
        'unsupported_feature',
        `"${param}" needs a native completions model; provider "${provider}" answers this model through chat.`,
        { param, provider, beforeSending: true },
      );
    }
  }
  return chat;
}
