import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../../meter-exchange';
import { cohereMeter } from './cohere-meter';

// Cohere v1's chat stream: newline-delimited JSON by default, server-sent events with
// `Accepts: text/event-stream`; the stream-end event carries the whole response and its
// billed units (https://docs.cohere.com/v1/reference/chat-stream)
const events = [
  { is_finished: false, event_type: 'stream-start', generation_id: 'gen-1' },
  { is_finished: false, event_type: 'text-generation', text: 'Hello' },
  {
    is_finished: true,
    event_type: 'stream-end',
    finish_reason: 'COMPLETE',
    response: {
      response_id: 'resp-1',
      text: 'Hello',
      generation_id: 'gen-1',
      finish_reason: 'COMPLETE',
      meta: {
        billed_units: { input_tokens: 7, output_tokens: 3 },
        tokens: { input_tokens: 70, output_tokens: 3 },
      },
    },
  },
];

function exchange(contentType: string, responseText: string, truncated = false): MeterExchange {
  return {
    method: 'POST',
    url: new URL('https://api.cohere.com/v1/chat'),
    requestHeaders: { 'content-type': 'application/json' },
    requestText: JSON.stringify({ model: 'command-r-08-2024', message: 'Hi', stream: true }),
    status: 200,
    responseHeaders: { 'content-type': contentType },
    responseText,
    ...(truncated ? { responseTruncated: true } : {}),
    responseBytes: responseText.length,
  };
}

describe('cohere meter: v1 chat stream', () => {
  const metered = {
    provider: 'cohere',
    model: 'command-r-08-2024',
    operation: 'chat',
    tokens: { inputTokens: 7, outputTokens: 3 },
    units: {},
  };

  it('reads the billed units of the stream-end event sent as server-sent events', () => {
    const sse = events
      .map((event) => `event: ${event.event_type}\ndata: ${JSON.stringify(event)}\n\n`)
      .join('');
    expect(cohereMeter.meter(exchange('text/event-stream', sse))).toEqual(metered);
  });

  it('reads the stream-end line of a stream the capture bound cut in its middle', () => {
    const lines = events.map((event) => JSON.stringify(event));
    // head and tail kept: the second line lost its end
    const kept = `${lines[0]}\n${(lines[1] ?? '').slice(0, 20)}\n${lines[2]}\n`;
    expect(cohereMeter.meter(exchange('application/stream+json', kept, true))).toEqual(metered);
  });
});
