import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../../meter-exchange';
import { azureSpeechMeter } from './azure-speech-meter';

const SSML =
  "<speak version='1.0' xml:lang='en-US'><voice name='en-US-ChristopherNeural'>I'm excited to try text to speech!</voice></speak>";

function tts(request: Pick<MeterExchange, 'requestText' | 'requestTruncated'>): MeterExchange {
  return {
    method: 'POST',
    url: new URL('https://westus.tts.speech.microsoft.com/cognitiveservices/v1'),
    requestHeaders: { 'content-type': 'application/ssml+xml' },
    ...request,
    status: 200,
    responseHeaders: { 'content-type': 'audio/x-wav' },
    responseBytes: 120_000,
  };
}

// neural TTS bills the characters of the SSML's text, which only the request holds
// (https://learn.microsoft.com/azure/ai-services/speech-service/rest-text-to-speech)
describe('azure speech meter: text to speech', () => {
  it("counts the characters of the SSML's text", () => {
    expect(azureSpeechMeter.meter(tts({ requestText: SSML }))?.units).toEqual({ characters: 34 });
  });

  it('meters no usage, rather than 0 characters or those of a part, when the SSML was not captured whole', () => {
    // not captured (a type the proxy kept no text of), or its middle lost to the capture bound
    for (const request of [{}, { requestText: '' }, { requestText: SSML, requestTruncated: true }])
      expect(azureSpeechMeter.meter(tts(request))).toBeUndefined();
  });
});
