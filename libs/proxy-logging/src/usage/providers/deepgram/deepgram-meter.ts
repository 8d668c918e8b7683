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

/**
 * The channels a transcription is billed for: each channel of a `multichannel=true` request is
 * transcribed, and billed, on its own (`metadata.channels`); 1 when the answer names no more.
 * @see https://developers.deepgram.com/docs/multichannel
 */
function billedChannels(metadata: Record<string, unknown>): number {
  const channels = num(metadata['channels']);
  return channels !== undefined && Number.isInteger(channels) && channels > 1 ? channels : 1;
}

/**
 * The model family that transcribed, for a request that named none: `model_info`'s `arch`
 * (`nova-2`), the name a request's `model` and a price key (`deepgram/nova-2`) use, before its
 * `name` (`2-general-nova`), which is Deepgram's internal one and matches no price.
 */
function answeredModel(metadata: Record<string, unknown>): string | undefined {
  const info = record(Object.values(record(metadata['model_info']))[0]);
  return str(info['arch']) ?? str(info['name']);
}

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const path = exchange.url.pathname;
  const model = exchange.url.searchParams.get('model') ?? undefined;
  if (path.endsWith('/listen')) {
    const metadata = record(record(responseJson(exchange))['metadata']);
    const seconds = num(metadata['duration']);
    if (seconds === undefined) return undefined;
    return {
      provider: 'deepgram',
      model: model ?? answeredModel(metadata) ?? 'nova-3',
      operation: 'stt',
      units: { audio_seconds: seconds * billedChannels(metadata) },
    };
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
 * Deepgram: pre-recorded transcription by `metadata.duration` seconds times the channels billed
 * (`metadata.channels` of a multichannel request), the model the request names else the family
 * the answer names (`model_info`'s `arch`); text to speech by characters (`dg-char-count`, else
 * the request's `text`, none when the body was not captured whole).
 * @see https://developers.deepgram.com/reference/speech-to-text-api/listen
 */
export const deepgramMeter: ProviderMeter = {
  name: 'deepgram',
  label: 'Deepgram',
  hosts: ['api.deepgram.com', 'api.eu.deepgram.com'],
  units: 'STT audio seconds (each channel of a multichannel request); TTS characters',
  meter,
};
