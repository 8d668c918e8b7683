import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../../meter-exchange';
import { openAIMeter } from './openai-meter';

const INPUT = 'The quick brown fox jumped over the lazy dog.';

function speech(
  request: Pick<MeterExchange, 'requestText' | 'requestTruncated'>,
  responseText?: string,
): MeterExchange {
  return {
    method: 'POST',
    url: new URL('https://api.openai.com/v1/audio/speech'),
    requestHeaders: { 'content-type': 'application/json' },
    ...request,
    status: 200,
    responseHeaders: { 'content-type': responseText === undefined ? 'audio/mpeg' : 'text/event-stream' },
    ...(responseText === undefined ? {} : { responseText }),
    responseBytes: responseText?.length ?? 48_213,
  };
}

const body = (model: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ model, input: INPUT, voice: 'alloy', ...extra });

// tts-1 and tts-1-hd bill the characters of `input`, which only the request holds; gpt-4o-mini-tts
// bills tokens, reported only by its event stream's `speech.audio.done`
// (https://platform.openai.com/docs/api-reference/audio/createSpeech)
describe('openai meter: speech', () => {
  it('counts the characters of the input', () => {
    expect(openAIMeter.meter(speech({ requestText: body('tts-1') }))?.units).toEqual({ characters: 45 });
  });

  it('meters no usage, rather than 0 characters or those of a part, when the request was not captured whole', () => {
    for (const request of [
      {},
      { requestText: '' },
      { requestText: '{"voice":"alloy"}' },
      // head and tail joined by the capture bound may still parse: its input is not the whole one
      { requestText: body('tts-1'), requestTruncated: true },
      { requestText: body('gpt-4o-mini-tts'), requestTruncated: true },
    ])
      expect(openAIMeter.meter(speech(request))).toBeUndefined();
  });

  it('meters the tokens a stream reports without the characters it could not count', () => {
    const done = `event: speech.audio.done\ndata: ${JSON.stringify({
      type: 'speech.audio.done',
      usage: { input_tokens: 14, output_tokens: 101, total_tokens: 115 },
    })}\n\n`;
    const usage = openAIMeter.meter(
      speech(
        { requestText: body('gpt-4o-mini-tts', { stream_format: 'sse' }), requestTruncated: true },
        done,
      ),
    );
    expect(usage?.tokens).toMatchObject({ inputTokens: 14, outputTokens: 101 });
    expect(usage?.attributes).toBeUndefined();
    expect(usage?.units).toEqual({});
  });
});
