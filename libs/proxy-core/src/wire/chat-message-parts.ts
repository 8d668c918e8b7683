import { createHash } from 'node:crypto';
import { SwitchyardError } from '../errors/switchyard-error';
import type {
  ChatCompletionRequest,
  ChatContentPart,
  ChatMessage,
  ChatTextPart,
  ChatToolMessage,
} from './openai-chat';

/** The text of a message's content: a string as it is, text parts joined, other parts skipped. */
export function contentText(
  content: string | ReadonlyArray<ChatContentPart | ChatTextPart> | null | undefined,
): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content
    .filter((part): part is ChatTextPart => part.type === 'text')
    .map((part) => part.text)
    .join('');
}

/**
 * Whether a text says nothing: empty or whitespace only. Anthropic and Bedrock Converse refuse
 * such a text block ("text content blocks must contain non-whitespace text").
 */
export function isBlankText(text: string): boolean {
  return text.trim().length === 0;
}

/**
 * The texts of a message's content that say something, each text part on its own (joined, parts
 * lose the boundary between them: "terse.Answer"): a string as one, blank ones left out (see
 * {@link isBlankText}), other parts skipped. For providers that take a message as text blocks.
 */
export function nonBlankTexts(
  content: string | ReadonlyArray<ChatContentPart | ChatTextPart> | null | undefined,
): string[] {
  return nonEmptyTexts(content).filter((text) => !isBlankText(text));
}

/**
 * The texts of a message's content that are not empty, each text part on its own: a string as
 * one, empty ones left out (joined, they added nothing), whitespace-only ones kept, other parts
 * skipped. For providers that take a message's text as parts but refuse an empty one (Gemini), or
 * that take one string, joined with a separator that keeps the parts apart (Ollama).
 */
export function nonEmptyTexts(
  content: string | ReadonlyArray<ChatContentPart | ChatTextPart> | null | undefined,
): string[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content.length > 0 ? [content] : [];
  return content.flatMap((part) => (part.type === 'text' && part.text.length > 0 ? [part.text] : []));
}

/** An image given inline as a `data:` URL, split into its media type and base64 payload. */
export interface InlineImage {
  mediaType: string;
  /** Base64 payload, without the `data:` prefix. */
  data: string;
}

/**
 * Reads a base64 `data:` URL; undefined for any other URL. Throws `invalid_request` naming
 * `param` (the part's `messages.<i>.content.<k>.image_url.url`) for a malformed one.
 */
export function parseDataUrl(url: string, param = 'messages'): InlineImage | undefined {
  if (!url.startsWith('data:')) return undefined;
  const match = /^data:([\w.+-]+\/[\w.+-]+)(?:;[\w-]+=[^;,]*)*;base64,(.*)$/s.exec(url);
  if (match === null) {
    throw invalidRequest(
      'An image data URL must be base64 and name its media type: data:<type>/<subtype>;base64,<data>.',
      param,
    );
  }
  return { mediaType: match[1] as string, data: match[2] as string };
}

const IMAGE_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
};

/** The image media type an http(s) URL's extension suggests. @default "image/jpeg" */
export function imageMediaTypeFromUrl(url: string): string {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // not a URL: use the text as it is
  }
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return (extension === undefined ? undefined : IMAGE_TYPES[extension]) ?? 'image/jpeg';
}

/**
 * What separates a tool-call id from the Gemini thought signature the gateway folds into it
 * (`<id>__ts_<signature as base64url>`; see providers/gemini/gemini-tool-call-id.ts).
 */
export const TOOL_CALL_SIGNATURE_MARKER = '__ts_';

// Gemini's signatures are protobuf messages of dozens to hundreds of bytes: a client's own id
// that happens to hold the marker (`call_x__ts_abc`) is kept whole rather than split.
const MIN_SIGNATURE_BYTES = 16;

/**
 * A tool-call id split into its base and the bytes of the Gemini thought signature folded into
 * it. Only an id the gateway could have made is split: a non-empty base, and after the marker
 * canonical base64url (it decodes and encodes back to the same text) of at least 16 bytes. Any
 * other id is its own base with no signature, so a client's id is never cut short or emptied,
 * and two of them never become one.
 */
