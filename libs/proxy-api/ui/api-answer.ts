/** An error answer from the API, with the gateway's error code. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  constructor(status: number, message: string, code: string | undefined) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Whether an error answer refused the admin key, so the page signs out: a 401, which the gateway
 * answers a missing or wrong master key with (`authentication_error`), and a reverse proxy its own
 * refusal. Not a 403: the gateway's (`permission_denied`: the admin API disabled or served to this
 * machine only, a key declared in configuration) refuse what no other key would get either, and a
 * proxy's (a WAF rule on one query) refuses that one call.
 */
export function refusesKey(error: ApiError): boolean {
  return error.status === 401;
}

/**
 * An admin API answer's JSON body; rejects with {@link ApiError} on an error answer, with the
 * gateway's message and code when it sent them, else the status (`502 Bad Gateway`).
 */
export async function readAnswer<T>(response: Response): Promise<T> {
  const text = await response.text();
  const type = response.headers.get('content-type');
  const json = readJson(text);
  const status = `${response.status} ${response.statusText}`.trim();
  if (!response.ok) {
    // the gateway's own errors are JSON; a reverse proxy's (an HTML 401, 502 or 413) are not,
    // and keep their status all the same
    const error = (json?.value as { error?: { message?: unknown; code?: unknown } } | null | undefined)
      ?.error;
    throw new ApiError(
      response.status,
      typeof error?.message === 'string' ? error.message : status,
      typeof error?.code === 'string' ? error.code : undefined,
    );
  }
  if (text === '') return undefined as T;
  if (json === undefined)
    throw new ApiError(
      response.status,
      `The gateway answered ${status} with a body that is not JSON (${type ?? 'no content type'}).`,
      undefined,
    );
  return json.value as T;
}

/**
 * An answer's body read as JSON, whatever its content type says (a proxy may have rewritten it);
 * undefined when it is empty or not valid JSON (an HTML error page).
 */
function readJson(text: string): { value: unknown } | undefined {
  if (text === '') return undefined;
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}
