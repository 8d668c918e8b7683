import type { ChatCompletionRequest, ChatMessage } from '@switchyard/proxy-core';
import { vendorModelName } from '../catalog/model-id';
import { mediaTokens, refusalTexts } from './media-tokens';
import { callsOf } from './tool-call-parts';

/** How a model's tokens are counted. */
export type TokenizerFamily =
  'o200k_base' | 'cl100k_base' | 'anthropic-estimate' | 'gemini-estimate' | 'generic-estimate';

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

/** One estimating family's formula, and how it measured against a public tokenizer. */
export interface TokenEstimate {
  /** Weight of the o200k_base count. */
  readonly o200k: number;
  /** Weight of the cl100k_base count. */
  readonly cl100k: number;
  /** Tokens added per ASCII digit (tokenizers that split numbers digit by digit). */
  readonly digits: number;
  /** Measured estimate / reference count over the calibration corpus: lowest and highest. */
  readonly calibration: { readonly reference: string; readonly min: number; readonly max: number };
}

/**
 * Estimates for the families whose current tokenizers are not published, calibrated on
 * the public tokenizers nearest to them (`libs/proxy-context/scripts/calibrate-token-estimates.ts`
 * over `test/calibration/corpus.json`). Each errs high on every sample of the corpus (a
 * condensed request must fit); `docs/context.md` explains the bounds and their limits.
 */
export const TOKEN_ESTIMATES: Readonly<
  Record<'anthropic-estimate' | 'gemini-estimate' | 'generic-estimate', TokenEstimate>
> = {
  // the legacy Claude tokenizer is within 0.93-1.23x of cl100k on the corpus
  'anthropic-estimate': {
    o200k: 0,
    cl100k: 1.25,
    digits: 0,
    calibration: { reference: 'legacy Claude tokenizer', min: 1.017, max: 1.35 },
  },
  // Gemini's SentencePiece vocabulary spends one token per digit where o200k groups three
  'gemini-estimate': {
    o200k: 1.2,
    cl100k: 0,
    digits: 0.6,
    calibration: { reference: 'Gemini Nano / Gemma tokenizer', min: 1, max: 1.857 },
  },
  // the envelope of Llama 3 (cl100k plus multilingual merges) and Mistral 7B (32k SentencePiece)
  'generic-estimate': {
    o200k: 1.05,
    cl100k: 0.35,
    digits: 0.15,
    calibration: { reference: 'Llama 3 and Mistral 7B tokenizers', min: 1.007, max: 1.638 },
  },
};

/** Tokens per message envelope, and to prime the reply, as OpenAI's counting guide gives them. */
const PER_MESSAGE = 3;
const PER_NAME = 1;
const REPLY_PRIMING = 3;
/** A tool call's envelope (id, type, braces) beyond its name and arguments. */
const PER_TOOL_CALL = 8;

/** The tokenizer family of an upstream model id (Bedrock's and Vertex AI's ids of a vendor's model too). */
export function tokenizerFamily(model: string): TokenizerFamily {
  const id = vendorModelName(model.toLowerCase());
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|chatgpt-4o|o1|o3|o4)/.test(id)) return 'o200k_base';
  if (/^(gpt-4|gpt-3\.5|text-embedding)/.test(id)) return 'cl100k_base';
  if (id.startsWith('claude')) return 'anthropic-estimate';
  if (id.startsWith('gemini') || id.startsWith('gemma')) return 'gemini-estimate';
  return 'generic-estimate';
}

/** The part of a gpt-tokenizer encoding the counters use. */
export interface Encoding {
  encode(text: string, options?: { disallowedSpecial?: Set<string> }): number[];
  decode(tokens: Iterable<number>): string;
}

const encodings = new Map<'o200k_base' | 'cl100k_base', Promise<Encoding>>();

// the encodings ship inside gpt-tokenizer (no network); each loads once, on first use
function loadEncoding(name: 'o200k_base' | 'cl100k_base'): Promise<Encoding> {
  let loading = encodings.get(name);
  if (loading === undefined) {
    loading =
      name === 'o200k_base'
        ? import('gpt-tokenizer/encoding/o200k_base')
        : import('gpt-tokenizer/encoding/cl100k_base');
    encodings.set(name, loading);
  }
  return loading;
}