export function splitToolCallId(id: string): { base: string; signature?: Buffer } {
  const at = id.indexOf(TOOL_CALL_SIGNATURE_MARKER);
  if (at <= 0) return { base: id };
  const text = id.slice(at + TOOL_CALL_SIGNATURE_MARKER.length);
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return { base: id };
  const signature = Buffer.from(text, 'base64url');
  if (signature.length < MIN_SIGNATURE_BYTES || signature.toString('base64url') !== text) return { base: id };
  return { base: id.slice(0, at), signature };
}

/**
 * A tool-call id without the Gemini thought signature folded into it, for the other
 * providers: they have no use for it, and Bedrock takes tool ids of at most 64 characters
 * (a conversation begun on Gemini may go on, or fall back, to them). Tool calls and their
 * results pass through the same function, so they still match.
 */
export function toolCallIdWithoutSignature(id: string): string {
  return splitToolCallId(id).base;
}

/** The tool ids Anthropic (`tool_use.id`) and Bedrock Converse (`toolUseId`, 1-64 characters) take. */
const TOOL_USE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * A tool-call id Anthropic and Bedrock Converse take: the id without its Gemini thought signature
 * when that is 1-64 letters, digits, `_` and `-`; otherwise `toolu_` and the first 32 characters
 * of the base64url SHA-256 of that id. Both answer any other id with a 400 ("tool_use.id: String
 * should match pattern '^[a-zA-Z0-9_-]+$'"), and hosts make such ids (Kimi K2's
 * `functions.get_weather:0`), so a conversation begun there fails on them without this.
 * Deterministic and stateless, so a tool call and its result, mapped apart, still match, on any
 * gateway instance; a hash, so two ids never become one.
 */
export function toolUseBlockId(id: string): string {
  const base = toolCallIdWithoutSignature(id);
  if (TOOL_USE_ID.test(base)) return base;
  return `toolu_${createHash('sha256').update(base).digest('base64url').slice(0, 32)}`;
}

/** Maps each assistant tool call id to its tool's name, for providers that answer tool results by name. */
export function toolNamesById(messages: readonly ChatMessage[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const message of messages) {
    if (message.role !== 'assistant') continue;
    for (const call of message.tool_calls ?? [])
      names.set(call.id, call.type === 'custom' ? call.custom.name : call.function.name);
  }
  return names;
}

/**
 * An `invalid_request` error (400) naming the offending request field, for a request refused
 * before anything was sent upstream (`beforeSending`: the attempt is not counted as a call).
 * Not for an error found in the upstream's answer.
 */
export function invalidRequest(message: string, param: string): SwitchyardError {
  return new SwitchyardError('invalid_request', message, { param, beforeSending: true });
}

/**
 * An `unsupported_feature` error (400) naming the request field a target cannot serve, so the
 * router tries the route's next target; `provider`, when given, names the configured provider.
 * Raised before anything is sent upstream (`beforeSending`).
 */
export function unsupportedFeature(message: string, param: string, provider?: string): SwitchyardError {
  return new SwitchyardError('unsupported_feature', message, {
    ...(provider === undefined ? {} : { provider }),
    param,
    beforeSending: true,
  });
}

/**
 * Refuses `n` above 1 for a provider that answers one choice per request (`unsupported_feature`
 * naming `n`): sending the request without it would answer with fewer choices than asked for.
 * `message` says which provider; `provider`, when given, names the configured provider too.
 */
export function refuseSeveralChoices(n: number | null | undefined, message: string, provider?: string): void {
  if (typeof n === 'number' && n > 1) throw unsupportedFeature(message, 'n', provider);
}

/**
 * The stop sequences of `stop` as a list, refusing an empty one (`unsupported_feature` naming
 * `stop`, or `stop.<i>` in a list) for a provider that answers it with a 400 which would end the
 * route: refused before sending, another target takes the request. `message` says which provider.
 */
export function stopsWithoutEmpty(
  stop: ChatCompletionRequest['stop'],
  message: string,
): string[] | undefined {
  if (stop === undefined || stop === null) return undefined;
  const sequences = typeof stop === 'string' ? [stop] : stop;
  const empty = sequences.indexOf('');
  if (empty >= 0) throw unsupportedFeature(message, typeof stop === 'string' ? 'stop' : `stop.${empty}`);
  return sequences;
}

/**
 * Refuses OpenAI's `web_search_options` (an object; `null` asks nothing) for a provider the
 * gateway does not ask to search the web (`unsupported_feature` naming it, so the router tries
 * the next target): answered without the search, the request would get an answer from the
 * model's own knowledge, with no sources, while asking for current facts. `who` names the
 * provider in the message.
 */
