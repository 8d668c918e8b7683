import { num, record, requestJson, responseJson, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const action = /\/action\/([A-Za-z]+)$/.exec(exchange.url.pathname)?.[1];
  if (action === undefined) return undefined;
  // the documents read and written are the answer's: one not read (cut by the capture bound, not
  // JSON) meters nothing, rather than an operation without its documents
  const answer = responseJson(exchange);
  if (answer === undefined) return undefined;
  const body = record(answer);
  const request = record(requestJson(exchange));
  const units: Record<string, number> = { operations: 1 };
  const documents = body['documents'];
  if (Array.isArray(documents)) units['documents_read'] = documents.length;
  else if (body['document'] !== undefined && body['document'] !== null) units['documents_read'] = 1;
  const inserted = body['insertedIds'];
  if (Array.isArray(inserted)) units['documents_written'] = inserted.length;
  else if (body['insertedId'] !== undefined) units['documents_written'] = 1;
  const modified = num(body['modifiedCount']) ?? num(body['deletedCount']);
  if (modified !== undefined) units['documents_written'] = modified;
  return {
    provider: 'mongodb-atlas',
    operation: action,
    units,
    attributes: { collection: typeof request['collection'] === 'string' ? request['collection'] : '' },
  };
}

/**
 * MongoDB Atlas Data API: operations, documents read and written.
 * @see https://www.mongodb.com/docs/atlas/app-services/data-api/openapi/
 */
export const mongodbAtlasMeter: ProviderMeter = {
  name: 'mongodb-atlas',
  label: 'MongoDB Atlas',
  hosts: ['data.mongodb-api.com', '*.data.mongodb-api.com'],
  units: 'operations; documents read and written',
  meter,
};
