import { OperationError } from './cli-errors';

/** Where the gateway is and how to authenticate to its admin API. */
export interface AdminClientOptions {
  /** Base URL of the running gateway, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** The master key, sent as `Authorization: Bearer`; none in open mode. */
  adminKey: string | undefined;
  /** Deadline of one call, in milliseconds. @default 30000 */
  timeoutMs?: number;
}

/** One admin call. */
export interface AdminRequest {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Query parameters; undefined values are left out. */
  query?: Readonly<Record<string, string | number | undefined>>;
  body?: unknown;
  /** Cancels the call (Ctrl-C during `logs tail`). */
  signal?: AbortSignal;
}

/** Calls the admin API of a running gateway; returns parsed JSON. */
export type AdminClient = (path: string, request?: AdminRequest) => Promise<unknown>;

/**
 * A small client of the gateway's admin HTTP API. The CLI does not use
 * `@switchyard/proxy-client`'s admin helpers: module boundaries keep the app off the client
 * SDK, and those helpers cover the query API but not keys. Error answers become
 * {@link OperationError}s carrying the gateway's own message; the admin key never appears in one.
 */
export function createAdminClient(options: AdminClientOptions): AdminClient {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const base = options.baseUrl.replace(/\/+$/, '');
  return async (path, request = {}) => {
    const url = new URL(`${base}${path}`);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.adminKey !== undefined) headers['authorization'] = `Bearer ${options.adminKey}`;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await fetch(url, {
        method: request.method ?? 'GET',
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: request.signal === undefined ? timeout : AbortSignal.any([request.signal, timeout]),
      });
    } catch (error) {
      if (request.signal?.aborted === true) throw error;
      throw new OperationError(
        `Cannot reach the gateway at ${base}: ${describeFetchFailure(error, timeoutMs)}`,
      );
    }
    const body = await response.text();
    let parsed: unknown;
    try {
      parsed = body === '' ? undefined : JSON.parse(body);
    } catch {
      throw new OperationError(
        `The gateway at ${base} answered ${url.pathname} with ${response.status} and a body that is not JSON.`,
        { status: response.status },
      );
    }
    if (!response.ok) throw errorFromAnswer(response.status, parsed, url.pathname);
    return parsed;
  };
}

function describeFetchFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError')
    return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) return (cause as NodeJS.ErrnoException).code ?? cause.message;
  return error instanceof Error ? error.message : String(error);
}

function errorFromAnswer(status: number, body: unknown, path: string): OperationError {
  const error = typeof body === 'object' && body !== null && 'error' in body ? body.error : undefined;
  const fields = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
  const code = typeof fields['code'] === 'string' ? fields['code'] : undefined;
  let message =
    typeof fields['message'] === 'string'
      ? fields['message']
      : typeof error === 'string'
        ? error
        : `HTTP ${status}`;
  // Fastify's own 404 for a route that is not registered: the request log query API is off
  if (status === 404 && code === undefined && path.startsWith('/admin/') && !path.startsWith('/admin/keys')) {
    message += ' (is the request log enabled on this gateway? requestLog.store must be sqlite or postgres)';
  }
  return new OperationError(
    `The gateway refused ${path} (${status}${code === undefined ? '' : ` ${code}`}): ${message}`,
    {
      status,
      ...(code === undefined ? {} : { code }),
    },
  );
}