export function refuseWebSearch(request: ChatCompletionRequest, who: string, provider?: string): void {
  const options: unknown = request.web_search_options;
  if (typeof options !== 'object' || options === null) return;
  throw unsupportedFeature(
    `${who} is not asked to search the web by the gateway: "web_search_options" needs a provider that searches (a "gemini" provider, with Google Search, or an OpenAI-compatible search model).`,
    'web_search_options',
    provider,
  );
}

/**
 * Refuses a `temperature` above 1 for a provider that takes 0 to 1 (`unsupported_feature`
 * naming it, so the router tries the next target), where OpenAI takes 0 to 2: sent, it is the
 * provider's 400, which ends the route; clamped to 1, the answer would be less random than
 * asked. `who` names the provider in the message.
 */
export function refuseTemperatureAboveOne(request: ChatCompletionRequest, who: string): void {
  const temperature = request.temperature;
  if (typeof temperature !== 'number' || temperature <= 1) return;
  throw unsupportedFeature(
    `${who} takes "temperature" from 0 to 1 (OpenAI from 0 to 2), and ${temperature} asks for more randomness than it has: send at most 1, or use a provider that takes it (OpenAI, Gemini).`,
    'temperature',
  );
}

/**
 * Refuses a `response_format` other than `text` for a provider that has none
 * (`unsupported_feature` naming it, so the router tries the next target); a missing or `null`
 * one asks for nothing, as at OpenAI. `who` names the provider in the message.
 */
export function refuseResponseFormat(request: ChatCompletionRequest, who: string): void {
  const format: unknown = request.response_format;
  if (format === undefined || format === null) return;
  if (typeof format === 'object' && (format as { type?: unknown }).type === 'text') return;
  throw unsupportedFeature(
    `${who} does not support "response_format"; describe the format in the prompt or use a tool.`,
    'response_format',
  );
}

/**
 * A tool message's `tool_call_id`, checked: the request schema leaves it optional, but a
 * provider that pairs a result with its call by id needs it, so a missing one is
 * `invalid_request` naming `param` (`messages.<i>.tool_call_id`), as OpenAI refuses it.
 */
export function toolResultCallId(message: ChatToolMessage, param: string): string {
  const id: unknown = message.tool_call_id;
  if (typeof id !== 'string')
    throw invalidRequest(
      'A tool message needs a "tool_call_id": the id of the assistant tool call it answers.',
      param,
    );
  return id;
}

/**
 * A user message's content, checked: `null` or missing content, a text part without a string
 * `text` and an image part without a string `image_url.url` are `invalid_request` naming the
 * field (the request schema checks only each part's `type`; OpenAI refuses them too). Parts of
 * other types are left to each provider's mapping.
 */
export function userContent(
  content: string | ChatContentPart[] | null | undefined,
  param: string,
): string | ChatContentPart[] {
  if (content === null || content === undefined) {
    throw invalidRequest(
      'A user message needs content: a string or an array of content parts, not null.',
      param,
    );
  }
  if (typeof content === 'string') return content;
  content.forEach((part: unknown, index) => {
    const { type, text, image_url: image } = part as { type?: unknown; text?: unknown; image_url?: unknown };
    if (type === 'text' && typeof text !== 'string')
      throw invalidRequest('A text content part needs a string "text".', `${param}.${index}.text`);
    if (
      type === 'image_url' &&
      (typeof image !== 'object' || image === null || typeof (image as { url?: unknown }).url !== 'string')
    ) {
      throw invalidRequest(
        'An image_url content part needs "image_url": {"url": "<http(s) or data URL>"}.',
        `${param}.${index}.image_url.url`,
      );
    }
  });
  return content;
}

/**
 * Parses a tool call's JSON arguments into an object (empty text is `{}`); invalid or
 * non-object JSON is an `invalid_request` naming `param`.
 */
export function parseToolArguments(text: string, param = 'messages'): Record<string, unknown> {
  if (text.trim().length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new SwitchyardError('invalid_request', 'A tool call has arguments that are not valid JSON.', {
      param,
      cause,
      beforeSending: true,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidRequest("A tool call's arguments must be a JSON object.", param);
  }
  return value as Record<string, unknown>;
}
