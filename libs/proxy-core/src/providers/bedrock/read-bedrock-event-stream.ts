import type { EventStreamCodec } from '@smithy/core/event-streams';
import { SwitchyardError } from '../../errors/switchyard-error';
import type { BedrockStreamMessage } from './bedrock-wire';
import { bodyReads } from '../../stream/read-sse';
import { releaseBody } from '../../stream/release-upstream-body';

// the AWS event stream format caps one message at 16 MiB; a larger prelude is corruption
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
// prelude (total length, headers length, prelude CRC) + message CRC
const MIN_MESSAGE_BYTES = 16;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
// loaded with the first Bedrock stream: a gateway without Bedrock never loads @smithy (~9 MB RSS)
let codec: Promise<EventStreamCodec> | undefined;

function loadCodec(): Promise<EventStreamCodec> {
  codec ??= import('@smithy/core/event-streams').then(
    ({ EventStreamCodec: Codec }) =>
      new Codec(
        (bytes: Uint8Array) => decoder.decode(bytes),
        (text: string) => encoder.encode(text),
      ),
  );
  return codec;
}

function header(headers: Record<string, { type: string; value: unknown }>, name: string): string | undefined {
  const value = headers[name]?.value;
  return typeof value === 'string' ? value : undefined;
}

function unreadable(provider: string, cause?: unknown): SwitchyardError {
  return new SwitchyardError(
    'upstream_stream_error',
    `Provider "${provider}" sent an unreadable event stream.`,
    { provider, cause },
  );
}

/**
 * Reads an AWS event stream (`application/vnd.amazon.eventstream`) incrementally: frames
 * binary messages by their length prelude, checks both CRCs with the Smithy codec, and
 * yields each message's type and payload as soon as its last byte arrives. Holds at most
 * one partial message; a body that ends inside a message is an `upstream_stream_error`.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/RESTSelectObjectAppendix.html
 */
export async function* readBedrockEventStream(
  body: AsyncIterable<Uint8Array | string>,
  provider: string,
): AsyncGenerator<BedrockStreamMessage> {
  const eventCodec = await loadCodec();
  let buffer: Uint8Array = new Uint8Array(0);
  // as readSse reads: released here rather than destroyed by a Node iterator, so a body whose
  // stream finished (finishBody) keeps its connection
  try {
    for await (const chunk of bodyReads(body)) {
      const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
      buffer = buffer.length === 0 ? bytes : concat(buffer, bytes);
      while (buffer.length >= 4) {
        const total = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength).getUint32(0, false);
        if (total < MIN_MESSAGE_BYTES || total > MAX_MESSAGE_BYTES) throw unreadable(provider);
        if (buffer.length < total) break;
        yield decodeMessage(eventCodec, buffer.subarray(0, total), provider);
        buffer = buffer.subarray(total);
      }
    }
  } finally {
    releaseBody(body);
  }
  if (buffer.length > 0) {
    throw new SwitchyardError(
      'upstream_stream_error',
      `Provider "${provider}" closed the stream inside an event.`,
      { provider },
    );
  }
}

function decodeMessage(
  eventCodec: EventStreamCodec,
  bytes: Uint8Array,
  provider: string,
): BedrockStreamMessage {
  let message: ReturnType<EventStreamCodec['decode']>;
  try {
    message = eventCodec.decode(bytes);
  } catch (cause) {
    throw unreadable(provider, cause);
  }
  const headers = message.headers as Record<string, { type: string; value: unknown }>;
  const messageType = header(headers, ':message-type') ?? 'event';
  if (messageType === 'error') {
    return {
      messageType,
      type: header(headers, ':error-code') ?? 'UnknownError',
      payload: header(headers, ':error-message') ?? '',
    };
  }
  const type =
    (messageType === 'exception' ? header(headers, ':exception-type') : header(headers, ':event-type')) ?? '';
  return { messageType, type, payload: decoder.decode(message.body) };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
