import { transportError } from '../http/upstream-error';
import type { UpstreamResponse } from '../http/upstream-request';
import type { AbortSource } from '../resilience/linked-abort-controller';
import type { ChatCompletionChunk } from '../wire/openai-chat';
import { bodyReads, readSse, SseDecoder } from './read-sse';
import { releaseUpstreamBody } from './release-upstream-body';

/**
 * A per-stream mapper from provider events to OpenAI chunks (chat chunks unless said
 * otherwise). Create one per stream.
 */
export interface StreamMapper<TEvent, TChunk = ChatCompletionChunk> {
  /** The chunks for one provider event (often one, sometimes none or several). Throws on an error event. */
  map(event: TEvent): TChunk[];
  /** Whether the provider's terminal event arrived (reading stops there). */
  readonly done: boolean;
  /** The chunks to emit when the body ends; throws `upstream_stream_error` when the stream was cut. */
  end(): TChunk[];
}

/**
 * Reads an upstream body as provider events and yields OpenAI chunks incrementally:
 * transport failures become `SwitchyardError`s (the abort reason when `signal`, an
 * AbortSignal or an `AbortSource`, aborted), and the upstream request is ended when the
 * consumer stops early.
 */
export async function* mapUpstreamStream<TEvent, TChunk = ChatCompletionChunk>(
  response: UpstreamResponse,
  provider: string,
  signal: AbortSignal | AbortSource,
  events: (body: UpstreamResponse['body']) => AsyncIterable<TEvent>,
  mapper: StreamMapper<TEvent, TChunk>,
): AsyncGenerator<TChunk> {
  try {
    if ((events as unknown) === readSse) {
      // SSE is parsed here, in this loop, rather than by `readSse`'s generator: one async
      // generator less between each upstream event and the client
      const decoder = new SseDecoder();
      reading: for await (const read of bodyReads(response.body)) {
        const parsed = decoder.feed(read);
        for (let e = 0; e < parsed.length; e++) {
          const chunks = mapper.map(parsed[e] as TEvent);
          for (let i = 0; i < chunks.length; i++) yield chunks[i] as TChunk;
          if (mapper.done) break reading;
        }
      }
      if (!mapper.done) {
        const parsed = decoder.end();
        for (let e = 0; e < parsed.length && !mapper.done; e++) {
          const chunks = mapper.map(parsed[e] as TEvent);
          for (let i = 0; i < chunks.length; i++) yield chunks[i] as TChunk;
        }
      }
    } else {
      for await (const event of events(response.body)) {
        // a loop, not `yield*`: delegating to an array from an async generator wraps it in an
        // async-from-sync iterator, one more promise per chunk
        const chunks = mapper.map(event);
        for (let i = 0; i < chunks.length; i++) yield chunks[i] as TChunk;
        if (mapper.done) break;
      }
    }
  } catch (cause) {
    throw transportError(provider, cause, signal);
  } finally {
    // ends the upstream request when the consumer stops early (client abort, error)
    releaseUpstreamBody(response.body);
  }
  const rest = mapper.end();
  for (let i = 0; i < rest.length; i++) yield rest[i] as TChunk;
}
