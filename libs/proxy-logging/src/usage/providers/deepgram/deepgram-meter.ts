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
  const model = exchange.url.searchParams.get('model') ?? undefined;
  if (path.endsWith('/listen')) {
    const metadata = record(record(responseJson(exchange))['metadata']);
    const seconds = num(metadata['duration']);
    if (seconds === undefined) return undefined;
    const info = Object.values(record(metadata['model_info']))[0];
    const name = model ?? str(record(info)['name']) ?? 'nova-3';
    return { provider: 'deepgram', model: name, operation: 'stt', units: { audio_seconds: seconds } };
  }
  if (path.endsWith('/speak')) {
    // the API reports the characters it billed; the request's `text` is the fallback, and a body
    // not captured whole leaves them unknown (and the price with them), not 0
    const characters =
      num(header(exchange.responseHeaders, 'dg-char-count')) ??
      wholeRequestCharacters(exchange, record(requestJson(exchange))['text']);
    if (characters === undefined) return undefined;
    return {
      provider: 'deepgram',
      model: model ?? 'aura-asteria-en',
      operation: 'tts',
      units: { characters },
    };
  }
  return undefined;
}

/**
 * Deepgram: pre-recorded transcription by `metadata.duration` seconds; text to speech by
 * characters (`dg-char-count`, else the request's `text`, none when the body was not captured
 * whole).
 * @see https://developers.deepgram.com/reference/speech-to-text-api/listen
 */
export const deepgramMeter: ProviderMeter = {
  name: 'deepgram',
  label: 'Deepgram',
  hosts: ['api.deepgram.com', 'api.eu.deepgram.com'],
  units: 'STT audio seconds; TTS characters',
  meter,
};
