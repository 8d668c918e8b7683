import { requestJson, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const path = exchange.url.pathname;
  const body = requestJson(exchange);
  // pipeline and multi-exec bodies are arrays of commands; otherwise the path is one command
  if (path.startsWith('/pipeline') || path.startsWith('/multi-exec')) {
    // counted from the request: one not read (not captured, cut by the capture bound) meters nothing, not 0
    if (!Array.isArray(body)) return undefined;
    return { provider: 'redis', operation: 'pipeline', units: { commands: body.length } };
  }
  const command = Array.isArray(body) ? String(body[0]) : (path.split('/').filter(Boolean)[0] ?? 'command');
  return { provider: 'redis', operation: command.toLowerCase(), units: { commands: 1 } };
}

/**
 * Redis over HTTP (Upstash REST): commands, pipelines counted per command.
 * @see https://upstash.com/docs/redis/features/restapi
 */
export const redisMeter: ProviderMeter = {
  name: 'redis',
  label: 'Redis (REST)',
  hosts: ['*.upstash.io'],
  units: 'commands',
  meter,
};
