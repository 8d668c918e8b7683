import { header, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const target = header(exchange.requestHeaders, 'x-amz-target');
  const operation = target?.split('.').pop();
  // the API never returns the media duration; jobs are what a response can prove
  if (
    operation !== 'StartTranscriptionJob' &&
    operation !== 'StartMedicalTranscriptionJob' &&
    operation !== 'StartCallAnalyticsJob'
  )
    return undefined;
  return { provider: 'aws-transcribe', operation, units: { jobs: 1 } };
}

/**
 * AWS Transcribe: started jobs (the JSON API returns no media duration).
 * @see https://docs.aws.amazon.com/transcribe/latest/APIReference/API_StartTranscriptionJob.html
 */
export const awsTranscribeMeter: ProviderMeter = {
  name: 'aws-transcribe',
  label: 'AWS Transcribe',
  hosts: ['transcribe.*.amazonaws.com'],
  units: 'transcription jobs started',
  meter,
};
