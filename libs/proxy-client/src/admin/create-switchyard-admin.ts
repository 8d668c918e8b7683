import { Type } from '@sinclair/typebox';
import { SwitchyardClientError, type SwitchyardClientErrorCode } from '../errors/switchyard-client-error';
import { isDotsOnly } from '../context/validate-context-value';
import { gatewayBaseUrl } from '../options/gateway-base-url';
import { timerDelaySchema } from '../options/max-timer';
import { assertNoProblems, clientSchemaProblems } from '../options/validate-client-options';
import type { FetchFunction } from '../routing/create-gateway-fetch';
import type { RequestLogPage, RunTree, SwitchyardAdmin, TimeWindow, UsageReport } from './admin-types';

/** Options of {@link createSwitchyardAdmin}. */
export interface SwitchyardAdminOptions {
  /** Base URL of the Switchyard gateway, e.g. `http://localhost:4000`. */
  gatewayUrl: string;
  /** The gateway's admin (master) key, sent as `Authorization: Bearer`. Keep it server-side. */
  adminKey: string;
  /** The fetch that calls the admin API. @default globalThis.fetch at call time */
  fetch?: FetchFunction;
  /** Deadline of one admin call, in milliseconds, at most 2147483647 (a longer timer would fire after 1 ms). @default 30000 */
  timeoutMs?: number;
}

/** Defaults of {@link SwitchyardAdminOptions}. */
export const SWITCHYARD_ADMIN_DEFAULTS = { timeoutMs: 30_000 } as const;

const AdminOptionsSchema = Type.Object(
  {
    gatewayUrl: Type.String({ pattern: '^https?://' }),
    adminKey: Type.String({ minLength: 1, pattern: '^[\\x21-\\x7e]+$' }),
    timeoutMs: Type.Optional(timerDelaySchema(1)),
  },
  { additionalProperties: true },
);

const STATUS_CODES: Record<number, SwitchyardClientErrorCode> = {
  400: 'invalid_request',
  401: 'authentication_error',
  403: 'permission_denied',
  404: 'not_found',
};

/**
 * A client of the gateway's admin query API: read back a run's section tree with costs, and
 * usage by customer (or key, model, provider, run, section).
 *
 * @example
 * const admin = createSwitchyardAdmin({ gatewayUrl: 'http://localhost:4000', adminKey: process.env.SWITCHYARD_MASTER_KEY! });
 * const run = await admin.getRun(runId);
 * console.log(run.cost_usd, run.sections.map((s) => [s.section_path, s.total_cost_usd]));
 */
