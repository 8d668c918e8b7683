import { describe, expect, it } from 'vitest';
import { createPricingRegistry } from '../../../pricing/pricing-registry';
import type { MeterExchange } from '../../meter-exchange';
import { payPalMeter } from './paypal-meter';

/** A completed capture of `value` in `currency`, with PayPal's fee stated in `feeCurrency`. */
function capture(value: string, currency: string, fee: string, feeCurrency = currency): unknown {
  return {
    payments: {
      captures: [
        {
          status: 'COMPLETED',
          amount: { currency_code: currency, value },
          seller_receivable_breakdown: { paypal_fee: { currency_code: feeCurrency, value: fee } },
        },
      ],
    },
  };
}

// an order's purchase units may each be in their own currency
// (https://developer.paypal.com/docs/api/orders/v2/#orders_capture)
function captured(...purchaseUnits: unknown[]): MeterExchange {
  const responseText = JSON.stringify({ id: 'ORD1', status: 'COMPLETED', purchase_units: purchaseUnits });
  return {
    method: 'POST',
    url: new URL('https://api-m.paypal.com/v2/checkout/orders/ORD1/capture'),
    requestHeaders: {},
    status: 201,
    responseHeaders: { 'content-type': 'application/json' },
    responseText,
    responseBytes: responseText.length,
  };
}

describe('paypal meter: captures in several currencies', () => {
  it('sums the amounts and fees of captures in one currency', () => {
    const usage = payPalMeter.meter(
      captured(capture('100.00', 'USD', '3.00'), capture('10.00', 'USD', '0.79')),
    );
    expect(usage?.payment).toEqual({ amount: 110, currency: 'usd', transactions: 2 });
    expect(usage?.reportedCostUsd).toBeCloseTo(3.79, 10);
  });

  it('meters no payment or fee for captures in several currencies, rather than adding EUR to USD', () => {
    const usage = payPalMeter.meter(
      captured(capture('100.00', 'EUR', '3.40'), capture('10.00', 'USD', '0.79')),
    );
    expect(usage).toBeUndefined();
  });

  it('takes the fees of captures in several currencies when every fee is stated in USD, with no payment sum', () => {
    const usage = payPalMeter.meter(
      captured(capture('100.00', 'EUR', '3.70', 'USD'), capture('10.00', 'USD', '0.79')),
    );
    expect(usage?.payment).toBeUndefined();
    expect(usage?.reportedCostUsd).toBeCloseTo(4.49, 10);
    expect(createPricingRegistry().meteredCostUsd(usage!)).toBe(4.49);
  });

  it('keeps the amount of captures all in one other currency, with no USD fee to report', () => {
    const usage = payPalMeter.meter(
      captured(capture('100.00', 'EUR', '3.40'), capture('5.00', 'EUR', '0.50')),
    );
    expect(usage?.payment).toEqual({ amount: 105, currency: 'eur', transactions: 2 });
    expect(usage?.reportedCostUsd).toBeUndefined();
    expect(createPricingRegistry().meteredCostUsd(usage!)).toBeNull();
  });
});
