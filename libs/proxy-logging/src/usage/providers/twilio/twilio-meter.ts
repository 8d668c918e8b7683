import { num, record, responseJson, str, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange) || exchange.method !== 'POST') return undefined;
  const path = exchange.url.pathname;
  const body = record(responseJson(exchange));
  if (path.endsWith('/Messages.json')) {
    const segments = num(body['num_segments']) ?? 1;
    const usage: MeteredUsage = {
      provider: 'twilio',
      model: 'sms',
      operation: 'message',
      units: { messages: segments },
    };
    // price is usually null at creation and negative once known
    const price = num(body['price']);
    if (price !== undefined && str(body['price_unit'])?.toUpperCase() === 'USD')
      usage.reportedCostUsd = Math.abs(price);
    return usage;
  }
  if (path.endsWith('/Calls.json'))
    return { provider: 'twilio', model: 'voice', operation: 'call', units: { calls: 1 } };
  return undefined;
}

/**
 * Twilio Messaging and Voice: SMS segments (or the reported price) and calls placed.
 * @see https://www.twilio.com/docs/messaging/api/message-resource
 */
export const twilioMeter: ProviderMeter = {
  name: 'twilio',
  label: 'Twilio',
  hosts: ['api.twilio.com'],
  units: 'SMS segments; calls',
  meter,
};
