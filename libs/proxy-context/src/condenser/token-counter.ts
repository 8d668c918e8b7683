import type { ChatCompletionRequest, ChatMessage, ChatTool } from '@switchyard/proxy-core';

/** How a model's tokens are counted. */
export type TokenizerFamily = 'o200k_base' | 'cl100k_base' | 'anthropic-estimate' | 'gemini-estimate' | 'generic-estimate';

/** Counts and cuts text in one model family's tokens. */
export interface TokenCounter {
  readonly family: TokenizerFamily;
  /** True when counts are exact (OpenAI encodings); false for calibrated estimates. */
  readonly exact: boolean;
  count(text: string): number;
  /** The first `tokens` tokens of a text (approximately, for estimates). */
  head(text: string, tokens: number): string;
  /** The last `tokens` tokens of a text (approximately, for estimates). */
  tail(text: string, tokens: number): string;
}

/**
 * Estimate factors over the o200k_base count for families whose tokenizers are not
 * public. They err high on purpose (a condensed request must fit): see `docs/context.md`
 * for the error bound.
 */
export const ESTIMATE_FACTORS = {
  'anthropic-estimate': 1.25,
  'gemini-estimate': 1.15,
  'generic-estimate': 1.2,
} as const;

/** Tokens per message envelope, and to prime the reply, as OpenAI's counting guide gives them. */
const PER_MESSAGE = 3;
const PER_NAME = 1;
const REPLY_PRIMING = 3;
/** A tool call's envelope (id, type, braces) beyond its name and arguments. */
const PER_TOOL_CALL = 8;

/** The tokenizer family of an upstream model id. */
export function tokenizerFamily(model: string): TokenizerFamily {
  const id = model.slice(model.lastIndexOf('/') + 1).toLowerCase();
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|chatgpt-4o|o1|o3|o4)/.test(id)) return 'o200k_base';
  if (/^(gpt-4|gpt-3\.5|text-embedding)/.test(id)) return 'cl100k_base';
  if (id.startsWith('claude')) return 'anthropic-estimate';
  if (id.startsWith('gemini') || id.startsWith('gemma')) return 'gemini-estimate';
  return 'generic-estimate';
}

interface Encoding {
  encode(text: string, options?: { disallowedSpecial?: Set<string> }): number[];
  decode(tokens: Iterable<number>): string;
}

const encodings = new Map<'o200k_base' | 'cl100k_base', Promise<Encoding>>();

// the encodings ship inside gpt-tokenizer (no network); each loads once, on first use
function loadEncoding(name: 'o200k_base' | 'cl100k_base'): Promise<Encoding> {
  let loading = encodings.get(name);
  if (loading === undefined) {
    loading = name === 'o200k_base' ? import('gpt-tokenizer/encoding/o200k_base') : import('gpt-tokenizer/encoding/cl100k_base');
    encodings.set(name, loading);
  }
  return loading;
}

// text that looks like a special token (`<|endoftext|>`) is counted as plain text, never refused
const PLAIN = { disallowedSpecial: new Set<string>() };

class ExactCounter implements TokenCounter {
  readonly exact = true;
  constructor(
    readonly family: TokenizerFamily,
    private readonly encoding: Encoding,
  ) {}

  count(text: string): number {
    return text.length === 0 ? 0 : this.encoding.encode(text, PLAIN).length;
  }

  head(text: string, tokens: number): string {
    return this.encoding.decode(this.encoding.encode(text, PLAIN).slice(0, Math.max(0, tokens)));
  }

  tail(text: string, tokens: number): string {
    const encoded = this.encoding.encode(text, PLAIN);
    return tokens <= 0 ? '' : this.encoding.decode(encoded.slice(Math.max(0, encoded.length - tokens)));
  }
}

class EstimatingCounter implements TokenCounter {
  readonly exact = false;
  readonly #base: ExactCounter;
  readonly #factor: number;
  constructor(
    readonly family: TokenizerFamily,
    base: ExactCounter,
    factor: number,
  ) {
    this.#base = base;
    this.#factor = factor;
  }

