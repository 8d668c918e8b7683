import { num, parseJson, record, responseJson, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const path = exchange.url.pathname;
  const json = responseJson(exchange);
  const body = record(json);
  const took = num(body['took']);
  const attributes: Record<string, number> = took === undefined ? {} : { took_ms: took };
  if (/\/_(search|msearch|count)$/.test(path)) {
    // a multi-search is counted by its answer's `responses`: one not read meters nothing, not 1
    const responses = body['responses'];
    if (path.endsWith('/_msearch') && !Array.isArray(responses)) return undefined;
    return {
      provider: 'elasticsearch',
      operation: 'search',
      units: { search_requests: Array.isArray(responses) ? responses.length : 1 },
      attributes,
    };
  }
  if (path.endsWith('/_bulk')) {
    // an answer cut by the capture bound, or not JSON, says nothing of what was written
    const written = json === undefined ? undefined : bulkWrites(exchange, body['items'], body['errors']);
    if (written === undefined) return undefined;
    return {
      provider: 'elasticsearch',
      operation: 'bulk',
      units: { documents_written: written },
      attributes,
    };
  }
  if (
    /\/_(doc|create|update)(\/|$)/.test(path) &&
    WRITE_METHODS.has(exchange.method) &&
    body['result'] !== 'noop'
  ) {
    return { provider: 'elasticsearch', operation: 'index', units: { documents_written: 1 }, attributes };
  }
  return undefined;
}

// the methods that write a document on the single-document APIs (DELETE removes one)
const WRITE_METHODS: ReadonlySet<string> = new Set(['PUT', 'POST']);

// the `_bulk` actions that write a document (a `delete` removes one)
const WRITE_ACTIONS: readonly string[] = ['index', 'create', 'update'];
const BULK_ACTIONS: readonly string[] = [...WRITE_ACTIONS, 'delete'];

/** A `_bulk` answer's item as its action's name and entry; undefined for an item that is neither. */
function bulkItem(item: unknown): { action: string; entry: Record<string, unknown> } | undefined {
  const actions = record(item);
  const action = BULK_ACTIONS.find((name) => actions[name] !== undefined);
  return action === undefined ? undefined : { action, entry: record(actions[action]) };
}

/** Whether a full item's write entry wrote a document: a 2xx, no error, not an update that changed nothing. */
function wrote(entry: Record<string, unknown> | undefined): boolean {
  const status = num(entry?.['status']);
  return (
    status !== undefined &&
    status >= 200 &&
    status < 300 &&
    entry?.['error'] === undefined &&
    entry?.['result'] !== 'noop'
  );
}

/**
 * Whether a `filter_path` keeps the failed items' errors (`items.*.error`, `items.*.index.error`,
 * among other filters): only then does an answer without statuses list every failure. Another
 * filter (`took,errors`, `items.*._id`) drops them, and says nothing of what was written.
 */
function keepsItemErrors(filter: string | null): boolean {
  return (
    filter !== null &&
    filter.split(',').some((path) => /^items\.(?:[^.,]+\.)*error(?:\.|$)/.test(path.trim()))
  );
}

/**
 * The documents a `_bulk` wrote. The bulk answers 200 whatever became of each action: each item,
 * keyed by its action, carries that action's own HTTP `status` (and an `error` when it failed), and
 * an update that changed nothing says `result: "noop"`. An answer trimmed by `filter_path`
 * (`items.*.error`, which Elastic recommends for large bulks) keeps only the failed items, without
 * a status (and no `items` at all when none failed): the request's write actions, less the failed
 * ones, are counted then, updates that changed nothing included (such an answer cannot show them).
 * Undefined when neither tells: an answer whose items lack a status without a `filter_path` that
 * keeps their errors, one that says some failed (`errors: true`) but shows none, or a request not
 * captured whole.
 * @see https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-bulk
 */
function bulkWrites(exchange: MeterExchange, items: unknown, errors: unknown): number | undefined {
  const list = Array.isArray(items) ? (items as unknown[]).map(bulkItem) : [];
  const full = list.length > 0 && list.every((item) => item?.entry['status'] !== undefined);
  if (full) {
    return list.filter((item) => item !== undefined && item.action !== 'delete' && wrote(item.entry)).length;
  }
  if (!keepsItemErrors(exchange.url.searchParams.get('filter_path')) || exchange.requestTruncated === true)
    return undefined;
  const requested = requestedWrites(exchange.requestText);
  if (requested === undefined) return undefined;
  // the answer says some failed but shows none: what failed is not known
  if (errors === true && !list.some((item) => item?.entry['error'] !== undefined)) return undefined;
  const failed = list.filter(
    (item) => item !== undefined && item.action !== 'delete' && item.entry['error'] !== undefined,
  ).length;
  return Math.max(0, requested - failed);
}

/**
 * The write actions (`index`, `create`, `update`) of a `_bulk` request body: NDJSON of action
 * lines, each but a `delete` followed by its document (or update) line, which is skipped whatever
 * its fields. Undefined when the body was not captured or is not such NDJSON.
 */
function requestedWrites(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  let writes = 0;
  let expectSource = false;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (expectSource) {
      expectSource = false;
      continue;
    }
    const names = Object.keys(record(parseJson(line)));
    if (names.length !== 1) return undefined;
    const name = names[0] as string;
    if (name === 'delete') continue;
    if (!WRITE_ACTIONS.includes(name)) return undefined;
    writes += 1;
    expectSource = true;
  }
  return writes;
}

/**
 * Elasticsearch (Elastic Cloud): search requests (msearch counted per search) and documents
 * written (a bulk's index, create and update actions that succeeded and changed something; a
 * single document's PUT or POST).
 * @see https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-search
 */
export const elasticsearchMeter: ProviderMeter = {
  name: 'elasticsearch',
  label: 'Elasticsearch',
  hosts: ['*.elastic-cloud.com', '*.es.io', '*.found.io'],
  units: 'search requests; documents written',
  meter,
};
