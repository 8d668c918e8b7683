import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../../meter-exchange';
import { awsPollyMeter } from './aws-polly-meter';

const BODY = JSON.stringify({
  Engine: 'neural',
  OutputFormat: 'mp3',
  Text: 'Hello world from Polly',
  VoiceId: 'Joanna',
});

function speech(
  request: Pick<MeterExchange, 'requestText' | 'requestTruncated'>,
  responseHeaders: Record<string, string> = {},
): MeterExchange {
  return {
    method: 'POST',
    url: new URL('https://polly.us-east-1.amazonaws.com/v1/speech'),
    requestHeaders: { 'content-type': 'application/json' },
    ...request,
    status: 200,
    responseHeaders: { 'content-type': 'audio/mpeg', ...responseHeaders },
    responseBytes: 9000,
  };
}

// SynthesizeSpeech reports the characters it billed in `x-amzn-RequestCharacters`; without it,
// only the request's JSON `Text` holds them
// (https://docs.aws.amazon.com/polly/latest/dg/API_SynthesizeSpeech.html)
describe('aws polly meter', () => {
  it('takes the characters the answer reports, whatever was captured of the request', () => {
    for (const request of [{ requestText: BODY }, {}, { requestText: BODY, requestTruncated: true }])
      expect(awsPollyMeter.meter(speech(request, { 'x-amzn-requestcharacters': '22' }))?.units).toEqual({
        characters: 22,
      });
  });

  it('counts the characters of the Text without the header', () => {
    expect(awsPollyMeter.meter(speech({ requestText: BODY }))).toMatchObject({
      model: 'neural',
      units: { characters: 22 },
    });
  });

  it('meters no usage, rather than 0 characters or those of a part, without the header and the whole request', () => {
    // not captured (a type or coding the proxy kept no text of), or its middle lost to the capture bound
    for (const request of [{}, { requestText: '' }, { requestText: BODY, requestTruncated: true }])
      expect(awsPollyMeter.meter(speech(request))).toBeUndefined();
  });
});
