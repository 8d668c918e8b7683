import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { isNodeReadable, releaseUpstreamBody } from './release-upstream-body';

/** One server-sent event. */
export interface SseEvent {
  /** The `event:` field, when the provider names its events (Anthropic does). */
  event: string | undefined;
  data: string;
  id: string | undefined;
}

const STREAMING = { stream: true } as const;

/**
 * Parses server-sent events synchronously from the reads of a byte stream: `feed` gives the
 * events completed by one read. The events array is reused: read it before the next `feed`.
 */
export class SseDecoder {
  readonly #pending: SseEvent[] = [];
  readonly #decoder = new TextDecoder();
  readonly #parser = createParser({
    onEvent: (message: EventSourceMessage) => {
      this.#pending.push({ event: message.event, data: message.data, id: message.id });
    },
  });

  /** The events one read completes (often one, sometimes none or several). */
  feed(chunk: Uint8Array | string): readonly SseEvent[] {
    // emptied here, not after reading: the caller reads the events while yielding them
    this.#pending.length = 0;
    this.#parser.feed(typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, STREAMING));
    return this.#pending;
  }

  /** The events left when the body ends. */
  end(): readonly SseEvent[] {
    this.#pending.length = 0;
    this.#parser.feed(this.#decoder.decode());
    // a final event without its blank line is incomplete by the SSE spec and is dropped
    this.#parser.reset({ consume: false });
    return this.#pending;
  }
}

/**
 * The reads of an upstream body. A Node stream is read without its iterator's
 * destroy-on-stop, and released by the reader instead (`releaseUpstreamBody`), which skips
 * the abort error when the body's end already arrived.
 */
export function bodyReads(body: AsyncIterable<Uint8Array | string>): AsyncIterable<Uint8Array | string> {
  return isNodeReadable(body) ? body.iterator({ destroyOnReturn: false }) : body;
}

/**
 * Parses a byte stream of server-sent events incrementally, yielding each event as soon as
 * its blank line arrives. Never buffers more than one partial event.
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
    if (isNodeReadable(body)) releaseUpstreamBody(body);
  }
}

/**
 * Parses newline-delimited JSON incrementally (Ollama and others stream this way),
 * yielding each complete line's value.
 */
export async function* readNdjson(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line.length > 0) yield JSON.parse(line) as unknown;
      newline = buffer.indexOf('\n');
    }
  }
  const rest = (buffer + decoder.decode()).trim();
  if (rest.length > 0) yield JSON.parse(rest) as unknown;
}
