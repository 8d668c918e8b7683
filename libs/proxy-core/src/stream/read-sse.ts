import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { isNodeReadable, releaseUpstreamBody } from './release-upstream-body';

/** One server-sent event. */
export interface SseEvent {
  /** The `event:` field, when the provider names its events (Anthropic does). */
  event: string | undefined;
  data: string;
  id: string | undefined;
}

/**
 * Parses a byte stream of server-sent events incrementally, yielding each event as soon as
 * its blank line arrives. Never buffers more than one partial event.
 */
export async function* readSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const pending: SseEvent[] = [];
  const parser = createParser({
    onEvent(message: EventSourceMessage) {
      pending.push({ event: message.event, data: message.data, id: message.id });
    },
  });
  const decoder = new TextDecoder();
  // a Node stream is read without its iterator's destroy-on-stop, and released here instead,
  // which skips the abort error when the body's end already arrived
  const readable = isNodeReadable(body) ? body : undefined;
  const source = readable === undefined ? body : readable.iterator({ destroyOnReturn: false });
  try {
    for await (const chunk of source) {
      parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true }));
      // drained by index, then emptied: shift() per event moves the rest of the array each time
      for (let i = 0; i < pending.length; i++) yield pending[i] as SseEvent;
      pending.length = 0;
    }
    parser.feed(decoder.decode());
    // a final event without its blank line is incomplete by the SSE spec and is dropped
    parser.reset({ consume: false });
    for (let i = 0; i < pending.length; i++) yield pending[i] as SseEvent;
    pending.length = 0;
  } finally {
    if (readable !== undefined) releaseUpstreamBody(readable);
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
