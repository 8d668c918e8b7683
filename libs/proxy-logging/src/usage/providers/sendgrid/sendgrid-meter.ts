import { record, requestJson, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function recipients(value: unknown): number {
  return Array.isArray(value) ? value.length : 0;
}

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange) || !exchange.url.pathname.endsWith('/v3/mail/send')) return undefined;
  const personalizations = record(requestJson(exchange))['personalizations'];
  let emails = 0;
  for (const entry of Array.isArray(personalizations) ? personalizations : []) {
    const p = record(entry);
    // every recipient (to, cc, bcc) receives a delivered email
    emails += recipients(p['to']) + recipients(p['cc']) + recipients(p['bcc']);
  }
  if (emails === 0) return undefined;
  return { provider: 'sendgrid', model: 'email', operation: 'mail.send', units: { emails } };
}

/**
 * SendGrid Mail Send: emails, one per recipient.
 * @see https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send
 */
export const sendGridMeter: ProviderMeter = {
  name: 'sendgrid',
  label: 'SendGrid',
  hosts: ['api.sendgrid.com'],
  units: 'emails (per recipient)',
  meter,
};
