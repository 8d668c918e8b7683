import { num, record, responseJson, str, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

/**
 * Currencies Stripe amounts carry without minor units.
 * @see https://docs.stripe.com/currencies#zero-decimal
 */
const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);

/**
 * Currencies whose Stripe amounts are in thousandths (5.124 KWD is sent rounded to 5120).
 * @see https://docs.stripe.com/currencies#three-decimal
 */
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/** How many minor units of `currency` (lower case) make one major unit in a Stripe amount. */
function minorUnitsPerMajor(currency: string): number {
  if (ZERO_DECIMAL.has(currency)) return 1;
  return THREE_DECIMAL.has(currency) ? 1000 : 100;
}

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange) || exchange.method !== 'POST') return undefined;
  const body = record(responseJson(exchange));
  const object = str(body['object']);
  // a payment costs a fee once it succeeded (charge paid, payment intent succeeded)
  const paid =
    (object === 'charge' && body['paid'] === true && body['status'] === 'succeeded') ||
    (object === 'payment_intent' && body['status'] === 'succeeded');
  if (!paid) return undefined;
  const minor = num(
    object === 'payment_intent' ? (body['amount_received'] ?? body['amount']) : body['amount'],
  );
  const currency = str(body['currency'])?.toLowerCase();
  if (minor === undefined || currency === undefined) return undefined;
  const amount = minor / minorUnitsPerMajor(currency);
  return {
    provider: 'stripe',
    operation: object ?? 'payment',
    units: {},
    payment: { amount, currency, transactions: 1 },
  };
}

/**
 * Stripe: succeeded charges and payment intents, priced as percentage plus fixed fee.
 * @see https://docs.stripe.com/api/payment_intents/object
 */
export const stripeMeter: ProviderMeter = {
  name: 'stripe',
  label: 'Stripe',
  hosts: ['api.stripe.com'],
  units: 'payments (percentage + fixed fee per transaction)',
  meter,
};