// text that looks like a special token (`<|endoftext|>`) is counted as plain text, never refused
const PLAIN = { disallowedSpecial: new Set<string>() };

/**
 * Longest text handed to the encoder in one call. Pieces are cut before a space that
 * follows a word, where BPE pre-tokenisation splits anyway, so counts stay exact on prose.
 */
export const TOKENIZER_CHUNK_CHARS = 4096;
/**
 * Longest run of one character class (letters without spaces, CJK text, whitespace) handed
 * to the encoder: BPE merges and gpt-tokenizer's pre-tokenising regex are quadratic in the
 * length of one pre-token ('a' x 32k takes 2 s in o200k), so longer runs are cut at fixed
 * offsets and their counts summed (a few tokens more than exact per cut, never fewer on
 * the texts measured).
 */
export const TOKENIZER_RUN_CHARS = 256;
/**
 * Characters one counter tokenizes before it answers from UTF-8 bytes instead (an upper
 * bound: every token is at least one byte). About one second of encoding; a counter is
 * made per request, so this bounds the tokenizing work a single request can cause.
 */
export const MAX_TOKENIZED_CHARS = 1_000_000;

function isWhitespace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 0xa0 || code === 0x3000;
}

/** Splits a text into the pieces the encoder sees: see {@link TOKENIZER_CHUNK_CHARS} and {@link TOKENIZER_RUN_CHARS}. */
export function tokenizerPieces(text: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  // the last position in the current piece where a cut is exact: a space right after a non-space
  let exactCut = -1;
  let runStart = 0;
  let runIsSpace = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    const space = isWhitespace(code);
    if (space !== runIsSpace || index === 0) {
      if (space && code === 32 && index > start) exactCut = index;
      runStart = index;
      runIsSpace = space;
    }
    // never cut between the two halves of a surrogate pair
    const lowSurrogate = code >= 0xdc00 && code <= 0xdfff;
    if (index - runStart >= TOKENIZER_RUN_CHARS && !lowSurrogate) {
      pieces.push(text.slice(start, index));
      start = runStart = index;
      exactCut = -1;
    } else if (index - start >= TOKENIZER_CHUNK_CHARS && !lowSurrogate) {
      // runs are bounded, so a piece this long has whitespace: cut at the last exact place, else here
      const cut = exactCut > start ? exactCut : index;
      pieces.push(text.slice(start, cut));
      start = cut;
      exactCut = -1;
    }
  }
  if (start < text.length) pieces.push(text.slice(start));
  return pieces;
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text);
}

/** The longest prefix of a text within `bytes` UTF-8 bytes (so within `bytes` tokens). */
function headByBytes(text: string, bytes: number): string {
  let used = 0;
  let end = 0;
  for (const char of text) {
    used += utf8Length(char);
    if (used > bytes) break;
    end += char.length;
  }
  return text.slice(0, end);
}

/** The longest suffix of a text within `bytes` UTF-8 bytes. */
function tailByBytes(text: string, bytes: number): string {
  const chars = [...text];
  let used = 0;
  let start = chars.length;
  while (start > 0 && used + utf8Length(chars[start - 1]!) <= bytes) {
    start -= 1;
    used += utf8Length(chars[start]!);
  }
  return chars.slice(start).join('');
}

class ExactCounter implements TokenCounter {
  readonly exact = true;
  #remainingChars = MAX_TOKENIZED_CHARS;
  // a text counted again gets the count it got first: once the cap is spent the same text
  // would count by its bytes, and a strategy that subtracts one count of a message from the
  // other (truncate-long) would think the request far smaller than it is
  readonly #counted = new Map<string, number>();

  constructor(
    readonly family: TokenizerFamily,
    private readonly encoding: Encoding,
  ) {}

  count(text: string): number {
    const known = this.#counted.get(text);
    if (known !== undefined) return known;
    let tokens = 0;
    for (const piece of tokenizerPieces(text)) tokens += this.#encode(piece)?.length ?? utf8Length(piece);
    this.#counted.set(text, tokens);
    return tokens;
  }

