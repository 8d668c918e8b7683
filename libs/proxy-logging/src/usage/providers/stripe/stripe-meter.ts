import { header, num, record, responseJson, str, succeeded, type MeterExchange } from '../../meter-exchange';
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

/**
 * The POSTs that make a payment: create a charge or capture one, create a payment intent (with
 * `confirm=true`), confirm or capture one, or apply a customer's cash balance to one. Other POSTs
 * answer with the same succeeded charge or payment intent and make no payment: updating one
 * (`POST /v1/charges/{id}`, `POST /v1/payment_intents/{id}`), or refunding a charge the legacy
 * way (`POST /v1/charges/{id}/refund`).
 * @see https://docs.stripe.com/api/charges/create
 * @see https://docs.stripe.com/api/charges/capture
 * @see https://docs.stripe.com/api/payment_intents/create
 * @see https://docs.stripe.com/api/payment_intents/confirm
 * @see https://docs.stripe.com/api/payment_intents/capture
 * @see https://docs.stripe.com/api/payment_intents/apply_customer_balance
 */
const PAYMENT_PATHS: readonly RegExp[] = [
  /\/v1\/charges$/,
  /\/v1\/charges\/[^/]+\/capture$/,
  /\/v1\/payment_intents$/,
  /\/v1\/payment_intents\/[^/]+\/(?:confirm|capture|apply_customer_balance)$/,
];

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange) || exchange.method !== 'POST') return undefined;
  const path = exchange.url.pathname;
  if (!PAYMENT_PATHS.some((pattern) => pattern.test(path))) return undefined;
  const body = record(responseJson(exchange));
  const object = str(body['object']);
  // a payment costs a fee once it succeeded (charge paid, payment intent succeeded); a charge
  // created with `capture=false` is paid but not captured, and costs its fee when captured
  const paid =
    (object === 'charge' &&
      body['paid'] === true &&
      body['status'] === 'succeeded' &&
      body['captured'] !== false) ||
    (object === 'payment_intent' && body['status'] === 'succeeded');
  if (!paid) return undefined;
  const operation = object ?? 'payment';
  // a request retried with its `Idempotency-Key` gets the first one's answer again, marked
  // `Idempotent-Replayed: true`: the payment was made (and billed) once, by the first
  // (https://docs.stripe.com/api/idempotent_requests)
  const id = str(body['id']);
  if (header(exchange.responseHeaders, 'idempotent-replayed')?.trim().toLowerCase() === 'true')
    return {
      provider: 'stripe',
      operation,
      units: {},
      attributes: { billed_before: id ?? '' },
      alreadyBilled: id ?? '',
    };
  // a charge captured in part (`amount_to_capture`) is billed on what it captured
  const minor = num(
    object === 'payment_intent'
      ? (body['amount_received'] ?? body['amount'])
      : (body['amount_captured'] ?? body['amount']),
  );
  const currency = str(body['currency'])?.toLowerCase();
  if (minor === undefined || currency === undefined) return undefined;
  const amount = minor / minorUnitsPerMajor(currency);
  return {
    provider: 'stripe',
    operation,
    units: {},
    payment: { amount, currency, transactions: 1 },
  };
}

/**
 * Stripe: charges and payment intents that succeeded on the request that made the payment (not an
 * update, a legacy refund or an idempotent replay), priced as percentage plus fixed fee.
 * @see https://docs.stripe.com/api/payment_intents/object
 */
export const stripeMeter: ProviderMeter = {
  name: 'stripe',
  label: 'Stripe',
  hosts: ['api.stripe.com'],
  units: 'payments (percentage + fixed fee per transaction)',
  meter,
};
