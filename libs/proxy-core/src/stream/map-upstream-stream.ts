import { transportError } from '../http/upstream-error';
import type { UpstreamResponse } from '../http/upstream-request';
import type { AbortSource } from '../resilience/linked-abort-controller';
import type { ChatCompletionChunk } from '../wire/openai-chat';
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
    for await (const event of events(response.body)) {
      // a loop, not `yield*`: delegating to an array from an async generator wraps it in an
      // async-from-sync iterator, one more promise per chunk
      const chunks = mapper.map(event);
      for (let i = 0; i < chunks.length; i++) yield chunks[i] as TChunk;
      if (mapper.done) break;
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
