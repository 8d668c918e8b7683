import { num, record, responseJson, str, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (
    !succeeded(exchange) ||
    !/\/v2\/transcript\/[^/]+$/.test(exchange.url.pathname) ||
    exchange.method !== 'GET'
  )
    return undefined;
  const body = record(responseJson(exchange));
  // a transcript is billed by audio duration once it completed; polling reads it once done
  if (body['status'] !== 'completed') return undefined;
  const seconds = num(body['audio_duration']);
  if (seconds === undefined) return undefined;
  const model = str(body['speech_model']) ?? 'best';
  const id = str(body['id']);
  return {
    provider: 'assemblyai',
    model,
    operation: 'stt',
    units: { audio_seconds: seconds },
    attributes: { transcript_id: id ?? '' },
    // billed once: every later read of the completed transcript shows the same duration
    ...(id === undefined ? {} : { billedObject: id }),
  };
}

/**
 * AssemblyAI: a completed transcript's `audio_duration` in seconds.
 * @see https://www.assemblyai.com/docs/api-reference/transcripts/get
 */
export const assemblyAIMeter: ProviderMeter = {
  name: 'assemblyai',
  label: 'AssemblyAI',
  hosts: ['api.assemblyai.com', 'api.eu.assemblyai.com'],
  units: 'STT audio seconds (completed transcripts)',
  meter,
};
