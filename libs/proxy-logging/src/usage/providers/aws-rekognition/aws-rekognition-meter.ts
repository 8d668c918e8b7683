import { header, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

const IMAGE_OPERATIONS = new Set([
  'DetectLabels',
  'DetectFaces',
  'DetectText',
  'DetectModerationLabels',
  'DetectProtectiveEquipment',
  'RecognizeCelebrities',
  'CompareFaces',
  'SearchFacesByImage',
  'IndexFaces',
]);

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const operation = header(exchange.requestHeaders, 'x-amz-target')?.split('.').pop();
  if (operation === undefined || !IMAGE_OPERATIONS.has(operation)) return undefined;
  // Rekognition Image bills per image processed by each API call
  return { provider: 'aws-rekognition', model: operation, operation, units: { images: 1 } };
}

/**
 * AWS Rekognition Image: images processed, by operation.
 * @see https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectLabels.html
 */
export const awsRekognitionMeter: ProviderMeter = {
  name: 'aws-rekognition',
  label: 'AWS Rekognition',
  hosts: ['rekognition.*.amazonaws.com'],
  units: 'images processed (by operation)',
  meter,
};
