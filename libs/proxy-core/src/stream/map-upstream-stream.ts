import { SwitchyardError } from '../errors/switchyard-error';
import { callOf, maskErrorCredentials, type UpstreamCall } from '../http/call-credentials';
import { transportError } from '../http/upstream-error';
import type { UpstreamResponse } from '../http/upstream-request';
import {
  isUpstreamBody,
  type UpstreamBody,
  type UpstreamStreamResponse,
} from '../http/upstream-stream-request';
import { AttemptTimer } from '../resilience/attempt-timer';
import type { AbortSource } from '../resilience/linked-abort-controller';
import type { ChatCompletionChunk } from '../wire/openai-chat';
import { markCancelledBy } from './cancelled-reads';
import { chunksOfReads } from './chunk-reads';
import { bodyReads, readSse, SseDecoder } from './read-sse';
import { finishBody, releaseBody } from './release-upstream-body';

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
 * AbortSignal or an `AbortSource`, aborted), events that cannot be parsed or mapped
 * `upstream_stream_error`, and the upstream request is ended when the consumer stops early.
 * `signal` is the one the upstream request was made with: its abort ends a pending read.
 * When it is the gateway's (`callCancellation(context)`), reads that map to no chunk (pings,
 * thinking) count as activity for the attempt's timeouts. The engine reads the chunks a read at a time (see chunk-reads.ts).
 * The response is `upstreamRequest`'s, or `upstreamStreamRequest`'s (cheaper to read).
 */
export function mapUpstreamStream<TEvent, TChunk = ChatCompletionChunk>(
  response: UpstreamResponse,
  provider: string,
  signal: AbortSignal | AbortSource,
  events: (body: UpstreamResponse['body']) => AsyncIterable<TEvent>,
  mapper: StreamMapper<TEvent, TChunk>,
): AsyncGenerator<TChunk>;
export function mapUpstreamStream<TEvent, TChunk = ChatCompletionChunk>(
  response: UpstreamStreamResponse,
  provider: string,
  signal: AbortSignal | AbortSource,
  events: (body: UpstreamBody) => AsyncIterable<TEvent>,
  mapper: StreamMapper<TEvent, TChunk>,
): AsyncGenerator<TChunk>;
export function mapUpstreamStream<TEvent, TChunk>(
  response: UpstreamResponse | UpstreamStreamResponse,
  provider: string,
  signal: AbortSignal | AbortSource,
  events: (body: never) => AsyncIterable<TEvent>,
  mapper: StreamMapper<TEvent, TChunk>,
): AsyncGenerator<TChunk> {
  const reads = upstreamReads(
    response.body,
    callOf(response),
    provider,
    signal,
    events as (body: unknown) => AsyncIterable<TEvent>,
    mapper,
  );
  return chunksOfReads(markCancelledBy(reads, signal));
}

/**
 * A provider event the gateway could not parse or map: the stream's fault, not the connection's.
 * An error event's own error (the mapper's) keeps its meaning, with the call's credentials
 * masked where the provider's message quotes them.
 */
function unreadable(provider: string, cause: unknown, call: UpstreamCall | undefined): SwitchyardError {
  if (cause instanceof SwitchyardError) return maskErrorCredentials(cause, call);
  return new SwitchyardError(
    'upstream_stream_error',
    `Provider "${provider}" sent a stream event the gateway could not read.`,
    { provider, cause },
  );
}

/** The chunks of each upstream read, none empty. */
async function* upstreamReads<TEvent, TChunk>(
  body: UpstreamResponse['body'] | UpstreamBody,
  call: UpstreamCall | undefined,
  provider: string,
  signal: AbortSignal | AbortSource,
  events: (body: unknown) => AsyncIterable<TEvent>,
  mapper: StreamMapper<TEvent, TChunk>,
): AsyncGenerator<TChunk[], undefined> {
  // told of the reads that give no chunk: the reads that do reach the timer through the engine
  const timer = signal instanceof AttemptTimer ? signal : undefined;
  try {
    if ((events as unknown) === readSse) {
      // SSE is parsed here, in this loop, rather than by `readSse`'s generator: one async
      // generator less between each upstream read and the client
      const decoder = new SseDecoder();
      for await (const read of isUpstreamBody(body) ? body : bodyReads(body)) {
        const chunks: TChunk[] = [];
        const failure = mapEvents(mapper, decoder.feed(read) as readonly TEvent[], chunks);
        // the chunks of the events before a failing one still go first
        if (chunks.length > 0) yield chunks;
        else timer?.heard();
        if (failure !== undefined) throw unreadable(provider, failure.error, call);
        if (mapper.done) {
          finishBody(body);
          break;
        }
      }
      if (!mapper.done) {
        const chunks: TChunk[] = [];
        const failure = mapEvents(mapper, decoder.end() as readonly TEvent[], chunks);
        if (chunks.length > 0) yield chunks;
        if (failure !== undefined) throw unreadable(provider, failure.error, call);
      }
    } else {
      // the events' reader parses as it reads: its SyntaxError (a line that is no JSON) is the
      // stream's fault, anything else it throws the read's
      try {
        for await (const event of events(body)) {
          let chunks: TChunk[];
          try {
            chunks = mapper.map(event);
          } catch (cause) {
            throw unreadable(provider, cause, call);
          }
          if (chunks.length > 0) yield chunks;
          else timer?.heard();
          if (mapper.done) {
            // before the events' reader is returned, which would release the body
            finishBody(body);
            break;
          }
        }
      } catch (cause) {
        throw cause instanceof SyntaxError ? unreadable(provider, cause, call) : cause;
      }
    }
  } catch (cause) {
    throw transportError(provider, cause, signal);
  } finally {
    // ends the upstream request when the consumer stops early (client abort, error); does
    // nothing to a finished body
    releaseBody(body);
  }
  let rest: TChunk[];
  try {
    rest = mapper.end();
  } catch (cause) {
    throw unreadable(provider, cause, call);
  }
  if (rest.length > 0) yield rest;
  return undefined;
}

/**
 * Maps the events of one read into `chunks`, up to the provider's terminal event or the first
 * event that fails to map, whose error it returns.
 */
function mapEvents<TEvent, TChunk>(
  mapper: StreamMapper<TEvent, TChunk>,
  events: readonly TEvent[],
  chunks: TChunk[],
): { error: unknown } | undefined {
  for (let e = 0; e < events.length; e++) {
    let mapped: TChunk[];
    try {
      mapped = mapper.map(events[e] as TEvent);
    } catch (error) {
      return { error };
    }
    for (let i = 0; i < mapped.length; i++) chunks.push(mapped[i] as TChunk);
    if (mapper.done) break;
  }
  return undefined;
}
