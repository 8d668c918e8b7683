import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../../meter-exchange';
import { playHtMeter } from './playht-meter';

const BODY = JSON.stringify({
  text: 'Hello from a realistic voice.',
  voice: 's3://voice-cloning-zero-shot/d9ff78ba/female-cs/manifest.json',
  output_format: 'mp3',
  voice_engine: 'Play3.0-mini',
});

function speech(request: Pick<MeterExchange, 'requestText' | 'requestTruncated'>): MeterExchange {
  return {
    method: 'POST',
    url: new URL('https://api.play.ht/api/v2/tts/stream'),
    requestHeaders: { 'content-type': 'application/json' },
    ...request,
    status: 200,
    responseHeaders: { 'content-type': 'audio/mpeg' },
    responseBytes: 30_000,
  };
}

// Play.ht bills the characters of the request's JSON `text`, which no answer reports
// (https://docs.play.ht/reference/api-generate-tts-audio-stream)
describe('playht meter', () => {
  it('counts the characters of the text', () => {
    expect(playHtMeter.meter(speech({ requestText: BODY }))?.units).toEqual({ characters: 29 });
  });

  it('meters no usage, rather than the characters of a part, when the request was not captured whole', () => {
    // head and tail joined by the capture bound may still parse: its text is not the whole one
    for (const request of [{}, { requestText: BODY, requestTruncated: true }])
      expect(playHtMeter.meter(speech(request))).toBeUndefined();
  });
});
