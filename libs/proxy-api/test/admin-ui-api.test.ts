import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, session, whenUnauthorized } from '../ui/api';

// The admin UI's API client, in Node: fetch, sessionStorage and location stubbed as a page has them.

const answer = (status: number, statusText: string, body: string, type?: string): Response =>
  new Response(body, { status, statusText, headers: type === undefined ? {} : { 'content-type': type } });

let unauthorized: string[];

beforeEach(() => {
  const stored = new Map<string, string>();
  vi.stubGlobal('sessionStorage', {
    getItem: (name: string) => stored.get(name) ?? null,
    setItem: (name: string, value: string) => stored.set(name, value),
    removeItem: (name: string) => stored.delete(name),
  });
  vi.stubGlobal('location', { href: 'http://gateway.test/ui/#/requests' });
  session.set('sk-sy-master');
  unauthorized = [];
  whenUnauthorized((message) => unauthorized.push(message));
});

afterEach(() => {
  vi.unstubAllGlobals();
});

const failureOf = async (promise: Promise<unknown>): Promise<ApiError> => {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
};

describe("the admin UI's API client", () => {
  it("keeps the status of an error answer that is not JSON (a reverse proxy's HTML page)", async () => {
    vi.stubGlobal('fetch', async () =>
      answer(502, 'Bad Gateway', '<html><body>502 Bad Gateway</body></html>', 'text/html'),
    );
    const error = await failureOf(api('admin/requests'));
    expect(error).toMatchObject({ status: 502, code: undefined, message: '502 Bad Gateway' });

    vi.stubGlobal('fetch', async () => answer(413, 'Payload Too Large', 'too large', 'text/plain'));
    expect(await failureOf(api('admin/keys', { method: 'POST', body: {} }))).toMatchObject({
      status: 413,
      message: '413 Payload Too Large',
    });
  });

  it("returns to the login form on a 401 whatever its body, a proxy's HTML page too", async () => {
    vi.stubGlobal('fetch', async () =>
      answer(401, 'Unauthorized', '<html><body>401 Authorization Required</body></html>', 'text/html'),
    );
    expect(await failureOf(api('admin/requests'))).toMatchObject({
      status: 401,
      message: '401 Unauthorized',
    });
    expect(unauthorized).toEqual(['401 Unauthorized']);

    vi.stubGlobal('fetch', async () =>
      answer(
        401,
        'Unauthorized',
        '{"error":{"message":"The master key is not valid.","code":"invalid_api_key"}}',
        'application/json; charset=utf-8',
      ),
    );
    expect(await failureOf(api('admin/requests'))).toMatchObject({
      status: 401,
      code: 'invalid_api_key',
      message: 'The master key is not valid.',
    });
    expect(unauthorized).toEqual(['401 Unauthorized', 'The master key is not valid.']);
  });

  it('says what it got when a JSON answer cannot be read, instead of throwing a SyntaxError', async () => {
    vi.stubGlobal('fetch', async () => answer(500, 'Internal Server Error', '{"error":', 'application/json'));
    expect(await failureOf(api('admin/usage'))).toMatchObject({
      status: 500,
      message: '500 Internal Server Error',
    });

    // a success that is not JSON: a proxy's sign-in page answered in the API's place
    vi.stubGlobal('fetch', async () => answer(200, 'OK', '<html>Sign in</html>', 'text/html'));
    const error = await failureOf(api('admin/usage'));
    expect(error.status).toBe(200);
    expect(error.message).toBe('The gateway answered 200 OK with a body that is not JSON (text/html).');
  });

  it('reads JSON answers as before', async () => {
    vi.stubGlobal('fetch', async () =>
      answer(200, 'OK', '{"data":[],"next_cursor":null}', 'application/json'),
    );
    expect(await api('admin/keys')).toEqual({ data: [], next_cursor: null });
  });
});
