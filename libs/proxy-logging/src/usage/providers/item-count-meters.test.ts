import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../meter-exchange';
import { createMeterRegistry } from '../meter-registry';

// Meters that count items (queries of a batch, records written, commands of a pipeline,
// documents read) count them from a body. When that body was not read (not captured, cut by
// the capture bound, not JSON) they counted 0 or 1 items instead: 0 made a known price look
// unknown (counted as unpriced, not as unmetered), and 1 silently billed a batch of a hundred
// searches as one. A body the meter could not read now meters no usage (an unmetered exchange).

const meters = createMeterRegistry();

interface Sent {
  method?: string;
  url: string;
  /** The request body as captured; absent when it was not kept. */
  request?: unknown;
  /** The response body as captured; absent when it was not kept. */
  response?: unknown;
  requestTruncated?: boolean;
  responseTruncated?: boolean;
}

function exchange({ method = 'POST', url, request, response, ...cut }: Sent): MeterExchange {
  const sent: MeterExchange = {
    method,
    url: new URL(url),
    status: 200,
    requestHeaders: { 'content-type': 'application/json' },
    responseHeaders: { 'content-type': 'application/json' },
    responseBytes: 1024,
    ...cut,
  };
  if (request !== undefined)
    sent.requestText = typeof request === 'string' ? request : JSON.stringify(request);
  if (response !== undefined)
    sent.responseText = typeof response === 'string' ? response : JSON.stringify(response);
  return sent;
}

const ALGOLIA = 'https://latency-dsn.algolia.net/1/indexes';
const CHROMA = 'https://api.trychroma.com/api/v2/tenants/t1/databases/d1/collections/c1';
const QDRANT = 'https://xyz.eu-central.aws.cloud.qdrant.io:6333/collections/c/points';
const REDIS = 'https://us1-merry-cat-32748.upstash.io';
const WEAVIATE = 'https://my-cluster.weaviate.network/v1';
const MONGODB = 'https://data.mongodb-api.com/app/data-abcde/endpoint/data/v1/action';
const ELASTIC = 'https://my-deployment.es.us-central1.gcp.cloud.es.io';

describe('item-count meters: a body they could not read meters no usage, not a made-up count', () => {
  it.each<[string, Sent]>([
    ['an Algolia multi-query (was 1 search)', { url: `${ALGOLIA}/*/queries`, response: { results: [] } }],
    ['an Algolia batch (was 1 record)', { url: `${ALGOLIA}/products/batch`, response: { taskID: 1 } }],
    ['a Chroma query (was 1 query)', { url: `${CHROMA}/query`, response: { ids: [] } }],
    ['a Chroma add (was 0 records)', { url: `${CHROMA}/add`, response: {} }],
    ['a Qdrant search batch (was 1 query)', { url: `${QDRANT}/search/batch`, response: { result: [] } }],
    ['a Qdrant upsert (was 0 points)', { method: 'PUT', url: QDRANT, response: { status: 'ok' } }],
    ['an Upstash pipeline (was 0 commands)', { url: `${REDIS}/pipeline`, response: [{ result: 'OK' }] }],
    ['a Weaviate object write (was 0 objects)', { url: `${WEAVIATE}/objects`, response: { id: 'a' } }],
    [
      'a Weaviate batch whose answer was cut (was 0 objects)',
      {
        url: `${WEAVIATE}/batch/objects`,
        request: { objects: [{}] },
        response: '[{}]',
        responseTruncated: true,
      },
    ],
    [
      'a MongoDB find whose answer was cut (was 1 operation and no documents read)',
      {
        url: `${MONGODB}/find`,
        request: { collection: 'c' },
        response: '{"documents":[]}',
        responseTruncated: true,
      },
    ],
    [
      'an Elasticsearch msearch whose answer was cut (was 1 search)',
      { url: `${ELASTIC}/_msearch`, response: '{"responses":[]}', responseTruncated: true },
    ],
  ])('%s', (_name, sent) => {
    expect(meters.meter(exchange(sent))).toBeUndefined();
  });

  it('reads no count from a request cut by the capture bound, even when its head and tail join into JSON', () => {
    // head `[["SET","a","1"],` and tail `["SET","z","26"]]`, joined as the capture keeps them
    const joined = '[["SET","a","1"],\n\n["SET","z","26"]]';
    expect(JSON.parse(joined)).toHaveLength(2);
    expect(
      meters.meter(exchange({ url: `${REDIS}/pipeline`, request: joined, requestTruncated: true })),
    ).toBeUndefined();
  });

  it('still counts the items of a body it read, and the one search a path names without reading it', () => {
    const searches = [{ vector: [0.1] }, { vector: [0.2] }, { vector: [0.3] }];
    expect(meters.meter(exchange({ url: `${QDRANT}/search/batch`, request: { searches } }))?.units).toEqual({
      queries: 3,
    });
    expect(meters.meter(exchange({ url: `${QDRANT}/search` }))?.units).toEqual({ queries: 1 });
    expect(
      meters.meter(
        exchange({
          url: `${REDIS}/pipeline`,
          request: [
            ['SET', 'a', '1'],
            ['GET', 'a'],
          ],
        }),
      )?.units,
    ).toEqual({ commands: 2 });
    expect(meters.meter(exchange({ url: `${ALGOLIA}/products/query` }))?.units).toEqual({
      search_requests: 1,
    });
    expect(meters.meter(exchange({ url: `${ELASTIC}/idx/_search` }))?.units).toEqual({ search_requests: 1 });
    expect(
      meters.meter(
        exchange({ url: `${MONGODB}/find`, request: { collection: 'c' }, response: { documents: [{}, {}] } }),
      )?.units,
    ).toEqual({ operations: 1, documents_read: 2 });
  });
});
