import { describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';
import { ApiError, readAnswer, refusesKey } from '../ui/api-answer';

// How the admin UI reads the API's answers, in Node (the browser test sees a 401 of a reverse
// proxy send the page back to the sign-in form).

const answer = (status: number, statusText: string, body: string, type?: string): Response =>
  new Response(body, { status, statusText, headers: type === undefined ? {} : { 'content-type': type } });

const failureOf = async (promise: Promise<unknown>): Promise<ApiError> => {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
};

describe("the admin UI's reading of an answer", () => {
  it("keeps the status of an error answer that is not JSON (a reverse proxy's HTML page)", async () => {
    for (const [status, statusText, body, type] of [
      [502, 'Bad Gateway', '<html><body>502 Bad Gateway</body></html>', 'text/html'],
      [401, 'Unauthorized', '<html><body>401 Authorization Required</body></html>', 'text/html'],
      [413, 'Payload Too Large', 'too large', 'text/plain'],
      [504, 'Gateway Timeout', '', undefined],
    ] as const)
      expect(await failureOf(readAnswer(answer(status, statusText, body, type)))).toMatchObject({
        status,
        code: undefined,
        message: `${status} ${statusText}`,
      });
  });

  it("reads the gateway's own error answers: its message and code", async () => {
    const refused = answer(
      401,
      'Unauthorized',
      '{"error":{"message":"The master key is not valid.","type":"authentication_error","code":"invalid_api_key"}}',
      'application/json; charset=utf-8',
    );
    expect(await failureOf(readAnswer(refused))).toMatchObject({
      status: 401,
      code: 'invalid_api_key',
      message: 'The master key is not valid.',
    });
  });

  it('says what it got when an answer cannot be read as JSON, instead of throwing a SyntaxError', async () => {
    expect(
      await failureOf(readAnswer(answer(500, 'Internal Server Error', '{"error":', 'application/json'))),
    ).toMatchObject({ status: 500, message: '500 Internal Server Error' });
    // an error body of another shape than the gateway's
    expect(
      await failureOf(
        readAnswer(answer(502, 'Bad Gateway', '{"error":"upstream down"}', 'application/json')),
      ),
    ).toMatchObject({ status: 502, message: '502 Bad Gateway', code: undefined });
    // a success that is not JSON: a proxy's sign-in page answered in the API's place
    expect(await failureOf(readAnswer(answer(200, 'OK', '<html>Sign in</html>', 'text/html')))).toMatchObject(
      {
        status: 200,
        message: 'The gateway answered 200 OK with a body that is not JSON (text/html).',
      },
    );
  });

  it('reads JSON answers, whatever their content type says, and an empty one as nothing', async () => {
    expect(
      await readAnswer(
        answer(200, 'OK', '{"data":[],"next_cursor":null}', 'application/json; charset=utf-8'),
      ),
    ).toEqual({ data: [], next_cursor: null });
    expect(await readAnswer(answer(201, 'Created', '{"id":"key_1"}', 'text/plain'))).toEqual({ id: 'key_1' });
    expect(await readAnswer(new Response(null, { status: 204 }))).toBeUndefined();
  });

  it('signs out when the admin key is refused (401), not on a 403 that refuses what no key would get', async () => {
    const master = 'sk-sy-master-key-for-the-ui-api-test-0';
    const app = createApp({
      admin: { masterKey: master },
      keys: [{ key: 'sk-sy-static-key-for-the-ui-test-0001', name: 'ci' }],
      gateway: { providers: [{ name: 'mock', type: 'mock' }] },
    });
    const refusal = async (method: 'GET' | 'POST', url: string, key: string): Promise<ApiError> => {
      const reply = await app.inject({ method, url, headers: { authorization: `Bearer ${key}` } });
      const type = reply.headers['content-type'];
      return failureOf(
        readAnswer(
          answer(
            reply.statusCode,
            reply.statusMessage,
            reply.body,
            typeof type === 'string' ? type : undefined,
          ),
        ),
      );
    };
    try {
      const wrong = await refusal('GET', '/admin/providers', 'sk-sy-not-the-master-key-0000000000');
      expect(wrong).toMatchObject({ status: 401, code: 'authentication_error' });
      expect(refusesKey(wrong)).toBe(true);
      // the master key, refused one call: a key declared in configuration is not revoked here
      const declared = await refusal('POST', '/admin/keys/key_static_ci/revoke', master);
      expect(declared).toMatchObject({ status: 403, code: 'permission_denied' });
      expect(refusesKey(declared)).toBe(false);
    } finally {
      await app.close();
    }
    // a reverse proxy's refusals: of the key (401), of one query (a WAF rule's 403)
    expect(
      refusesKey(await failureOf(readAnswer(answer(401, 'Unauthorized', '<html>401</html>', 'text/html')))),
    ).toBe(true);
    expect(
      refusesKey(await failureOf(readAnswer(answer(403, 'Forbidden', '<html>Blocked</html>', 'text/html')))),
    ).toBe(false);
  });
});
