import { num, record, responseJson, str, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange) || !/\/v2\/checkout\/orders\/[^/]+\/capture$/.test(exchange.url.pathname))
    return undefined;
  const body = record(responseJson(exchange));
  let amount = 0;
  let fee = 0;
  let feeCurrency: string | undefined;
  let currency: string | undefined;
  let transactions = 0;
  const units = Array.isArray(body['purchase_units']) ? body['purchase_units'] : [];
  for (const unit of units) {
    const captures = record(record(unit)['payments'])['captures'];
    for (const capture of Array.isArray(captures) ? captures : []) {
      const entry = record(capture);
      if (entry['status'] !== 'COMPLETED') continue;
      const value = record(entry['amount']);
      amount += num(value['value']) ?? 0;
      currency = str(value['currency_code'])?.toLowerCase() ?? currency;
      const paypalFee = record(record(entry['seller_receivable_breakdown'])['paypal_fee']);
      fee += num(paypalFee['value']) ?? 0;
      feeCurrency = str(paypalFee['currency_code'])?.toLowerCase() ?? feeCurrency;
      transactions += 1;
    }
  }
  if (transactions === 0 || currency === undefined) return undefined;
  const usage: MeteredUsage = {
    provider: 'paypal',
    operation: 'capture',
    units: {},
    payment: { amount, currency, transactions },
  };
  // PayPal states its fee in the capture: exact when it is in USD
  if (feeCurrency === 'usd') usage.reportedCostUsd = fee;
  return usage;
}

/**
 * PayPal Orders v2 captures: the amount, and the fee PayPal reports (`paypal_fee`).
 * @see https://developer.paypal.com/docs/api/orders/v2/#orders_capture
 */
export const payPalMeter: ProviderMeter = {
  name: 'paypal',
  label: 'PayPal',
  hosts: ['api-m.paypal.com', 'api-m.sandbox.paypal.com', 'api.paypal.com'],
  units: 'payments (reported fee, else percentage + fixed fee)',
  meter,
};
