import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../../meter-exchange';
import { elasticsearchMeter } from './elasticsearch-meter';

function bulk(items: unknown[] | undefined, requestText?: string, query = ''): MeterExchange {
  const responseText = JSON.stringify(items === undefined ? {} : { took: 12, errors: true, items });
  return {
    method: 'POST',
    url: new URL(`https://my-deployment.es.us-central1.gcp.cloud.es.io/_bulk${query}`),
    ...(requestText === undefined ? {} : { requestText }),
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

  it('leaves out an update that changed nothing (result noop)', () => {
    const usage = elasticsearchMeter.meter(
      bulk([
        { update: { _index: 'test', _id: '1', _version: 2, result: 'noop', _shards: shards, status: 200 } },
        {
          update: { _index: 'test', _id: '2', _version: 3, result: 'updated', _shards: shards, status: 200 },
        },
      ]),
    );
    expect(usage?.units).toEqual({ documents_written: 1 });
  });

  // `filter_path=items.*.error` keeps only the failed items, without their status
  const request = [
    '{ "index" : { "_index" : "test", "_id" : "1" } }',
    '{ "field1" : "value1", "delete": true }',
    '{ "delete" : { "_index" : "test", "_id" : "2" } }',
    '{ "create" : { "_index" : "test", "_id" : "3" } }',
    '{ "field1" : "value3" }',
    '{ "update" : {"_id" : "1", "_index" : "test"} }',
    '{ "doc" : {"field2" : "value2"} }',
    '',
  ].join('\n');
  it('counts the write actions of the request less the failed ones when filter_path trimmed the answer', () => {
    const query = '?filter_path=items.*.error';
    expect(elasticsearchMeter.meter(bulk(undefined, request, query))?.units).toEqual({
      documents_written: 3,
    });
    const oneFailed = bulk(
      [{ create: { error: { type: 'version_conflict_engine_exception', reason: '[3]: version conflict' } } }],
      request,
      query,
    );
    expect(elasticsearchMeter.meter(oneFailed)?.units).toEqual({ documents_written: 2 });
    // a failed delete alone in the trimmed answer: the request's writes still count
    const deleteFailed = bulk(
      [{ delete: { error: { type: 'version_conflict_engine_exception', reason: '[2]: version conflict' } } }],
      request,
      query,
    );
    expect(elasticsearchMeter.meter(deleteFailed)?.units).toEqual({ documents_written: 3 });
    // neither the answer nor the request says: not metered, rather than metered 0
    expect(elasticsearchMeter.meter(bulk(undefined, undefined, query))).toBeUndefined();
  });

  it('meters nothing where the answer does not say and no filter_path explains why, or the request lost its middle', () => {
    // items without a status and no filter_path: not an answer the meter can read
    expect(
      elasticsearchMeter.meter(bulk([{ index: { _index: 'test', _id: '1' } }], request)),
    ).toBeUndefined();
    // no items at all (an answer that is not a bulk's): not counted from the request
    expect(elasticsearchMeter.meter(bulk(undefined, request))).toBeUndefined();
    // a request cut by the capture bound would be counted short (or misread)
    const cut = { ...bulk(undefined, request, '?filter_path=items.*.error'), requestTruncated: true };
    expect(elasticsearchMeter.meter(cut)).toBeUndefined();
    // a filter that drops the items' errors: what failed is not known
    for (const filter of ['?filter_path=took,errors', '?filter_path=items.*._id']) {
      expect(elasticsearchMeter.meter(bulk(undefined, request, filter))).toBeUndefined();
    }
    // a filter that keeps them, among others
    expect(
      elasticsearchMeter.meter(bulk(undefined, request, '?filter_path=took,items.*.index.error'))?.units,
    ).toEqual({ documents_written: 3 });
    // errors: true with no failed item shown
    const hidden = bulk(undefined, request, '?filter_path=items.*.error');
    const hiddenText = JSON.stringify({ errors: true });
    expect(
      elasticsearchMeter.meter({ ...hidden, responseText: hiddenText, responseBytes: hiddenText.length }),
    ).toBeUndefined();
    // an answer cut by the capture bound, or not JSON
    const unreadable = {
      ...bulk(undefined, request, '?filter_path=items.*.error'),
      responseText: '{"items":[',
    };
    expect(elasticsearchMeter.meter(unreadable)).toBeUndefined();
    expect(
      elasticsearchMeter.meter({
        ...bulk(undefined, request, '?filter_path=items.*.error'),
        responseTruncated: true,
      }),
    ).toBeUndefined();
  });
});

describe('elasticsearch meter: single documents', () => {
  const doc = (method: string, path: string, result: string): MeterExchange => {
    const responseText = JSON.stringify({ _index: 'test', _id: '1', _version: 2, result, _shards: shards });
    return {
      method,
      url: new URL(`https://my-deployment.es.io${path}`),
      requestHeaders: {},
      status: 200,
      responseHeaders: { 'content-type': 'application/json' },
      responseText,
      responseBytes: responseText.length,
    };
  };

  it('counts a PUT or POST that wrote a document, not a DELETE nor an update that changed nothing', () => {
    expect(elasticsearchMeter.meter(doc('PUT', '/test/_doc/1', 'updated'))?.units).toEqual({
      documents_written: 1,
    });
    expect(elasticsearchMeter.meter(doc('POST', '/test/_update/1', 'updated'))?.units).toEqual({
      documents_written: 1,
    });
    expect(elasticsearchMeter.meter(doc('DELETE', '/test/_doc/1', 'deleted'))).toBeUndefined();
    expect(elasticsearchMeter.meter(doc('POST', '/test/_update/1', 'noop'))).toBeUndefined();
  });
});