export function createSwitchyardAdmin(options: SwitchyardAdminOptions): SwitchyardAdmin {
  const problems = clientSchemaProblems(AdminOptionsSchema, options);
  if (typeof options === 'object' && options !== null) {
    const known = new Set(['gatewayUrl', 'adminKey', 'fetch', 'timeoutMs']);
    for (const key of Object.keys(options)) if (!known.has(key)) problems.push(`/${key}: unknown option`);
    if (options.fetch !== undefined && typeof options.fetch !== 'function')
      problems.push('/fetch: must be a function');
    if (problems.length === 0 && !URL.canParse(options.gatewayUrl))
      problems.push('/gatewayUrl: is not a valid URL');
  }
  assertNoProblems('admin client', problems);

  const base = gatewayBaseUrl(options.gatewayUrl);
  const authorization = `Bearer ${options.adminKey}`;
  const timeoutMs = options.timeoutMs ?? SWITCHYARD_ADMIN_DEFAULTS.timeoutMs;
  const send: FetchFunction = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  async function get<T>(
    path: string,
    query: Record<string, string | undefined>,
    signal: AbortSignal | undefined,
    isShape: (value: unknown) => boolean,
  ): Promise<T> {
    const url = new URL(`${base}${path}`);
    for (const [name, value] of Object.entries(query))
      if (value !== undefined) url.searchParams.set(name, value);
    const deadline = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await send(url, {
        method: 'GET',
        headers: { authorization, accept: 'application/json' },
        signal: signal === undefined ? deadline : AbortSignal.any([signal, deadline]),
        redirect: 'manual',
      });
    } catch (error) {
      // the caller's own abort ends the call as fetch does, with its reason: not a gateway fault
      if (signal?.aborted === true) throw signal.reason;
      throw new SwitchyardClientError(
        'upstream_connection_error',
        deadline.aborted
          ? `The Switchyard admin API at ${base} did not answer within ${timeoutMs} ms.`
          : `The Switchyard admin API at ${base} could not be reached.`,
        { cause: error },
      );
    }
    // a body that cannot be read (the deadline, a dropped connection) is not one that cannot be
    // parsed: the first is a connection error, the second an unexpected body
    let text: string | undefined;
    let readError: unknown;
    try {
      text = await response.text();
    } catch (error) {
      readError = error;
    }
    // aborted while the body was read: that, not the body, is what happened
    if (signal?.aborted === true) throw signal.reason;
    const body = text === undefined ? undefined : parseJson(text);
    if (!response.ok) {
      const message = errorMessage(body) ?? response.statusText;
      throw new SwitchyardClientError(
        STATUS_CODES[response.status] ?? 'upstream_error',
        `Switchyard admin API ${path} answered ${response.status}: ${message}`,
        text === undefined ? { status: response.status, cause: readError } : { status: response.status },
      );
    }
    if (text === undefined) {
      throw new SwitchyardClientError(
        'upstream_connection_error',
        deadline.aborted
          ? `The Switchyard admin API at ${base} did not answer within ${timeoutMs} ms.`
          : `The Switchyard admin API at ${base} answered ${path}, but the connection was lost before the end of the body.`,
        { cause: readError, status: response.status },
      );
    }
    if (!isShape(body)) {
      throw new SwitchyardClientError(
        'upstream_error',
        `Switchyard admin API ${path} answered with an unexpected body.`,
        { status: response.status },
      );
    }
    return body as T;
  }

  // async: a bad date in the window rejects, as every other problem of a call does
  const usage = async (
    groupBy: string,
    window: TimeWindow,
    signal: AbortSignal | undefined,
  ): Promise<UsageReport> =>
    get<UsageReport>(
      '/admin/usage',
      { group_by: groupBy, from: isoDate(window.from), to: isoDate(window.to) },
      signal,
      (b) => hasArray(b, 'groups'),
    );

  // every method is async: whatever is wrong with its arguments (from JavaScript too) is a
  // rejected promise, never a synchronous throw
  return Object.freeze({
    async getRun(runId: string, opts: { signal?: AbortSignal } = {}): Promise<RunTree> {
      // encodeURIComponent keeps `.` and `..`, which the URL then resolves to /admin/ or /admin/runs/
      if (typeof runId !== 'string' || runId.length === 0 || isDotsOnly(runId))
        throw new SwitchyardClientError('invalid_request', 'getRun needs a run id that is not only dots.');
      return get<RunTree>(`/admin/runs/${pathSegment(runId)}`, {}, opts.signal, (b) =>
        hasArray(b, 'sections'),
      );
    },
    async getUsage(query, opts = {}) {
      if (typeof query !== 'object' || query === null)
        throw new SwitchyardClientError('invalid_request', 'getUsage needs a query object with groupBy.');
      return usage(query.groupBy, query, opts.signal);
    },
    async usageByCustomer(window = {}, opts = {}) {
      return usage('customer', window, opts.signal);
    },
    async listRequests(query = {}, opts = {}): Promise<RequestLogPage> {
      return get<RequestLogPage>(
        '/admin/requests',
        {
          limit: query.limit?.toString(),
          cursor: query.cursor,
          model: query.model,
          requested_model: query.requestedModel,
          provider: query.provider,
          customer_id: query.customerId,
          run_id: query.runId,
          client_request_id: query.clientRequestId,
          status: query.status?.toString(),
          from: isoDate(query.from),
          to: isoDate(query.to),
        },
        opts.signal,
        (b) => hasArray(b, 'data'),
      );
    },
  } satisfies SwitchyardAdmin);
}

// encodeURIComponent throws a URIError on a lone surrogate (`'a\uD800'`), which has no UTF-8
function pathSegment(runId: string): string {
  try {
    return encodeURIComponent(runId);
  } catch (error) {
    throw new SwitchyardClientError(
      'invalid_request',
      'getRun needs a run id of well-formed Unicode (it has a lone surrogate).',
      { cause: error },
    );
  }
}

function isoDate(value: Date | string | undefined): string | undefined {
  if (!(value instanceof Date)) return value;
  if (Number.isNaN(value.getTime()))
    throw new SwitchyardClientError('invalid_request', 'A time window bound is an invalid Date.');
  return value.toISOString();
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function hasArray(body: unknown, key: string): boolean {
  return typeof body === 'object' && body !== null && Array.isArray((body as Record<string, unknown>)[key]);
}

function errorMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { message?: unknown }).message === 'string'
  ) {
    return (error as { message: string }).message;
  }
  return typeof error === 'string' ? error : undefined;
}
