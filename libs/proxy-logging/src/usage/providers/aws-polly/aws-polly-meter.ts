import { header, num, record, requestJson, str, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange) || !exchange.url.pathname.endsWith('/v1/speech')) return undefined;
  const request = record(requestJson(exchange));
  const characters =
    num(header(exchange.responseHeaders, 'x-amzn-requestcharacters')) ??
    [...(str(request['Text']) ?? '')].length;
  const engine = str(request['Engine']) ?? 'standard';
  return { provider: 'aws-polly', model: engine, operation: 'tts', units: { characters } };
}

/**
 * AWS Polly SynthesizeSpeech: characters from `x-amzn-RequestCharacters`, priced by engine.
 * @see https://docs.aws.amazon.com/polly/latest/dg/API_SynthesizeSpeech.html
 */
export const awsPollyMeter: ProviderMeter = {
  name: 'aws-polly',
  label: 'AWS Polly',
  hosts: ['polly.*.amazonaws.com'],
  units: 'TTS characters (by engine)',
  meter,
};
