import { ReturnsTarget } from './returns-target';

// The text is a private field added to the chunk itself (see ReturnsTarget), so a changed copy
// never carries the original's text. Measured per chunk against the serialisation it saves: a
// WeakMap cost about half of it (ephemeron tables, and their work in every GC), a
// non-enumerable symbol through `Object.defineProperty` a quarter (a runtime call); this, next
// to nothing.
class SourceText extends ReturnsTarget {
  #text: string | undefined;

  constructor(chunk: object, text: string) {
    super(chunk);
    this.#text = text;
  }

  static set(chunk: object, text: string | undefined): void {
    if (#text in chunk) chunk.#text = text;
    else if (text !== undefined) new SourceText(chunk, text);
  }

  static get(chunk: object): string | undefined {
    return #text in chunk ? chunk.#text : undefined;
  }
}

/**
 * Remembers the JSON text a chunk was parsed from (or, for a chunk a mapper made, the text
 * `JSON.stringify` gives it), so the HTTP edge can write it instead of serialising the chunk
 * again. Only for text that is one SSE data line (no CR or LF), and only for the object
 * itself, returned as it is.
 */
export function rememberSourceText(chunk: object, text: string): void {
  // an SSE `data:` field spanning several lines arrives joined with LF: written as it is, it
  // would break the framing
  if (text.includes('\n') || text.includes('\r')) return;
  SourceText.set(chunk, text);
}

/**
 * Remembers the JSON text a whole (non-streamed) response was parsed from, for a response the
 * adapter returns as it was parsed, so the HTTP edge can send that text instead of
 * serialising the response again. A whole body may span lines, unlike an SSE data field.
 */
export function rememberResponseText(response: object, text: string): void {
  SourceText.set(response, text);
}

/** Forgets a chunk's or response's source text: called before anything may change it in place. */
export function forgetSourceText(chunk: object): void {
  SourceText.set(chunk, undefined);
}

/**
 * The upstream's own JSON text of a chunk or whole response nothing has changed since it was
 * parsed, or undefined. Valid only while the object is unchanged: the engine forgets it before
 * `onStreamChunk` and `afterResponse` transforms run, and a copy never has one.
 */
export function sourceTextOf(chunk: object): string | undefined {
  return SourceText.get(chunk);
}

// the engines createGateway made: between their adapters and the caller nothing changes a
// response in place (transform taps aside, which forget the text first); an object standing
// in for one (a wrapper, a Proxy) may, so its responses' text is not to be trusted
const engines = new WeakSet<object>();

/** Marks a gateway as one `createGateway` made. */
export function markEngineGateway(gateway: object): void {
  engines.add(gateway);
}

/**
 * Whether a gateway is one `createGateway` made, so that `sourceTextOf` holds for the
 * responses its `chat()` resolves with. Anything else, even one that delegates to such an
 * engine, may have changed a response in place.
 */
export function isEngineGateway(gateway: object): boolean {
  return engines.has(gateway);
}

// the streams the engine's own delivery made: nothing between it and the upstream's parser
// changes a chunk in place (transform taps aside, which forget the text first). A stamp, not a
// WeakSet: one entry per stream cost a WeakSet about 3 µs of profiled time per stream.
class EngineStream extends ReturnsTarget {
  readonly #engine: true;

  // an explicit constructor, and a caller that uses what it returns: a bundler's tree shaking
  // (Rollup's) judged `new EngineStream(stream)` with only a field initialiser free of side
  // effects and dropped it, so the built engine never marked a stream
  constructor(stream: object) {
    super(stream);
    this.#engine = true;
  }

  static has(stream: object): boolean {
    return #engine in stream;
  }
}

/** Marks a stream as the engine's own delivery (`Gateway.stream()`); returns the stream. */
export function markEngineStream<T extends object>(stream: T): T {
  return new EngineStream(stream) as unknown as T;
}

/**
 * Whether a stream is one `Gateway.stream()` of a `createGateway` engine returned, so that
 * `sourceTextOf` holds for its chunks. A stream wrapped by anything else is not, whatever it
 * yields: the wrapper could have changed a chunk in place.
 */
export function isEngineStream(stream: object): boolean {
  return EngineStream.has(stream);
}

// adapters whose streamed chunks reach the engine as their parser or mapper made them: the
// built-in OpenAI-compatible and Anthropic adapters mark themselves, their own classes only (a
// subclass, or a plugin adapter wrapping one, may change a chunk in place, which its text
// would not show)
const verbatimAdapters = new WeakSet<object>();

/**
 * Marks an adapter whose streams' chunks, and whole responses, are never changed in place
 * after they are parsed or made.
 */
export function markVerbatimAdapter(adapter: object): void {
  verbatimAdapters.add(adapter);
}

/** Whether an adapter's streamed chunks and responses may be written as their source text (see {@link markVerbatimAdapter}). */
export function isVerbatimAdapter(adapter: object): boolean {
  return verbatimAdapters.has(adapter);
}
