import {
  num,
  record,
  responseJson,
  succeeded,
  wholeRequestCharacters,
  type MeterExchange,
} from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

/** The spoken text of an SSML document: markup removed, entities decoded. */
function ssmlText(ssml: string): string {
  return ssml
    .replace(/<[^>]*>/g, '')
    .replace(/&(lt|gt|amp|quot|apos);/g, 'x')
    .trim();
}

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const host = exchange.url.hostname;
  if (host.endsWith('.tts.speech.microsoft.com') && exchange.url.pathname.endsWith('/cognitiveservices/v1')) {
    // only the request's SSML tells the characters billed: a body not captured, or cut by the
    // capture bound, leaves them unknown (and the price with them), not 0
    const ssml = exchange.requestText;
    const characters = wholeRequestCharacters(exchange, ssml === undefined ? undefined : ssmlText(ssml));
    if (characters === undefined) return undefined;
    return { provider: 'azure-speech', model: 'neural-tts', operation: 'tts', units: { characters } };
  }
  if (host.endsWith('.stt.speech.microsoft.com')) {
    // Duration is in 100-nanosecond ticks
    const ticks = num(record(responseJson(exchange))['Duration']);
    if (ticks === undefined) return undefined;
    return {
      provider: 'azure-speech',
      model: 'stt',
      operation: 'stt',
      units: { audio_seconds: ticks / 1e7 },
    };
  }
  return undefined;
}

/**
 * Azure AI Speech: neural TTS by SSML text characters (none when the SSML was not captured
 * whole); short-audio STT by `Duration`.
 * @see https://learn.microsoft.com/azure/ai-services/speech-service/rest-text-to-speech
 */
export const azureSpeechMeter: ProviderMeter = {
  name: 'azure-speech',
  label: 'Azure Speech',
  hosts: ['*.tts.speech.microsoft.com', '*.stt.speech.microsoft.com'],
  units: 'TTS characters; STT audio seconds',
  meter,
};
