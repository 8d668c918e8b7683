import { record, requestJson, str, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange) || exchange.method !== 'POST' || !/\/tts(\/stream)?$/.test(exchange.url.pathname))
    return undefined;
  const request = record(requestJson(exchange));
  const text = str(request['text']);
  if (text === undefined) return undefined;
  return {
    provider: 'playht',
    model: str(request['voice_engine']) ?? 'Play3.0-mini',
    operation: 'tts',
    units: { characters: [...text].length },
  };
}

/**
 * Play.ht: text to speech by input characters.
 * @see https://docs.play.ht/reference/api-generate-tts-audio-stream
 */
export const playHtMeter: ProviderMeter = {
  name: 'playht',
  label: 'Play.ht',
  hosts: ['api.play.ht'],
  units: 'TTS characters',
  meter,
};
