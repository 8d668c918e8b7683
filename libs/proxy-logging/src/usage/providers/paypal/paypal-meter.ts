import { num, record, responseJson, str, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

/** One currency's sum over an order's captures, or `mixed` once a second currency is seen. */
class CurrencySum {
  total = 0;
  currency: string | undefined;
  mixed = false;

  add(value: unknown, currency: unknown): void {
    this.total += num(value) ?? 0;
    const code = str(currency)?.toLowerCase();
    if (code === undefined) return;
    if (this.currency !== undefined && this.currency !== code) this.mixed = true;
    this.currency ??= code;
  }
}

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange) || !/\/v2\/checkout\/orders\/[^/]+\/capture$/.test(exchange.url.pathname))
    return undefined;
  const body = record(responseJson(exchange));
  const amount = new CurrencySum();
  const fee = new CurrencySum();
  let transactions = 0;
  const units = Array.isArray(body['purchase_units']) ? body['purchase_units'] : [];
  for (const unit of units) {
    const captures = record(record(unit)['payments'])['captures'];
    for (const capture of Array.isArray(captures) ? captures : []) {
      const entry = record(capture);
      if (entry['status'] !== 'COMPLETED') continue;
      const value = record(entry['amount']);
      amount.add(value['value'], value['currency_code']);
      const paypalFee = record(record(entry['seller_receivable_breakdown'])['paypal_fee']);
      fee.add(paypalFee['value'], paypalFee['currency_code']);
      transactions += 1;
    }
  }
  if (transactions === 0 || amount.currency === undefined) return undefined;
  // an order's purchase units may each be in their own currency: amounts (or fees) in several
  // currencies have no one sum, and none is made up by adding EUR to USD
  const payment = amount.mixed
    ? undefined
    : { amount: amount.total, currency: amount.currency, transactions };
  // PayPal states its fee in the capture: exact when every capture's is in USD
  const reportedCostUsd = !fee.mixed && fee.currency === 'usd' ? fee.total : undefined;
  // neither an amount to price nor a fee to take: the cost is unknown, as for an answer not read
  if (payment === undefined && reportedCostUsd === undefined) return undefined;
  const usage: MeteredUsage = { provider: 'paypal', operation: 'capture', units: {} };
  if (payment !== undefined) usage.payment = payment;
  if (reportedCostUsd !== undefined) usage.reportedCostUsd = reportedCostUsd;
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
