import { num, record, requestJson, str, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange) || exchange.method !== 'POST') return undefined;
  const operation = /\/v1\/(image_to_video|text_to_video|video_to_video|text_to_image|video_upscale)$/.exec(
    exchange.url.pathname,
  )?.[1];
  if (operation === undefined) return undefined;
  const request = record(requestJson(exchange));
  const model = str(request['model']) ?? 'gen4_turbo';
  if (operation === 'text_to_image') return { provider: 'runway', model, operation, units: { images: 1 } };
  // video generations are billed by the seconds requested
  const seconds = num(request['duration']) ?? 10;
  return { provider: 'runway', model, operation, units: { video_seconds: seconds } };
}

/**
 * Runway: generation tasks created, video seconds requested (images for text to image).
 * @see https://docs.dev.runwayml.com/api/
 */
export const runwayMeter: ProviderMeter = {
  name: 'runway',
  label: 'Runway',
  hosts: ['api.dev.runwayml.com'],
  units: 'video seconds; images',
  meter,
};
