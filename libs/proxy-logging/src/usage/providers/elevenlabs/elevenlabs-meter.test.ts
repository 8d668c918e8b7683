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
// on Flash and Turbo); the request's JSON `text` holds the characters, which `x-character-count`
// counts when it was not captured (https://elevenlabs.io/docs/api-reference/text-to-speech/convert,
// https://elevenlabs.io/docs/api-reference/introduction,
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

  it('takes the characters the answer counts in `x-character-count` only when the text was not captured whole, and no credits from it', () => {
    for (const request of [{}, { requestText: BODY, requestTruncated: true }])
      expect(elevenLabsMeter.meter(speech(request, { 'x-character-count': '49' }))?.units).toEqual({
        characters: 49,
      });
    // the request's text, when kept whole, is what its characters are
    expect(
      elevenLabsMeter.meter(speech({ requestText: BODY }, { 'x-character-count': '60' }))?.units,
    ).toEqual({
      characters: 49,
    });
    // the credits are the answer's `character-cost` only
    expect(
      elevenLabsMeter.meter(speech({}, { 'x-character-count': '48', 'character-cost': '24' }))?.units,
    ).toEqual({ characters: 48, credits: 24 });
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

const BOUNDARY = 'form-boundary-3xQ9';

function transcription(fields: Record<string, string>): MeterExchange {
  const parts = [
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="call.mp3"\r\nContent-Type: audio/mpeg\r\n\r\nID3 audio bytes\r\n`,
    ...Object.entries(fields).map(
      ([name, value]) =>
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
    ),
  ];
  return {
    method: 'POST',
    url: new URL('https://api.elevenlabs.io/v1/speech-to-text'),
    requestHeaders: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    requestText: `${parts.join('')}--${BOUNDARY}--\r\n`,
    status: 200,
    responseHeaders: { 'content-type': 'application/json' },
    responseText: JSON.stringify({
      language_code: 'en',
      text: 'Hello world!',
      words: [
        { text: 'Hello', start: 0, end: 0.5, type: 'word' },
        { text: 'world!', start: 0.6, end: 1.25, type: 'word' },
      ],
    }),
    responseBytes: 180,
  };
}

// speech to text is an upload whose `model_id` is a form field next to the file
// (https://elevenlabs.io/docs/api-reference/speech-to-text/convert)
describe('elevenlabs meter: speech to text', () => {
  it('names the model the upload asks for', () => {
    expect(elevenLabsMeter.meter(transcription({ model_id: 'scribe_v2', language_code: 'en' }))).toEqual({
      provider: 'elevenlabs',
      model: 'scribe_v2',
      operation: 'stt',
      units: { audio_seconds: 1.25 },
    });
  });

  it('falls back to scribe_v1 when the upload names no model', () => {
    expect(elevenLabsMeter.meter(transcription({ language_code: 'en' }))?.model).toBe('scribe_v1');
  });
});
