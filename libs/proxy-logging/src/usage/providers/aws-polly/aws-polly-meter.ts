import {
  header,
  num,
  record,
  requestJson,
  str,
  succeeded,
  wholeRequestCharacters,
  type MeterExchange,
} from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange) || !exchange.url.pathname.endsWith('/v1/speech')) return undefined;
  const request = record(requestJson(exchange));
  // the API reports the characters it billed (SSML tags left out); the request's `Text` is the
  // fallback, and a body not captured whole leaves them unknown (and the price with them), not 0
  const characters =
    num(header(exchange.responseHeaders, 'x-amzn-requestcharacters')) ??
    wholeRequestCharacters(exchange, request['Text']);
  if (characters === undefined) return undefined;
  const engine = str(request['Engine']) ?? 'standard';
  return { provider: 'aws-polly', model: engine, operation: 'tts', units: { characters } };
}

/**
 * AWS Polly SynthesizeSpeech: characters from `x-amzn-RequestCharacters` (else the request's
 * `Text`, none when the body was not captured whole), priced by engine.
 * @see https://docs.aws.amazon.com/polly/latest/dg/API_SynthesizeSpeech.html
 */
export const awsPollyMeter: ProviderMeter = {
  name: 'aws-polly',
  label: 'AWS Polly',
  hosts: ['polly.*.amazonaws.com'],
  units: 'TTS characters (by engine)',
  meter,
};