  head(text: string, tokens: number): string {
    let out = '';
    let left = Math.max(0, tokens);
    for (const piece of tokenizerPieces(text)) {
      if (left === 0) break;
      const encoded = this.#encode(piece);
      if (encoded === undefined) return out + headByBytes(text.slice(out.length), left);
      if (encoded.length > left) return out + this.encoding.decode(encoded.slice(0, left));
      out += piece;
      left -= encoded.length;
    }
    return out;
  }

  tail(text: string, tokens: number): string {
    let out = '';
    let left = Math.max(0, tokens);
    const pieces = tokenizerPieces(text);
    for (let index = pieces.length - 1; index >= 0 && left > 0; index -= 1) {
      const piece = pieces[index]!;
      const encoded = this.#encode(piece);
      if (encoded === undefined) return tailByBytes(text.slice(0, text.length - out.length), left) + out;
      if (encoded.length > left) return this.encoding.decode(encoded.slice(encoded.length - left)) + out;
      out = piece + out;
      left -= encoded.length;
    }
    return out;
  }

  /** One piece's tokens, or undefined once this counter has spent its {@link MAX_TOKENIZED_CHARS}. */
  #encode(piece: string): number[] | undefined {
    if (piece.length > this.#remainingChars) {
      this.#remainingChars = 0;
      return undefined;
    }
    this.#remainingChars -= piece.length;
    return this.encoding.encode(piece, PLAIN);
  }
}

/** A counter over a given encoding (tests pass an instrumented one). @internal */
export function exactCounter(family: 'o200k_base' | 'cl100k_base', encoding: Encoding): TokenCounter {
  return new ExactCounter(family, encoding);
}

class EstimatingCounter implements TokenCounter {
  readonly exact = false;
  constructor(
    readonly family: TokenizerFamily,
    private readonly o200k: ExactCounter,
    private readonly cl100k: ExactCounter,
    private readonly estimate: TokenEstimate,
  ) {}

  count(text: string): number {
    if (text.length === 0) return 0;
    const { o200k, cl100k, digits } = this.estimate;
    let tokens = digits === 0 ? 0 : digits * countDigits(text);
    if (o200k !== 0) tokens += o200k * this.o200k.count(text);
    if (cl100k !== 0) tokens += cl100k * this.cl100k.count(text);
    return Math.ceil(tokens);
  }

  head(text: string, tokens: number): string {
    return this.#base.head(text, Math.floor(tokens / this.#ratio(text)));
  }

  tail(text: string, tokens: number): string {
    return this.#base.tail(text, Math.floor(tokens / this.#ratio(text)));
  }

  // cuts are made in the heavier-weighted encoding, scaled by this text's estimate over its count
  get #base(): ExactCounter {
    return this.estimate.cl100k > this.estimate.o200k ? this.cl100k : this.o200k;
  }

  #ratio(text: string): number {
    const base = this.#base.count(text);
    return base === 0 ? 1 : Math.max(1, this.count(text) / base);
  }
}

function countDigits(text: string): number {
  let digits = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code >= 48 && code <= 57) digits += 1;
  }
  return digits;
}

/** Loads an OpenAI encoding by name (tests pass one that records what it encodes). */
export type EncodingLoader = (name: 'o200k_base' | 'cl100k_base') => Promise<Encoding>;

/**
 * The exact counters of one request, one per encoding, made on first use and shared by every
 * family that counts in it (an exact family, and the estimates weighting it): a text is encoded
 * once per encoding, under one {@link MAX_TOKENIZED_CHARS} cap and one memo, however many of a
 * request's targets tokenize differently.
 */
class RequestEncodings {
  readonly #made = new Map<'o200k_base' | 'cl100k_base', Promise<ExactCounter>>();

  constructor(private readonly load: EncodingLoader) {}

  of(name: 'o200k_base' | 'cl100k_base'): Promise<ExactCounter> {
    let made = this.#made.get(name);
    if (made === undefined) {
      made = this.load(name).then((encoding) => new ExactCounter(name, encoding));
      this.#made.set(name, made);
    }
    return made;
  }
}

/** The token counter for an upstream model id (loads its encodings on first use). */
export async function tokenCounterFor(model: string): Promise<TokenCounter> {
  return counterOf(tokenizerFamily(model), new RequestEncodings(loadEncoding));
}

