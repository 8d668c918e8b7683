import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../../meter-exchange';
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
