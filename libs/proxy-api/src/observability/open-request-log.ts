import { createRequestLog, type RequestLog, type RequestLogOptions } from '@switchyard/proxy-logging';
import type { FastifyInstance } from 'fastify';

/** The app's request log, and whether the app created it (and so must close it). */
export interface AppRequestLog {
  log: RequestLog;
  owned: boolean;
}

/** Whether the `requestLog` option is a running request log rather than options to create one. */
export function isRequestLog(value: RequestLog | RequestLogOptions): value is RequestLog {
  return 'queue' in value && 'plugin' in value;
}

/**
 * Adopts a running request log or creates one from options, before anything else needs its
 * database (virtual keys and spend live there by default). Unset: no request log.
 */
export async function openRequestLog(
  app: FastifyInstance,
  given: RequestLog | RequestLogOptions | undefined,
): Promise<AppRequestLog | undefined> {
  if (given === undefined) return undefined;
  if (isRequestLog(given)) return { log: given, owned: false };
  return { log: await createRequestLog({ ...given, logger: app.log }), owned: true };
}
