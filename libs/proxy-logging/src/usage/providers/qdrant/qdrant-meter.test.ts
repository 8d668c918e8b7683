import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../../meter-exchange';
import { qdrantMeter } from './qdrant-meter';

function upsert(body: unknown): MeterExchange {
  const responseText = JSON.stringify({
    usage: null,
    time: 0.003,
    status: 'ok',
    result: { operation_id: 7, status: 'completed' },
  });
  return {
    method: 'PUT',
    url: new URL('https://xyz-example.eu-central.aws.cloud.qdrant.io:6333/collections/docs/points'),
    requestHeaders: { 'content-type': 'application/json' },
    requestText: JSON.stringify(body),
    status: 200,
    responseHeaders: { 'content-type': 'application/json' },
    responseText,
    responseBytes: responseText.length,
  };
}

// an upsert's points come as a list of records, or column-oriented as one batch of ids, vectors
// and payloads (https://api.qdrant.tech/api-reference/points/upsert-points)
describe('qdrant meter: upserted points', () => {
  it('counts the points of a record-oriented upsert', () => {
    const usage = qdrantMeter.meter(
      upsert({
        points: [
          { id: 1, vector: [0.1, 0.2], payload: { color: 'red' } },
          { id: 2, vector: [0.3, 0.4] },
        ],
      }),
    );
    expect(usage?.units).toEqual({ points_written: 2 });
  });

  it('counts the points of a column-oriented (batch) upsert by its ids', () => {
    const usage = qdrantMeter.meter(
      upsert({
        batch: {
          ids: [1, 2, 3],
          vectors: [
            [0.9, 0.1],
            [0.1, 0.9],
            [0.5, 0.5],
          ],
          payloads: [{ color: 'red' }, { color: 'green' }, { color: 'blue' }],
        },
      }),
    );
    expect(usage?.units).toEqual({ points_written: 3 });
  });
});