async function counterOf(family: TokenizerFamily, encodings: RequestEncodings): Promise<TokenCounter> {
  switch (family) {
    case 'o200k_base':
    case 'cl100k_base':
      return encodings.of(family);
    case 'anthropic-estimate':
    case 'gemini-estimate':
    case 'generic-estimate': {
      const [o200k, cl100k] = await Promise.all([encodings.of('o200k_base'), encodings.of('cl100k_base')]);
      return new EstimatingCounter(family, o200k, cl100k, TOKEN_ESTIMATES[family]);
    }
  }
}

/**
 * Counts in several families at once, for a prompt any of several models may be sent (an alias
 * whose targets tokenize differently): each text counts its largest count among them, so a
 * total within a budget is within it in every family; cuts are made in each family in turn.
 */
class LargestCounter implements TokenCounter {
  readonly family: TokenizerFamily;
  readonly exact: boolean;

  constructor(private readonly counters: readonly TokenCounter[]) {
    this.family = counters[0]!.family;
    this.exact = counters.every((counter) => counter.exact);
  }

  count(text: string): number {
    let largest = 0;
    for (const counter of this.counters) largest = Math.max(largest, counter.count(text));
    return largest;
  }

  head(text: string, tokens: number): string {
    return this.counters.reduce((kept, counter) => counter.head(kept, tokens), text);
  }

  tail(text: string, tokens: number): string {
    return this.counters.reduce((kept, counter) => counter.tail(kept, tokens), text);
  }
}

/** The distinct tokenizer families of some upstream model ids, in order. */
export function tokenizerFamilies(models: readonly string[]): TokenizerFamily[] {
  return [...new Set(models.map(tokenizerFamily))];
}

/**
 * The counter for a prompt sent to any of some upstream model ids: one family's counter when
 * they share one, else a counter taking each text's largest count among their families
 * (`family` is then the first model's). Made once per request: its families share one counter
 * per encoding, so the request tokenizes at most {@link MAX_TOKENIZED_CHARS} in each.
 * `load` is for tests.
 */
export async function tokenCounterForModels(
  models: readonly string[],
  load: EncodingLoader = loadEncoding,
): Promise<TokenCounter> {
  const families = tokenizerFamilies(models);
  if (families.length === 0) throw new Error('tokenCounterForModels needs at least one model id.');
  const encodings = new RequestEncodings(load);
  if (families.length === 1) return counterOf(families[0]!, encodings);
  return new LargestCounter(await Promise.all(families.map(async (family) => counterOf(family, encodings))));
}

/** Options of the counting functions. */
export interface CountOptions {
  /**
   * Tokens charged per image part (detail unknown before the provider sees it), and per page of a
   * PDF `file` part, which the provider also gives the model as an image. @default 1105
   */
  imageTokens?: number;
}

const DEFAULT_IMAGE_TOKENS = 1105;

/** The text of a message's content, text parts joined (other parts are counted by `mediaTokens`). */
export function contentText(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n');
}

/** Tokens one message takes in the prompt, envelope included (images, audio and files by estimate). */
export function countMessage(
  message: ChatMessage,
  counter: TokenCounter,
  options: CountOptions = {},
): number {
  let tokens = PER_MESSAGE + counter.count(message.role) + counter.count(contentText(message.content));
  if ('name' in message && typeof message.name === 'string') tokens += PER_NAME + counter.count(message.name);
  for (const refusal of refusalTexts(message)) tokens += counter.count(refusal);
  tokens += mediaTokens(message.content, options.imageTokens ?? DEFAULT_IMAGE_TOKENS);
  for (const { name, input } of callsOf(message))
    tokens += PER_TOOL_CALL + counter.count(name) + counter.count(input);
  if (message.role === 'tool') tokens += counter.count(toolCallIdOf(message));
  return tokens;
}

/**
 * A tool message's call id, or '' without one: the request schema lets a message leave it out
 * (the provider refuses it with a 400 naming the field), and counting must not fail first.
 */
function toolCallIdOf(message: { tool_call_id?: unknown }): string {
  return typeof message.tool_call_id === 'string' ? message.tool_call_id : '';
}

