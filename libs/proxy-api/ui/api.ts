/** The admin API client: the key lives in sessionStorage and travels only as a Bearer header. */
const STORAGE_KEY = 'switchyard.adminKey';

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

export const session = {
  get: (): string | null => sessionStorage.getItem(STORAGE_KEY),
  set: (key: string): void => sessionStorage.setItem(STORAGE_KEY, key),
  clear: (): void => sessionStorage.removeItem(STORAGE_KEY),
};

/** Called when the API refuses the key, so the app can return to the login form. */
let onUnauthorized: (message: string) => void = () => undefined;
export function whenUnauthorized(handler: (message: string) => void): void {
  onUnauthorized = handler;
}

/** The API root: the UI lives at `<root>/ui/`, the admin API at `<root>/admin/`. */
function url(path: string, query: Record<string, string | number | undefined> = {}): string {
  const target = new URL(`../${path}`, location.href);
  target.hash = '';
  for (const [name, value] of Object.entries(query))
    if (value !== undefined && value !== '') target.searchParams.set(name, String(value));
  return target.toString();
}

/** Calls the admin API; rejects with {@link ApiError} on an error answer. */
export async function api<T>(
  path: string,
  options: {
    method?: string;
    query?: Record<string, string | number | undefined>;
    body?: unknown;
    key?: string;
    /** Aborts the call: a view closed, or a newer load of the same data started. */
    signal?: AbortSignal;
  } = {},
): Promise<T> {
  const key = options.key ?? session.get() ?? '';
  const headers: Record<string, string> = { authorization: `Bearer ${key}`, accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url(path, options.query), {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    cache: 'no-store',
    credentials: 'omit',
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const text = await response.text();
  const type = response.headers.get('content-type');
  const json = readJson(type, text);
  const status = `${response.status} ${response.statusText}`.trim();
  if (!response.ok) {
    // the gateway's own errors are JSON; a reverse proxy's (an HTML 401, 502 or 413) are not,
    // and keep their status all the same
    const error = (json?.value as { error?: { message?: unknown; code?: unknown } } | null | undefined)
      ?.error;
    const failure = new ApiError(
      response.status,
      typeof error?.message === 'string' ? error.message : status,
      typeof error?.code === 'string' ? error.code : undefined,
    );
    if ((response.status === 401 || response.status === 403) && options.key === undefined)
      onUnauthorized(failure.message);
    throw failure;
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

/** An answer's body read as JSON; undefined when it is not JSON by its type, or not valid JSON. */
function readJson(type: string | null, text: string): { value: unknown } | undefined {
  if (text === '' || type === null || !/^application\/([\w.-]+\+)?json\s*(;|$)/i.test(type)) return undefined;
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}
