import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

// Without a SQL request log the admin query API still answers, behind the admin key, saying why
// it has nothing to give (the admin UI shows that rather than an unknown route).

const MASTER = 'sk-sy-master-key-request-log-off-0000';
const app = createApp({
  admin: { masterKey: MASTER },
  gateway: { providers: [{ name: 'mock', type: 'mock' }] },
});
afterAll(() => app.close());

describe('the admin query API without a SQL request log', () => {
  it.each(['/admin/requests', '/admin/usage?group_by=model', '/admin/usage/series', '/admin/runs/run-1'])(
    '%s answers 404 not_found saying the request log is not queryable',
    async (url) => {
      const response = await app.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${MASTER}` },
      });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({
        error: {
          message:
            'The request log is not queryable here: the admin query API needs a SQL request log (requestLog.store: sqlite or postgres).',
          type: 'invalid_request_error',
          param: null,
          code: 'not_found',
        },
      });
    },
  );

  it('is behind the admin key all the same', async () => {
    expect((await app.inject({ method: 'GET', url: '/admin/requests' })).statusCode).toBe(401);
  });
});
