import {
  header,
  num,
  record,
  requestJson,
  responseJson,
  str,
  succeeded,
  wholeRequestCharacters,
  type MeterExchange,
} from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const path = exchange.url.pathname;
  const request = record(requestJson(exchange));
  if (path.includes('/text-to-speech/')) {
    const model = str(request['model_id']) ?? 'eleven_multilingual_v2';
    // the API reports the characters it billed; the request's `text` is the fallback, and a body
    // not captured whole leaves them unknown (and the price with them), not 0
    const characters =
      num(header(exchange.responseHeaders, 'character-cost')) ??
      num(header(exchange.responseHeaders, 'x-character-count')) ??
      wholeRequestCharacters(exchange, request['text']);
    if (characters === undefined) return undefined;
    return { provider: 'elevenlabs', model, operation: 'tts', units: { characters } };
  }
  if (path.endsWith('/speech-to-text')) {
    const words = record(responseJson(exchange))['words'];
    const ends = Array.isArray(words) ? words.map((word) => num(record(word)['end']) ?? 0) : [];
    if (ends.length === 0) return undefined;
    return {
      provider: 'elevenlabs',
      model: 'scribe_v1',
      operation: 'stt',
      units: { audio_seconds: Math.max(...ends) },
    };
  }
  return undefined;
}

/**
 * ElevenLabs: text to speech by characters (the `character-cost` header, else the request's text,
 * none when the body was not captured whole),
 * speech to text by audio seconds.
 * @see https://elevenlabs.io/docs/api-reference/text-to-speech/convert
 */
export const elevenLabsMeter: ProviderMeter = {
  name: 'elevenlabs',
  label: 'ElevenLabs',
  hosts: ['api.elevenlabs.io'],
  units: 'TTS characters; STT audio seconds',
  meter,
};
