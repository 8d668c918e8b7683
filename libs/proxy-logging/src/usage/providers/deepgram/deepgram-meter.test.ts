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

function transcription(query: string, metadata: Record<string, unknown>, transcripts = 0): MeterExchange {
  const channel = { alternatives: [{ transcript: 'thank you for calling', confidence: 0.98 }] };
  return {
    method: 'POST',
    url: new URL(`https://api.deepgram.com/v1/listen${query}`),
    requestHeaders: { 'content-type': 'audio/wav' },
    status: 200,
    responseHeaders: { 'content-type': 'application/json' },
    responseText: JSON.stringify({ metadata, results: { channels: Array(transcripts).fill(channel) } }),
    responseBytes: 2_000,
  };
}

const NOVA_2 = { c0d1: { name: '2-general-nova', version: '2024-01-06.5664', arch: 'nova-2' } };

// only a multichannel=true request transcribes, and bills, each channel on its own; without it the
// audio is transcribed once, while `metadata.channels` still counts the channels of the file
// (https://developers.deepgram.com/docs/multichannel, https://github.com/orgs/deepgram/discussions/932)
describe('deepgram meter: transcription', () => {
  it('bills a stereo file transcribed without multichannel once', () => {
    for (const query of ['?model=nova-3', '?model=nova-3&multichannel=false'])
      expect(deepgramMeter.meter(transcription(query, { duration: 12.5, channels: 2 }, 1))?.units).toEqual({
        audio_seconds: 12.5,
      });
  });

  it('bills the audio of every channel of a multichannel transcription', () => {
    expect(
      deepgramMeter.meter(
        transcription('?model=nova-3&multichannel=true', { duration: 12.5, channels: 2 }, 2),
      )?.units,
    ).toEqual({ audio_seconds: 25 });
  });

  it("counts the transcripts the answer holds, else the answer's channel count", () => {
    const multichannel = '?model=nova-3&multichannel=true';
    expect(
      deepgramMeter.meter(transcription(multichannel, { duration: 12.5, channels: 3 }, 2))?.units,
    ).toEqual({ audio_seconds: 25 });
    expect(deepgramMeter.meter(transcription(multichannel, { duration: 12.5, channels: 3 }))?.units).toEqual({
      audio_seconds: 37.5,
    });
  });

  it('bills the duration once for one channel, or a channel count that is not a count', () => {
    for (const channels of [1, 0, -2, 2.5, 'two', undefined])
      expect(
        deepgramMeter.meter(transcription('?model=nova-3&multichannel=true', { duration: 12.5, channels }))
          ?.units,
      ).toEqual({ audio_seconds: 12.5 });
  });

  it("names the model family the answer reports (`arch`), the price key's name, when the request names none", () => {
    expect(deepgramMeter.meter(transcription('', { duration: 3, model_info: NOVA_2 }))?.model).toBe('nova-2');
    // the request's own model wins; an answer without `arch` still has its internal name
    expect(
      deepgramMeter.meter(transcription('?model=nova-3', { duration: 3, model_info: NOVA_2 }))?.model,
    ).toBe('nova-3');
    expect(
      deepgramMeter.meter(transcription('', { duration: 3, model_info: { c0d1: { name: 'general' } } }))
        ?.model,
    ).toBe('general');
  });
});
