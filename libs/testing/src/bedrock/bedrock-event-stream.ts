import { EventStreamCodec } from '@smithy/core/event-streams';

// Real AWS binary event-stream messages (application/vnd.amazon.eventstream), encoded with
// the Smithy codec the AWS SDKs use: prelude, typed headers, JSON payload, both CRCs.
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const codec = new EventStreamCodec(
  (bytes: Uint8Array) => decoder.decode(bytes),
  (text: string) => encoder.encode(text),
);

const str = (value: string) => ({ type: 'string' as const, value });

/** One ConverseStream event (`messageStart`, `contentBlockDelta`, `metadata`, ...) as a binary message. */
export function encodeBedrockEvent(eventType: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': str(eventType),
      ':content-type': str('application/json'),
      ':message-type': str('event'),
    },
    body: encoder.encode(JSON.stringify(payload)),
  });
}

/** A modelled exception inside a stream (`throttlingException`, `modelStreamErrorException`, ...). */
export function encodeBedrockException(exceptionType: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': str(exceptionType),
      ':content-type': str('application/json'),
      ':message-type': str('exception'),
    },
    body: encoder.encode(JSON.stringify(payload)),
  });
}

/**
 * Encodes a readable `.chunks.txt` fixture into binary event-stream messages, one per
 * block: blocks are separated by blank lines, each a `:event-type <name>` or
 * `:exception-type <name>` line followed by the JSON payload.
 */
export function eventStreamChunks(text: string): Uint8Array[] {
  return text
    .replace(/\r\n/g, '\n')
    .split(/\n\n+/)
    .filter((block) => block.trim().length > 0)
    .map((block) => {
      const newline = block.indexOf('\n');
      const head = (newline === -1 ? block : block.slice(0, newline)).trim();
      const payload = JSON.parse(newline === -1 ? '{}' : block.slice(newline + 1)) as unknown;
      const [kind, name] = head.split(/\s+/);
      if (name === undefined) throw new Error(`Event-stream fixture block without a type: ${head}`);
      if (kind === ':event-type') return encodeBedrockEvent(name, payload);
      if (kind === ':exception-type') return encodeBedrockException(name, payload);
      throw new Error(
        `Event-stream fixture blocks start with :event-type or :exception-type, not "${kind ?? ''}".`,
      );
    });
}
