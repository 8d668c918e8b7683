import { num, record, responseJson, str, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const body = record(responseJson(exchange));
  // a prediction is billed once it finished: by hardware time, or by tokens for language models
  if (body['status'] !== 'succeeded') return undefined;
  const metrics = record(body['metrics']);
  const model = str(body['model']) ?? str(body['version']);
  const input = num(metrics['input_token_count']);
  const seconds = num(metrics['predict_time']);
  const id = str(body['id']);
  // billed once: a poll of a prediction that already finished reads the same one again
  const base = {
    provider: 'replicate',
    ...(model === undefined ? {} : { model }),
    operation: 'prediction',
    ...(id === undefined ? {} : { billedObject: id }),
  };
  if (input !== undefined)
    return {
      ...base,
      tokens: { inputTokens: input, outputTokens: num(metrics['output_token_count']) ?? 0 },
      units: {},
    };
  if (seconds === undefined) return undefined;
  return { ...base, units: { predict_seconds: seconds } };
}

/**
 * Replicate predictions: token counts for language models, else prediction seconds.
 * @see https://replicate.com/docs/reference/http#predictions.get
 */
export const replicateMeter: ProviderMeter = {
  name: 'replicate',
  label: 'Replicate',
  hosts: ['api.replicate.com'],
  units: 'tokens (input, output) or prediction seconds',
  meter,
};
