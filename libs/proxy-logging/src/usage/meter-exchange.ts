/** Headers as node and undici give them. */
export type HeaderMap = Readonly<Record<string, string | string[] | undefined>>;

/**
 * One pass-through exchange as a meter sees it, after the client got every byte: the
 * request (body captured up to a bound) and the decompressed response text (binary
 * bodies are counted, not kept).
 */
export interface MeterExchange {
  method: string;
  url: URL;
  status: number;
  requestHeaders: HeaderMap;
  responseHeaders: HeaderMap;
  /** The request body as text, when it was textual; head and tail only when it exceeded the capture bound. */
  requestText?: string;
  /** True when `requestText` lost its middle to the capture bound. */
  requestTruncated?: boolean;
  /** The response body as text, when it was textual; head and tail only when it exceeded the bound. */
  responseText?: string;
  /** True when `responseText` lost its middle to the bound. */
  responseTruncated?: boolean;
  /** Bytes the client received (as sent on the wire). */
  responseBytes: number;
}

/** A header's first value, lower-cased name. */
export function header(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The response media type without parameters, lower case. */
export function responseType(exchange: MeterExchange): string {
  return (header(exchange.responseHeaders, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** `text` parsed as JSON; undefined when it is absent, empty or not JSON (a body cut by the capture bound). */
export function parseJson(text: string | undefined): unknown {
  if (text === undefined || text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The response body parsed as JSON, or undefined. */
export function responseJson(exchange: MeterExchange): unknown {
  return exchange.responseTruncated === true ? undefined : parseJson(exchange.responseText);
}

/** Longest model name read from the kept tail of a cut answer. */
const MAX_TAIL_MODEL_CHARS = 256;

/**
 * The JSON answer of an embeddings endpoint (OpenAI's shape: `data`, then `model` and `usage`);
 * when the capture bound cut its middle, as a batch of base64 vectors past 8 MiB is, the
 * `usage` and `model` its kept text holds, as `{ usage, model }`: undefined without a usage.
 * Only for answers whose cut part holds nothing but vectors, numbers or base64 strings
 * (`A-Z a-z 0-9 + / =`), which cannot hold a key: the last `"usage"` and `"model"` keys of the
 * kept text are the answer's own.
 */
export function embeddingsResponseJson(exchange: MeterExchange): unknown {
  return cutResponseJson(exchange, 'usage', 'model', () => true);
}

/**
 * The JSON answer of an endpoint that puts its usage (and model) at its top level after its bulk
 * data (a GPT image model's base64 images, a Gemini image model's candidates); when the capture
 * bound cut its middle, the `usageKey` object and `modelKey` string of its top level that its
 * kept tail holds, as `{ [usageKey]: ..., [modelKey]: ... }`: undefined without the usage. An
 * answer that is a list of such objects (a stream sent as one JSON array) gives its last one's.
 * The cut part may hold objects with keys the model chose (a function call's arguments): a key
 * found in one is not at the top level (see {@link closesTopLevel}), and is passed over.
 */
export function topLevelResponseJson(exchange: MeterExchange, usageKey: string, modelKey?: string): unknown {
  return cutResponseJson(exchange, usageKey, modelKey, closesTopLevel);
}

/**
 * The answer parsed, or when cut the last `usageKey` object and `modelKey` string of its kept
 * text whose place `accepts` (given the text and where the value ends).
 */
function cutResponseJson(
  exchange: MeterExchange,
  usageKey: string,
  modelKey: string | undefined,
  accepts: (text: string, end: number) => boolean,
): unknown {
  if (exchange.responseTruncated !== true) return parseJson(exchange.responseText);
  const text = exchange.responseText ?? '';
  const usage = objectAt(text, lastKeyedValueAt(text, usageKey, '{', accepts));
  if (usage === undefined) return undefined;
  const model =
    modelKey === undefined ? undefined : stringAt(text, lastKeyedValueAt(text, modelKey, '"', accepts));
  return modelKey === undefined || model === undefined || model.length > MAX_TAIL_MODEL_CHARS
    ? { [usageKey]: usage }
    : { [usageKey]: usage, [modelKey]: model };
}

/**
 * Every object value of a `"<key>":` in `text`, at any depth, last first (the grounding metadata
 * of each candidate a cut Gemini answer kept). As in {@link keyedValuesAt}, each is the value of
 * a key of the answer, but of any object in it: for keys only the objects meant have.
 */
export function keyedObjectsIn(text: string, key: string): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  for (const start of keyedValuesAt(text, key, '{')) {
    const value = objectAt(text, start);
    if (value !== undefined) found.push(value);
  }
  return found;
}

/**
 * Where each value of a `"<key>":` of `text` that starts with `opening` starts, last first. The
 * kept text is a head and a tail joined, and the tail may begin inside a string, whose content a
 * search could take for a key. It cannot: within a JSON string every quote is escaped, so a quote
 * right after the key's last letter ends a string, and one that a colon follows ends a key.
 */
function* keyedValuesAt(text: string, key: string, opening: string): Generator<number> {
  const quoted = `"${key}"`;
  const separator = /\s*:\s*/y;
  for (let at = text.lastIndexOf(quoted); at >= 0; at = at > 0 ? text.lastIndexOf(quoted, at - 1) : -1) {
    separator.lastIndex = at + quoted.length;
    if (separator.exec(text) !== null && text[separator.lastIndex] === opening) yield separator.lastIndex;
  }
}

/** Where the value of the last `"<key>":` of `text` that starts with `opening` and whose place `accepts` starts; -1 when none. */
function lastKeyedValueAt(
  text: string,
  key: string,
  opening: string,
  accepts: (text: string, end: number) => boolean,
): number {
  for (const start of keyedValuesAt(text, key, opening)) {
    const end = jsonValueEnd(text, start);
    if (end >= 0 && accepts(text, end)) return start;
  }
  return -1;
}

/**
 * True when what follows a value ending at `end` of `text` is the rest of the top-level object
 * (sibling keys, then its closing brace) and the end of the text, or of a list of such objects
 * after its last one: the value was the top-level object's. What follows a value nested deeper
 * closes the object (or array) it is in first, and does not read as members of one object.
 */
function closesTopLevel(text: string, end: number): boolean {
  const rest = text.slice(end).trimEnd().replace(/\]$/, '').trimStart();
  if (rest === '}') return true;
  if (!rest.startsWith(',')) return false;
  const members = parseJson(`{${rest.slice(1)}`);
  return typeof members === 'object' && members !== null && !Array.isArray(members);
}

/**
 * The end (exclusive) of the JSON string or object that starts at `start` of `text` (its `"` or
 * `{`), or -1 when it does not close: a scan for the closing quote or brace that skips strings
 * and escapes, for reading one value out of text that is not JSON as a whole (a truncated
 * answer, a binary event stream's payloads).
 */
export function jsonValueEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let at = start; at < text.length; at += 1) {
    const char = text[at];
    if (inString) {
      if (char === '\\') at += 1;
      else if (char === '"') {
        inString = false;
        if (depth === 0) return at + 1;
      }
    } else if (char === '"') inString = true;
    else if (char === '{') depth += 1;
    else if (char === '}') {
      depth -= 1;
      if (depth === 0) return at + 1;
    }
  }
  return -1;
}

/** The JSON object that starts at `start` of `text`, or undefined (none there, not closed, not JSON). */
function objectAt(text: string, start: number): Record<string, unknown> | undefined {
  const end = start < 0 ? -1 : jsonValueEnd(text, start);
  const value = end < 0 ? undefined : parseJson(text.slice(start, end));
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The JSON string that starts at `start` of `text`, or undefined. */
function stringAt(text: string, start: number): string | undefined {
  const end = start < 0 ? -1 : jsonValueEnd(text, start);
  const value = end < 0 ? undefined : parseJson(text.slice(start, end));
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * The request body parsed as JSON, or undefined: also when it lost its middle to the capture
 * bound, whose head and tail may join into JSON that holds a part of it (a count of the part).
 */
export function requestJson(exchange: MeterExchange): unknown {
  return exchange.requestTruncated === true ? undefined : parseJson(exchange.requestText);
}

/**
 * The characters (code points) of `text`, a text of the request (the input of a call billed by
 * the characters it speaks), or undefined when the count is not known: the text is absent or
 * empty, as when the body was not captured (a type the proxy keeps no text of, a coding it
 * cannot decode), or the body lost its middle to the capture bound (its head and tail may still
 * parse, and hold a part). A meter then reports no usage, so the price is unknown, rather than 0
 * characters or those of a part.
 */
export function wholeRequestCharacters(exchange: MeterExchange, text: unknown): number | undefined {
  if (exchange.requestTruncated === true || typeof text !== 'string' || text.length === 0) return undefined;
  return [...text].length;
}

/** Longest form field value read from a captured multipart body (a model name, a language). */
const MAX_FORM_FIELD_CHARS = 256;

/**
 * A text field of a `multipart/form-data` request body, when the body was captured: the
 * `model` of an audio upload, whose other part is the file. Undefined when absent or longer
 * than a name would be.
 */
export function requestFormField(exchange: MeterExchange, name: string): string | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(
    header(exchange.requestHeaders, 'content-type') ?? '',
  );
  const delimiter = boundary?.[1] ?? boundary?.[2];
  const text = exchange.requestText;
  if (delimiter === undefined || text === undefined) return undefined;
  const disposition = `name="${name}"`;
  for (const part of text.split(`--${delimiter}`)) {
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) continue;
    const head = part.slice(0, headerEnd).toLowerCase();
    if (
      !head.includes('content-disposition') ||
      !head.includes(disposition.toLowerCase()) ||
      head.includes('filename=')
    )
      continue;
    const value = part.slice(headerEnd + 4).replace(/\r\n$/, '');
    return value.length > 0 && value.length <= MAX_FORM_FIELD_CHARS ? value : undefined;
  }
  return undefined;
}

/** One server-sent event. */
export interface SseMessage {
  event?: string;
  data: string;
}

/** Parses an SSE body into events (comments and ids dropped; multi-line data joined). */
export function sseMessages(text: string | undefined): SseMessage[] {
  if (text === undefined) return [];
  const messages: SseMessage[] = [];
  for (const block of text.replace(/\r\n?/g, '\n').split('\n\n')) {
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
      else if (line.startsWith('event:')) event = line.slice(6).trim();
    }
    if (data.length > 0)
      messages.push(event === undefined ? { data: data.join('\n') } : { event, data: data.join('\n') });
  }
  return messages;
}

/** Each SSE event's data parsed as JSON (non-JSON data such as `[DONE]` skipped). */
export function sseJson(exchange: MeterExchange): { event?: string; json: unknown }[] {
  const out: { event?: string; json: unknown }[] = [];
  for (const message of sseMessages(exchange.responseText)) {
    const json = parseJson(message.data);
    if (json !== undefined) out.push(message.event === undefined ? { json } : { event: message.event, json });
  }
  return out;
}

/** True when the response is an event stream. */
export function isEventStream(exchange: MeterExchange): boolean {
  return responseType(exchange) === 'text/event-stream';
}

/** A record view of an unknown value (empty when it is not an object). */
export function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** A finite number, or undefined (numeric strings accepted). */
export function num(value: unknown): number | undefined {
  const parsed = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof parsed === 'number' && Number.isFinite(parsed) ? parsed : undefined;
}

/** A non-empty string, or undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** True for a 2xx status. */
export function succeeded(exchange: MeterExchange): boolean {
  return exchange.status >= 200 && exchange.status < 300;
}
