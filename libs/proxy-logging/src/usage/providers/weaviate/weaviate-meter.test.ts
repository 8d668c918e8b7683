import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../../meter-exchange';
import { weaviateMeter } from './weaviate-meter';

function batchObjects(results: unknown[]): MeterExchange {
  const responseText = JSON.stringify(
    results.map((result, index) => ({ class: 'Article', id: `8f8a5f0e-${index}`, properties: {}, result })),
  );
  return {
    method: 'POST',
    url: new URL('https://my-cluster.weaviate.network/v1/batch/objects'),
    requestHeaders: { 'content-type': 'application/json' },
    requestText: JSON.stringify({ objects: results.map(() => ({ class: 'Article', properties: {} })) }),
    status: 200,
    responseHeaders: { 'content-type': 'application/json' },
    responseText,
    responseBytes: responseText.length,
  };
}

// a batch answers 200 whatever became of each object: one that failed carries `result.errors` and,
// where the version reports a status, `status: FAILED`; one written, `SUCCESS` or an empty result
// (https://weaviate.io/developers/weaviate/api/rest#tag/batch/post/batch/objects, schema
// `ObjectsGetResponse.result`)
describe('weaviate meter: batch objects', () => {
  it('counts only the objects a batch wrote, not those whose result carries errors', () => {
    const usage = weaviateMeter.meter(
      batchObjects([
        { status: 'SUCCESS' },
        { errors: { error: [{ message: 'no such class Article' }] }, status: 'FAILED' },
        {},
        { errors: { error: [{ message: 'context deadline exceeded' }] } },
      ]),
    );
    expect(usage?.units).toEqual({ objects_written: 2 });
  });

  it('counts an object whose status says it failed as not written, errors or not', () => {
    const usage = weaviateMeter.meter(batchObjects([{ status: 'FAILED' }, { status: 'SUCCESS' }]));
    expect(usage?.units).toEqual({ objects_written: 1 });
  });
});
