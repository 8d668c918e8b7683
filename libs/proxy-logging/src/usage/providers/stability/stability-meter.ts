import { record, responseJson, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange) || exchange.method !== 'POST') return undefined;
  const match = /\/v2beta\/(stable-image|3d|video)\/([a-z-]+)(?:\/([a-z0-9.-]+))?$/.exec(
    exchange.url.pathname,
  );
  if (match === null) {
    // v1 returns { artifacts: [...] }, one image each
    const artifacts = record(responseJson(exchange))['artifacts'];
    const engine = /\/v1\/generation\/([^/]+)\//.exec(exchange.url.pathname)?.[1];
    if (!Array.isArray(artifacts) || engine === undefined) return undefined;
    return { provider: 'stability', model: engine, operation: 'image', units: { images: artifacts.length } };
  }
  // a successful v2beta call returns one image (bytes or base64 JSON); the credit price is per model
  const model = [match[1], match[2], match[3]].filter((part) => part !== undefined).join('/');
  return { provider: 'stability', model, operation: match[2] ?? 'generate', units: { images: 1 } };
}

/**
 * Stability AI: images generated, by model (credits per image are priced in config).
 * @see https://platform.stability.ai/docs/api-reference
 */
export const stabilityMeter: ProviderMeter = {
  name: 'stability',
  label: 'Stability AI',
  hosts: ['api.stability.ai'],
  units: 'images (by model)',
  meter,
};
