import { describe, expect, it } from 'vitest';
import { createPricingRegistry } from '../../../pricing/pricing-registry';
import type { HeaderMap, MeterExchange } from '../../meter-exchange';
import { stripeMeter } from './stripe-meter';

function succeededPayment(amount: number, currency: string): MeterExchange {
  const responseText = JSON.stringify({
    id: 'pi_3MtweELkdIwHu7ix0Dt0gF2H',
    object: 'payment_intent',
    amount,
    amount_received: amount,
    currency,
    status: 'succeeded',
    livemode: false,
  });
  return {
    method: 'POST',
    url: new URL('https://api.stripe.com/v1/payment_intents/pi_3MtweELkdIwHu7ix0Dt0gF2H/confirm'),
    requestHeaders: { 'content-type': 'application/x-www-form-urlencoded' },
    requestText: 'payment_method=pm_card_visa',
    status: 200,
    responseHeaders: { 'content-type': 'application/json' },
    responseText,
    responseBytes: responseText.length,
  };
}

// Stripe amounts are in the currency's minor unit: cents for two-decimal currencies, the amount
// itself for zero-decimal ones (JPY, KRW, ...), thousandths for the three-decimal ones (BHD, JOD,
// KWD, OMR, TND: 5.124 KWD is sent rounded to 5120)
// (https://docs.stripe.com/currencies#zero-decimal, https://docs.stripe.com/currencies#three-decimal)
describe('stripe meter: amounts in minor units', () => {
  it.each([
    [2000, 'usd', 20],
    [500, 'jpy', 500],
    [5000, 'krw', 5000],
    [5120, 'kwd', 5.12],
    [10_000, 'bhd', 10],
    [2500, 'jod', 2.5],
    [1230, 'omr', 1.23],
    [7000, 'tnd', 7],
  ])('reads %i %s as %d in major units', (minor, currency, major) => {
    expect(stripeMeter.meter(succeededPayment(minor, currency))?.payment).toEqual({
      amount: major,
      currency,
      transactions: 1,
    });
  });
});

function post(path: string, body: Record<string, unknown>, responseHeaders: HeaderMap = {}): MeterExchange {
  const responseText = JSON.stringify(body);
  return {
    method: 'POST',
    url: new URL(`https://api.stripe.com${path}`),
    requestHeaders: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 200,
    responseHeaders: { 'content-type': 'application/json', ...responseHeaders },
    responseText,
    responseBytes: responseText.length,
  };
}

// a succeeded charge and payment intent as Stripe answers them
// (https://docs.stripe.com/api/charges/object, https://docs.stripe.com/api/payment_intents/object)
const charge = {
  id: 'ch_3MmlLrLkdIwHu7ix0snN0B15',
  object: 'charge',
  amount: 1099,
  amount_captured: 1099,
  captured: true,
  currency: 'usd',
  paid: true,
  status: 'succeeded',
};
const intent = {
  id: 'pi_3MtwBwLkdIwHu7ix28a3tqPa',
  object: 'payment_intent',
  amount: 2000,
  amount_received: 2000,
  currency: 'usd',
  status: 'succeeded',
};

describe('stripe meter: which requests make a payment', () => {
  it.each([
    ['/v1/charges', charge],
    ['/v1/charges/ch_3MmlLrLkdIwHu7ix0snN0B15/capture', charge],
    ['/v1/payment_intents', intent],
    ['/v1/payment_intents/pi_3MtwBwLkdIwHu7ix28a3tqPa/confirm', intent],
    ['/v1/payment_intents/pi_3MtwBwLkdIwHu7ix28a3tqPa/capture', intent],
    ['/v1/payment_intents/pi_3MtwBwLkdIwHu7ix28a3tqPa/apply_customer_balance', intent],
  ])('bills POST %s', (path, body) => {
    expect(stripeMeter.meter(post(path, body))?.payment).toMatchObject({ currency: 'usd', transactions: 1 });
  });

  // updating a charge or payment intent, or refunding a charge the legacy way, answers with the
  // same succeeded object (https://docs.stripe.com/api/charges/update,
  // https://docs.stripe.com/api/payment_intents/update, https://docs.stripe.com/api/refunds)
  it.each([
    ['/v1/charges/ch_3MmlLrLkdIwHu7ix0snN0B15', charge],
    ['/v1/charges/ch_3MmlLrLkdIwHu7ix0snN0B15/refund', { ...charge, amount_refunded: 1099, refunded: true }],
    ['/v1/payment_intents/pi_3MtwBwLkdIwHu7ix28a3tqPa', intent],
    ['/v1/payment_intents/pi_3MtwBwLkdIwHu7ix28a3tqPa/increment_authorization', intent],
  ])('bills nothing for POST %s, which makes no payment', (path, body) => {
    expect(stripeMeter.meter(post(path, body))).toBeUndefined();
  });

  it('bills a charge created with `capture=false` once, when captured, on the amount captured', () => {
    const held = { ...charge, captured: false, amount_captured: 0 };
    expect(stripeMeter.meter(post('/v1/charges', held))).toBeUndefined();
    const captured = stripeMeter.meter(
      post('/v1/charges/ch_3MmlLrLkdIwHu7ix0snN0B15/capture', { ...charge, amount_captured: 800 }),
    );
    expect(captured?.payment).toEqual({ amount: 8, currency: 'usd', transactions: 1 });
  });

  it('meters an idempotent replay (`Idempotent-Replayed: true`) at no cost: the first request made the payment', () => {
    const pricing = createPricingRegistry({});
    for (const [path, body] of [
      ['/v1/charges', charge],
      ['/v1/payment_intents/pi_3MtwBwLkdIwHu7ix28a3tqPa/confirm', intent],
    ] as const) {
      const first = stripeMeter.meter(post(path, body));
      expect(first === undefined ? null : pricing.meteredCostUsd(first)).toBeGreaterThan(0);
      const replay = stripeMeter.meter(post(path, body, { 'idempotent-replayed': 'true' }));
      expect(replay).toMatchObject({ provider: 'stripe', alreadyBilled: body.id, units: {} });
      expect(replay?.payment).toBeUndefined();
      expect(replay === undefined ? null : pricing.meteredCostUsd(replay)).toBe(0);
      // a first answer that says it is not a replay is billed
      expect(stripeMeter.meter(post(path, body, { 'idempotent-replayed': 'false' }))?.payment).toBeDefined();
    }
  });
});
