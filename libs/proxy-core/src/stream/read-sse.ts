import { createParser, type EventSourceMessage, type ParseError } from 'eventsource-parser';
import { SwitchyardError } from '../errors/switchyard-error';
import { isNodeReadable, releaseBody } from './release-upstream-body';

/** One server-sent event. */
export interface SseEvent {
  /** The `event:` field, when the provider names its events (Anthropic does). */
  event: string | undefined;
  data: string;
  id: string | undefined;
}

const STREAMING = { stream: true } as const;

/**
 * How much of one unfinished event (SSE: its lines so far and the line in progress) or
 * NDJSON line is held, in characters. Without a bound an upstream that trickles bytes and
 * never ends its event is held until the request deadline (the idle timer restarts on every
 * read). Not smaller: an event may carry a whole generated image inline, in base64 (Gemini,
 * OpenAI-compatible image models), several MiB; the AWS event stream format caps a message
 * at the same 16 MiB (see read-bedrock-event-stream.ts).
 */
export const MAX_STREAM_EVENT_CHARS = 16 * 1024 * 1024;

/** The error of a stream whose event (or line) goes past {@link MAX_STREAM_EVENT_CHARS} without ending. */
function eventTooLong(what: string): SwitchyardError {
  return new SwitchyardError(
    'upstream_stream_error',
    `The upstream stream sent ${what} longer than ${MAX_STREAM_EVENT_CHARS} characters (16 MiB) without ending it.`,
  );
}

/**
 * Parses server-sent events synchronously from the reads of a byte stream: `feed` gives the
 * events completed by one read. The events array is reused: read it before the next `feed`.
 */
export class SseDecoder {
  readonly #pending: SseEvent[] = [];
  // the byte-order mark is dropped by #text, not by the decoder: the decoder may first be
  // used in the middle of the stream, where a U+FEFF is text
  readonly #decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  /** Whether the decoder may hold the first bytes of a character the previous read cut. */
  #partial = false;
  /** Whether the text's first character was seen (a byte-order mark there is dropped). */
  #started = false;
  /** Set once the event in progress went past the bound: the parser dropped it and stopped. */
  #tooLong = false;
  /**
   * Whether the text fed so far ends with a carriage return, which the parser holds in case a
   * line feed follows (CRLF is one line end): at the end of the body none will, and a CR alone
   * ends a line (WHATWG SSE), so `end` gives it its line feed rather than let it be dropped.
   */
  #endsWithCr = false;
  // the parser holds the line in progress and the data lines of the event in progress; past
  // the bound it drops them and refuses to go on
  readonly #parser = createParser({
    onEvent: (message: EventSourceMessage) => {
      this.#pending.push({ event: message.event, data: message.data, id: message.id });
    },
    onError: (error: ParseError) => {
      if (error.type === 'max-buffer-size-exceeded') this.#tooLong = true;
    },
    maxBufferSize: MAX_STREAM_EVENT_CHARS,
  });

  /**
   * The events one read completes (often one, sometimes none or several). Throws
   * `upstream_stream_error` once an event goes past {@link MAX_STREAM_EVENT_CHARS}: at once, or,
   * when the same read completed events before it, at the next call (they go first).
   */
  feed(chunk: Uint8Array | string): readonly SseEvent[] {
    if (this.#tooLong) throw eventTooLong('an event');
    // emptied here, not after reading: the caller reads the events while yielding them
    this.#pending.length = 0;
    this.#feedText(typeof chunk === 'string' ? chunk : this.#text(chunk));
    if (this.#tooLong && this.#pending.length === 0) throw eventTooLong('an event');
    return this.#pending;
  }

  /** The events left when the body ends. */
  end(): readonly SseEvent[] {
    if (this.#tooLong) throw eventTooLong('an event');
    this.#pending.length = 0;
    this.#feedText(this.#started ? this.#decoder.decode() : this.#dropMark(this.#decoder.decode()));
    // no line feed can follow the held carriage return now: it ends its line
    if (this.#endsWithCr) this.#feedText('\n');
    // a final event without its blank line is incomplete by the SSE spec and is dropped
    this.#parser.reset({ consume: false });
    return this.#pending;
  }

  #feedText(text: string): void {
    if (text.length === 0) return;
    this.#endsWithCr = text.charCodeAt(text.length - 1) === 0x0d;
    this.#parser.feed(text);
  }

  #text(bytes: Uint8Array): string {
    const last = bytes[bytes.length - 1];
    let text: string;
    // A read that ends with an ASCII byte (SSE reads end with a line break) ends between
    // characters; with nothing held from the previous read it decodes on its own, through
    // Buffer's UTF-8 decoder: Node 20's streaming TextDecoder costs several times as much
    // (about 6 µs against 1 for a 3.6 KB read). Invalid bytes become U+FFFD in both.
    if (!this.#partial && last !== undefined && last < 0x80 && Buffer.isBuffer(bytes)) {
      text = bytes.toString('utf8');
    } else {
      text = this.#decoder.decode(bytes, STREAMING);
      // after a read ending with an ASCII byte the decoder holds nothing
      if (last !== undefined) this.#partial = last >= 0x80;
    }
    return this.#started ? text : this.#dropMark(text);
  }

  /** Drops a byte-order mark that begins the text, as TextDecoder does by default. */
  #dropMark(text: string): string {
    if (text.length === 0) return text;
    this.#started = true;
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }
}

/**
 * The reads of an upstream body. A Node stream is read without its iterator's
 * destroy-on-stop, and released by the reader instead (`releaseBody`), which skips
 * the abort error when the body's end already arrived.
 */
export function bodyReads(body: AsyncIterable<Uint8Array | string>): AsyncIterable<Uint8Array | string> {
  return isNodeReadable(body) ? body.iterator({ destroyOnReturn: false }) : body;
}

/**
 * Parses a byte stream of server-sent events incrementally, yielding each event as soon as
 * its blank line arrives. Never buffers more than one partial event, of at most
 * {@link MAX_STREAM_EVENT_CHARS}.
 */
export async function* readSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new SseDecoder();
  try {
    for await (const chunk of bodyReads(body)) {
      const events = decoder.feed(chunk);
      for (let i = 0; i < events.length; i++) yield events[i] as SseEvent;
    }
    const rest = decoder.end();
    for (let i = 0; i < rest.length; i++) yield rest[i] as SseEvent;
  } finally {
    releaseBody(body);
  }
}

/**
 * Parses newline-delimited JSON incrementally (Ollama and others stream this way),
 * yielding each complete line's value. A line longer than {@link MAX_STREAM_EVENT_CHARS}
 * fails the stream with `upstream_stream_error`.
 */
export async function* readNdjson(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buffer = '';
  // as readSse reads: released here rather than destroyed by a Node iterator, so a body whose
  // stream finished (finishBody) keeps its connection
  try {
    for await (const chunk of bodyReads(body)) {
      const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, STREAMING);
      buffer += text;
      // a read without a line end ends no line: the held part is not searched again
      let newline = text.indexOf('\n') === -1 ? -1 : buffer.indexOf('\n');
      while (newline !== -1) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line.length > 0) yield JSON.parse(line) as unknown;
        newline = buffer.indexOf('\n');
      }
      if (buffer.length > MAX_STREAM_EVENT_CHARS) throw eventTooLong('a line');
    }
    const rest = (buffer + decoder.decode()).trim();
    if (rest.length > 0) yield JSON.parse(rest) as unknown;
  } finally {
    releaseBody(body);
  }
}