  count(text: string): number {
    return Math.ceil(this.#base.count(text) * this.#factor);
  }

  head(text: string, tokens: number): string {
    return this.#base.head(text, Math.floor(tokens / this.#factor));
  }

  tail(text: string, tokens: number): string {
    return this.#base.tail(text, Math.floor(tokens / this.#factor));
  }
}

/** The token counter for an upstream model id (loads its encoding on first use). */
export async function tokenCounterFor(model: string): Promise<TokenCounter> {
  const family = tokenizerFamily(model);
  switch (family) {
    case 'o200k_base':
    case 'cl100k_base':
      return new ExactCounter(family, await loadEncoding(family));
    case 'anthropic-estimate':
    case 'gemini-estimate':
    case 'generic-estimate':
      return new EstimatingCounter(family, new ExactCounter('o200k_base', await loadEncoding('o200k_base')), ESTIMATE_FACTORS[family]);
  }
}

/** Options of the counting functions. */
export interface CountOptions {
  /** Tokens charged per image part (detail unknown before the provider sees it). @default 1105 */
  imageTokens?: number;
}

const DEFAULT_IMAGE_TOKENS = 1105;

/** The text of a message's content, parts joined. */
export function contentText(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (part.type === 'text' ? part.text : '')).join('\n');
}

/** Tokens one message takes in the prompt, envelope included. */
export function countMessage(message: ChatMessage, counter: TokenCounter, options: CountOptions = {}): number {
  let tokens = PER_MESSAGE + counter.count(message.role) + counter.count(contentText(message.content));
  if ('name' in message && typeof message.name === 'string') tokens += PER_NAME + counter.count(message.name);
  if (Array.isArray(message.content)) {
    const images = message.content.filter((part) => part.type === 'image_url').length;
    tokens += images * (options.imageTokens ?? DEFAULT_IMAGE_TOKENS);
  }
  if (message.role === 'assistant') {
    for (const call of message.tool_calls ?? []) tokens += PER_TOOL_CALL + counter.count(call.function.name) + counter.count(call.function.arguments);
  }
  if (message.role === 'tool') tokens += counter.count(message.tool_call_id);
  return tokens;
}

/** Tokens the tool definitions take (their JSON, an upper estimate of the providers' rendering). */
export function countTools(tools: readonly ChatTool[] | undefined, counter: TokenCounter): number {
  return tools === undefined || tools.length === 0 ? 0 : counter.count(JSON.stringify(tools));
}

/** Tokens a whole request's prompt takes: messages, tools and reply priming. */
export function countRequest(request: ChatCompletionRequest, counter: TokenCounter, options: CountOptions = {}): number {
  let tokens = REPLY_PRIMING + countTools(request.tools, counter);
  for (const message of request.messages) tokens += countMessage(message, counter, options);
  return tokens;
}

/**
 * An upper bound of a request's prompt tokens without tokenizing: a BPE token is at least
 * one UTF-8 byte, so bytes bound the exact count (times the estimate factor for other
 * families). Lets the condenser skip tokenizing requests that obviously fit.
 */
export function upperBoundTokens(request: ChatCompletionRequest, family: TokenizerFamily, options: CountOptions = {}): number {
  let bytes = REPLY_PRIMING + (request.tools === undefined || request.tools.length === 0 ? 0 : Buffer.byteLength(JSON.stringify(request.tools)));
  for (const message of request.messages) {
    bytes += PER_MESSAGE + PER_NAME + message.role.length + Buffer.byteLength(contentText(message.content));
    if ('name' in message && typeof message.name === 'string') bytes += Buffer.byteLength(message.name);
    if (Array.isArray(message.content)) bytes += message.content.filter((part) => part.type === 'image_url').length * (options.imageTokens ?? DEFAULT_IMAGE_TOKENS);
    if (message.role === 'assistant') {
      for (const call of message.tool_calls ?? []) bytes += PER_TOOL_CALL + Buffer.byteLength(call.function.name) + Buffer.byteLength(call.function.arguments);
    }
    if (message.role === 'tool') bytes += Buffer.byteLength(message.tool_call_id);
  }
  const factor = family === 'o200k_base' || family === 'cl100k_base' ? 1 : ESTIMATE_FACTORS[family];
  return Math.ceil(bytes * factor);
}
