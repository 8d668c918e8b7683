import { readContext } from './context-storage';
import type { SwitchyardContext } from './switchyard-context';

/** The tracing header names the gateway reads on every route (never forwarded upstream). */
export const TRACING_HEADERS = Object.freeze({
  runId: 'x-switchyard-run-id',
  spanId: 'x-switchyard-span-id',
  parentSpanId: 'x-switchyard-parent-span-id',
  section: 'x-switchyard-section',
  sectionPath: 'x-switchyard-section-path',
  customerId: 'x-switchyard-customer-id',
} as const);

/**
 * The tracing headers for a context (the current one by default): add them yourself when a
 * call reaches the gateway by another route than `createGatewayFetch` or the dispatcher.
 */
export function contextHeaders(context: SwitchyardContext = readContext()): Record<string, string> {
  const headers: Record<string, string> = {};
  if (context.run !== undefined) headers[TRACING_HEADERS.runId] = context.run.runId;
  if (context.section !== undefined) {
    headers[TRACING_HEADERS.spanId] = context.section.spanId;
    if (context.section.parentSpanId !== undefined)
      headers[TRACING_HEADERS.parentSpanId] = context.section.parentSpanId;
    headers[TRACING_HEADERS.section] = context.section.name;
    headers[TRACING_HEADERS.sectionPath] = context.section.path;
  }
  if (context.customerId !== undefined) headers[TRACING_HEADERS.customerId] = context.customerId;
  return headers;
}
