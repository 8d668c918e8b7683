import { contextPluginsOptionsProblems } from '@switchyard/proxy-context';
import { SwitchyardError, schemaProblems } from '@switchyard/proxy-core';
import { Type } from '@sinclair/typebox';
import { pricingOptionsProblems, requestLogOptionsProblems } from '@switchyard/proxy-logging';
import type { SwitchyardRoutesOptions } from './app-options';
import { isRequestLog } from './observability/open-request-log';
import { productionOptionsProblems } from './production/production-options';
import { proxyOptionsProblems } from './proxy/proxy-options-problems';

/** The routes' own limits: the largest body, a whole number of bytes as Fastify requires. */
const RoutesLimitsSchema = Type.Object({ bodyLimitBytes: Type.Optional(Type.Integer({ minimum: 1 })) });

/**
 * Every problem `createApp` (and `switchyardRoutes`) would refuse the options for, found
 * without opening a file, connecting or building anything: the production options (keys, key
 * store and its secret, limits, Redis, hosts), the request log's (a `postgres` store needs a
 * url), the context plugins', the pricing and the universal proxy's (a provider key needs hosts
 * it may go to), and the largest body. Each starts with its option's path. The engine's options (`gateway`) are
 * checked by `createGateway`.
 * @example
 * const problems = appOptionsProblems({ gateway, requestLog: { store: 'postgres' } });
 * // ['requestLog/url: store "postgres" needs a url']
 */
export function appOptionsProblems(options: SwitchyardRoutesOptions): string[] {
  const { requestLog, context, pricing, proxy, bodyLimitBytes } = options;
  return [
    ...schemaProblems(RoutesLimitsSchema, { bodyLimitBytes }),
    ...productionOptionsProblems(options),
    ...(requestLog === undefined || isRequestLog(requestLog) ? [] : requestLogOptionsProblems(requestLog)),
    ...(context === undefined ? [] : contextPluginsOptionsProblems(context)),
    ...(pricing === undefined || pricing === false ? [] : pricingOptionsProblems(pricing)),
    ...(proxy === false ? [] : proxyOptionsProblems(proxy ?? {})),
  ];
}

/**
 * {@link appOptionsProblems} as one `invalid_options` error listing every problem, before anything
 * opens, after the problems `earlier` the caller found (createApp's server options).
 */
export function checkAppOptions(options: SwitchyardRoutesOptions, earlier: readonly string[] = []): void {
  const problems = [...earlier, ...appOptionsProblems(options)];
  if (problems.length > 0)
    throw new SwitchyardError('invalid_options', `Invalid Switchyard options:\n- ${problems.join('\n- ')}`);
}
