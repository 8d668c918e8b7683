import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../../meter-exchange';
import { elasticsearchMeter } from './elasticsearch-meter';

function bulk(items: unknown[]): MeterExchange {
  const responseText = JSON.stringify({ took: 12, errors: true, items });
  return {
    method: 'POST',
    url: new URL('https://my-deployment.es.us-central1.gcp.cloud.es.io/_bulk'),
    requestHeaders: { 'content-type': 'application/x-ndjson' },
    status: 200,
    responseHeaders: { 'content-type': 'application/json' },
    responseText,
    responseBytes: responseText.length,
  };
}

const shards = { total: 2, successful: 1, failed: 0 };

// `_bulk` answers 200 whatever became of each action: each item is keyed by its action (`index`,
// `create`, `update`, `delete`) and carries that action's own HTTP `status`, and an `error` when it
// failed (https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-bulk, "Example with
// failed actions")
describe('elasticsearch meter: bulk', () => {
  it('counts the documents indexed, created or updated, neither deletes nor failed actions', () => {
    const usage = elasticsearchMeter.meter(
      bulk([
        { index: { _index: 'test', _id: '1', _version: 1, result: 'created', _shards: shards, status: 201 } },
        {
          delete: { _index: 'test', _id: '2', _version: 2, result: 'deleted', _shards: shards, status: 200 },
        },
        {
          update: {
            _index: 'index1',
            _id: '5',
            status: 404,
            error: {
              type: 'document_missing_exception',
              reason: '[5]: document missing',
              index_uuid: 'aAsFqTI0Tc2W0LCWgPNrOA',
              shard: '0',
              index: 'index1',
            },
          },
        },
        {
          create: {
            _index: 'index1',
            _id: '7',
            _version: 1,
            result: 'created',
            _shards: shards,
            status: 201,
          },
        },
        {
          update: { _index: 'test', _id: '1', _version: 2, result: 'updated', _shards: shards, status: 200 },
        },
      ]),
    );
    expect(usage?.units).toEqual({ documents_written: 3 });
  });
});