/** The JSON of a request's function definitions: its `tools`, and its legacy `functions`. */
function definitionTexts(request: Pick<ChatCompletionRequest, 'tools' | 'functions'>): string[] {
  const texts: string[] = [];
  if (Array.isArray(request.tools) && request.tools.length > 0) texts.push(JSON.stringify(request.tools));
  if (Array.isArray(request.functions) && request.functions.length > 0)
    texts.push(JSON.stringify(request.functions));
  return texts;
}

/**
 * Tokens the function definitions take, `tools` and legacy `functions` alike (their JSON, an
 * upper estimate of the providers' rendering).
 */
export function countTools(
  request: Pick<ChatCompletionRequest, 'tools' | 'functions'>,
  counter: TokenCounter,
): number {
  return definitionTexts(request).reduce((sum, text) => sum + counter.count(text), 0);
}

/**
 * The JSON of a structured-output schema (`response_format: { type: 'json_schema' }`), which
 * providers put in the prompt (OpenAI's structured outputs, Gemini's response schema, a tool's
 * input schema at Anthropic); undefined for other formats, which add no schema.
 */
function responseSchemaJson(format: ChatCompletionRequest['response_format']): string | undefined {
  return format?.type === 'json_schema' &&
    typeof format.json_schema === 'object' &&
    format.json_schema !== null
    ? JSON.stringify(format.json_schema)
    : undefined;
}

/** Tokens a request's structured-output schema takes (its JSON, as tools are counted); 0 without one. */
export function countResponseFormat(
  format: ChatCompletionRequest['response_format'],
  counter: TokenCounter,
): number {
  const json = responseSchemaJson(format);
  return json === undefined ? 0 : counter.count(json);
}

/** Tokens a whole request's prompt takes: messages, tools, the response schema and reply priming. */
export function countRequest(
  request: ChatCompletionRequest,
  counter: TokenCounter,
  options: CountOptions = {},
): number {
  let tokens =
    REPLY_PRIMING + countTools(request, counter) + countResponseFormat(request.response_format, counter);
  for (const message of request.messages) tokens += countMessage(message, counter, options);
  return tokens;
}

/**
 * An upper bound of a request's prompt tokens without tokenizing, in each of some families (an
 * alias' targets): a BPE token is at least one UTF-8 byte, so bytes bound the exact count, and an
 * estimate is at most the sum of its weights per byte. The request is walked once, its bytes
 * scaled by the largest family factor. Lets the condenser skip tokenizing requests that
 * obviously fit.
 */
export function upperBoundTokens(
  request: ChatCompletionRequest,
  families: TokenizerFamily | readonly TokenizerFamily[],
  options: CountOptions = {},
): number {
  const schema = responseSchemaJson(request.response_format);
  let bytes = REPLY_PRIMING + (schema === undefined ? 0 : Buffer.byteLength(schema));
  for (const text of definitionTexts(request)) bytes += Buffer.byteLength(text);
  for (const message of request.messages) {
    bytes += PER_MESSAGE + PER_NAME + message.role.length + Buffer.byteLength(contentText(message.content));
    if ('name' in message && typeof message.name === 'string') bytes += Buffer.byteLength(message.name);
    for (const refusal of refusalTexts(message)) bytes += Buffer.byteLength(refusal);
    bytes += mediaTokens(message.content, options.imageTokens ?? DEFAULT_IMAGE_TOKENS);
    for (const { name, input } of callsOf(message))
      bytes += PER_TOOL_CALL + Buffer.byteLength(name) + Buffer.byteLength(input);
    if (message.role === 'tool') bytes += Buffer.byteLength(toolCallIdOf(message));
  }
  const factor = Math.max(1, ...(typeof families === 'string' ? [families] : families).map(tokensPerByte));
  return Math.ceil(bytes * factor);
}

/** Most tokens a family counts per UTF-8 byte: every token, and every digit, is at least one byte. */
function tokensPerByte(family: TokenizerFamily): number {
  if (family === 'o200k_base' || family === 'cl100k_base') return 1;
  const estimate = TOKEN_ESTIMATES[family];
  return estimate.o200k + estimate.cl100k + estimate.digits;
}
