import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../../meter-exchange';
import { elevenLabsMeter } from './elevenlabs-meter';

const BODY = JSON.stringify({
  text: 'The first move is what sets everything in motion.',
  model_id: 'eleven_multilingual_v2',
});

function speech(
  request: Pick<MeterExchange, 'requestText' | 'requestTruncated'>,
  responseHeaders: Record<string, string> = {},
): MeterExchange {
  return {
    method: 'POST',
    url: new URL('https://api.elevenlabs.io/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb/stream'),
    requestHeaders: { 'content-type': 'application/json' },
    ...request,
    status: 200,
    responseHeaders: { 'content-type': 'audio/mpeg', ...responseHeaders },
    responseBytes: 81_920,
  };
}

// text to speech reports the credits it charged in `character-cost` (one a character, half of one
// on Flash and Turbo); only the request's JSON `text` holds the characters
// (https://elevenlabs.io/docs/api-reference/text-to-speech/convert,
// https://help.elevenlabs.io/hc/en-us/articles/21811236079505-How-do-I-find-the-model-ID)
describe('elevenlabs meter: text to speech', () => {
  it("keeps the credits the answer reports apart from the request's characters", () => {
    const flash = JSON.stringify({
      text: 'Flash speaks this sentence for half the credits.',
      model_id: 'eleven_flash_v2_5',
    });
    expect(elevenLabsMeter.meter(speech({ requestText: flash }, { 'character-cost': '24' }))).toMatchObject({
      model: 'eleven_flash_v2_5',
      units: { characters: 48, credits: 24 },
      alternativeUnits: [['credits', 'characters']],
    });
  });

  it('takes the credits the answer reports, whatever was captured of the request', () => {
    expect(elevenLabsMeter.meter(speech({ requestText: BODY }, { 'character-cost': '49' }))?.units).toEqual({
      characters: 49,
      credits: 49,
    });
    for (const request of [{}, { requestText: BODY, requestTruncated: true }])
      expect(elevenLabsMeter.meter(speech(request, { 'character-cost': '49' }))?.units).toEqual({
        credits: 49,
      });
  });

  it('counts the characters of the text without the header', () => {
    expect(elevenLabsMeter.meter(speech({ requestText: BODY }))?.units).toEqual({ characters: 49 });
  });

  it('meters no usage, rather than 0 characters or those of a part, without the header and the whole request', () => {
    for (const request of [
      {},
      { requestText: '' },
      { requestText: '{"model_id":"eleven_multilingual_v2"}' },
      { requestText: BODY, requestTruncated: true },
    ])
      expect(elevenLabsMeter.meter(speech(request))).toBeUndefined();
  });
});
