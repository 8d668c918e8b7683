import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../../meter-exchange';
import { qdrantMeter } from './qdrant-meter';

function pointsExchange(method: string, path: string, body: unknown): MeterExchange {
  const responseText = JSON.stringify({
    usage: null,
    time: 0.003,
    status: 'ok',
    result: { operation_id: 7, status: 'completed' },
  });
  return {
    method,
    url: new URL(`https://xyz-example.eu-central.aws.cloud.qdrant.io:6333/collections/docs/points${path}`),
    requestHeaders: { 'content-type': 'application/json' },
    requestText: JSON.stringify(body),
    status: 200,
    responseHeaders: { 'content-type': 'application/json' },
    responseText,
    responseBytes: responseText.length,
  };
}

const upsert = (body: unknown): MeterExchange => pointsExchange('PUT', '', body);

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

// a batch update runs a list of operations, each named by its one key: `upsert` (records or a
// column-oriented batch, as in an upsert), `delete`, `set_payload`, `update_vectors`, ...
// (https://api.qdrant.tech/api-reference/points/batch-update,
// https://qdrant.tech/documentation/concepts/points/#batch-update)
describe('qdrant meter: batch updates', () => {
  const batchUpdate = (operations: unknown[]): MeterExchange =>
    pointsExchange('POST', '/batch', { operations });

  it('counts the points of every upsert in a batch update, not its deletes or payload and vector updates', () => {
    const usage = qdrantMeter.meter(
      batchUpdate([
        {
          upsert: {
            points: [
              { id: 1, vector: [0.1, 0.2] },
              { id: 2, vector: [0.3, 0.4] },
            ],
          },
        },
        { set_payload: { payload: { color: 'red' }, points: [1, 2] } },
        { update_vectors: { points: [{ id: 1, vector: [0.5, 0.6] }] } },
        {
          upsert: {
            batch: {
              ids: [3, 4, 5],
              vectors: [
                [0.9, 0.1],
                [0.1, 0.9],
                [0.5, 0.5],
              ],
            },
          },
        },
        { delete: { points: [2] } },
      ]),
    );
    expect(usage).toEqual({
      provider: 'qdrant',
      operation: 'batch',
      units: { points_written: 5 },
      attributes: { server_seconds: 0.003 },
    });
  });

  it('meters nothing for a batch update without upserts, as for the delete and payload endpoints', () => {
    const usage = qdrantMeter.meter(
      batchUpdate([
        { overwrite_payload: { payload: { color: 'blue' }, points: [1] } },
        { delete: { points: [1] } },
        { upsert: null },
      ]),
    );
    expect(usage).toBeUndefined();
  });
});
