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
 * The channels a transcription is billed for. Only a `multichannel=true` request transcribes, and
 * bills, each channel on its own; any other is transcribed once, whatever `metadata.channels`
 * says (it counts the channels of the audio file: 2 for any stereo upload). A multichannel
 * answer's transcripts (`results.channels`) count its channels, `metadata.channels` when it lists
 * none; 1 when neither counts more.
 * @see https://developers.deepgram.com/docs/multichannel
 * @see https://github.com/orgs/deepgram/discussions/932
 */
function billedChannels(exchange: MeterExchange, answer: Record<string, unknown>): number {
  if (exchange.url.searchParams.get('multichannel') !== 'true') return 1;
  const transcripts = record(answer['results'])['channels'];
  const channels =
    Array.isArray(transcripts) && transcripts.length > 0
      ? transcripts.length
      : num(record(answer['metadata'])['channels']);
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
    const answer = record(responseJson(exchange));
    const metadata = record(answer['metadata']);
    const seconds = num(metadata['duration']);
    if (seconds === undefined) return undefined;
    return {
      provider: 'deepgram',
      model: model ?? answeredModel(metadata) ?? 'nova-3',
      operation: 'stt',
      units: { audio_seconds: seconds * billedChannels(exchange, answer) },
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
 * (those of a `multichannel=true` request: its transcripts, else `metadata.channels`), the model
 * the request names else the family the answer names (`model_info`'s `arch`); text to speech by
 * characters (`dg-char-count`, else the request's `text`, none when the body was not captured
 * whole).
 * @see https://developers.deepgram.com/reference/speech-to-text-api/listen
 */
export const deepgramMeter: ProviderMeter = {
  name: 'deepgram',
  label: 'Deepgram',
  hosts: ['api.deepgram.com', 'api.eu.deepgram.com'],
  units: 'STT audio seconds (each channel of a multichannel=true request); TTS characters',
  meter,
};
