import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../../meter-exchange';
import { deepgramMeter } from './deepgram-meter';

const BODY = JSON.stringify({ text: 'Hello, how can I help you today?' });

function speak(
  request: Pick<MeterExchange, 'requestText' | 'requestTruncated'>,
  responseHeaders: Record<string, string> = {},
): MeterExchange {
  return {
    method: 'POST',
    url: new URL('https://api.deepgram.com/v1/speak?model=aura-2-thalia-en'),
    requestHeaders: { 'content-type': 'application/json' },
    ...request,
    status: 200,
    responseHeaders: { 'content-type': 'audio/mpeg', ...responseHeaders },
    responseBytes: 40_000,
  };
}

// text to speech reports the characters it billed in `dg-char-count`; without it, only the
// request's JSON `text` holds them (https://developers.deepgram.com/docs/tts-rest)
describe('deepgram meter: text to speech', () => {
  it('takes the characters the answer reports, whatever was captured of the request', () => {
    for (const request of [{ requestText: BODY }, {}, { requestText: BODY, requestTruncated: true }])
      expect(deepgramMeter.meter(speak(request, { 'dg-char-count': '32' }))?.units).toEqual({
        characters: 32,
      });
  });

  it('counts the characters of the text without the header', () => {
    expect(deepgramMeter.meter(speak({ requestText: BODY }))).toMatchObject({
      model: 'aura-2-thalia-en',
      units: { characters: 32 },
    });
  });

  it('meters no usage, rather than 0 characters or those of a part, without the header and the whole request', () => {
    for (const request of [{}, { requestText: '' }, { requestText: BODY, requestTruncated: true }])
      expect(deepgramMeter.meter(speak(request))).toBeUndefined();
  });
});
