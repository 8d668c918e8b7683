import {
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
  if (!succeeded(exchange) || exchange.method !== 'POST' || !/\/tts(\/stream)?$/.test(exchange.url.pathname))
    return undefined;
  const request = record(requestJson(exchange));
  // only the request's `text` tells the characters billed: a body not captured, or cut by the
  // capture bound (whose head and tail may still parse), leaves them unknown, not a part
  const characters = wholeRequestCharacters(exchange, request['text']);
  if (characters === undefined) return undefined;
  return {
    provider: 'playht',
    model: str(request['voice_engine']) ?? 'Play3.0-mini',
    operation: 'tts',
    units: { characters },
  };
}

/**
 * Play.ht: text to speech by input characters (none when the body was not captured whole).
 * @see https://docs.play.ht/reference/api-generate-tts-audio-stream
 */
export const playHtMeter: ProviderMeter = {
  name: 'playht',
  label: 'Play.ht',
  hosts: ['api.play.ht'],
  units: 'TTS characters',
  meter,
};
