/** The admin API client: the key lives in sessionStorage and travels only as a Bearer header. */
import { ApiError, readAnswer, refusesKey } from './api-answer';
import { noteGatewayClock } from './gateway-clock';

export { ApiError };

const STORAGE_KEY = 'switchyard.adminKey';

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
  const sentAt = Date.now();
  const response = await fetch(url(path, options.query), {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    cache: 'no-store',
    credentials: 'omit',
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  noteGatewayClock(response, sentAt, Date.now());
  try {
    return await readAnswer<T>(response);
  } catch (error) {
    if (error instanceof ApiError && refusesKey(error) && options.key === undefined)
      onUnauthorized(error.message);
    throw error;
  }
}
