import { header, record, requestJson, str, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

/** The type and name of the operation a GraphQL document runs. */
export function graphqlOperation(document: string, operationName?: string): { type: string; name: string } {
  const stripped = document.replace(/#[^\n]*/g, ' ');
  const pattern = /\b(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/g;
  let first: { type: string; name: string } | undefined;
  for (const match of stripped.matchAll(pattern)) {
    const found = { type: match[1] ?? 'query', name: match[2] ?? '' };
    first ??= found;
    if (operationName !== undefined && found.name === operationName) return found;
  }
  // a bare selection set `{ ... }` is an anonymous query
  return first ?? { type: 'query', name: operationName ?? '' };
}

/** True when the exchange looks like a GraphQL request. */
export function isGraphqlExchange(exchange: MeterExchange): boolean {
  if ((header(exchange.requestHeaders, 'content-type') ?? '').includes('application/graphql')) return true;
  if (!/\/graphql\/?$/.test(exchange.url.pathname)) return false;
  return exchange.method === 'GET'
    ? exchange.url.searchParams.has('query')
    : typeof record(requestJson(exchange))['query'] === 'string';
}

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  let document: string | undefined;
  let name: string | undefined;
  if (exchange.method === 'GET') {
    document = exchange.url.searchParams.get('query') ?? undefined;
    name = exchange.url.searchParams.get('operationName') ?? undefined;
  } else if ((header(exchange.requestHeaders, 'content-type') ?? '').includes('application/graphql')) {
    document = exchange.requestText;
  } else {
    const body = record(requestJson(exchange));
    document = str(body['query']);
    name = str(body['operationName']);
  }
  if (document === undefined) return undefined;
  const operation = graphqlOperation(document, name);
  return {
    provider: 'graphql',
    model: exchange.url.hostname,
    operation: `${operation.type}${operation.name === '' ? '' : ` ${operation.name}`}`,
    units: { operations: 1 },
    attributes: {
      operation_type: operation.type,
      operation_name: operation.name,
      response_bytes: exchange.responseBytes,
      status: exchange.status,
    },
  };
}

/**
 * Any GraphQL endpoint (`/graphql` path or `application/graphql` body): the operation
 * type and name, and the response size.
 * @see https://graphql.org/learn/serving-over-http/
 */
export const graphqlMeter: ProviderMeter = {
  name: 'graphql',
  label: 'GraphQL (any endpoint)',
  hosts: [],
  units: 'operations (type, name, response bytes)',
  meter,
};
