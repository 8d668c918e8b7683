// The public surface of @switchyard/proxy-client, listed by hand. The undici dispatcher
// lives in the `@switchyard/proxy-client/undici` entry, so this one needs only `fetch`.

// context
export type { RunContext, SectionContext, SwitchyardContext } from './context/switchyard-context';
export { withRun } from './context/with-run';
export type { WithRunOptions } from './context/with-run';
export { section } from './context/section';
export { withCustomer } from './context/with-customer';
export { currentContext, currentCustomer, currentRun, currentSection } from './context/context-getters';
export { contextHeaders, TRACING_HEADERS } from './context/context-headers';

// routing
export { createGatewayFetch } from './routing/create-gateway-fetch';
export type { FetchFunction, GatewayFetchOptions } from './routing/create-gateway-fetch';
export { GATEWAY_ROUTING_DEFAULTS } from './routing/gateway-routing-options';
export type { FailOpenEvent, GatewayRoutingOptions } from './routing/gateway-routing-options';
export { GATEWAY_HEADERS } from './routing/gateway-router';
export { DEFAULT_PROVIDER_HOSTS } from './routing/provider-hosts';

// read-back
export { createSwitchyardAdmin, SWITCHYARD_ADMIN_DEFAULTS } from './admin/create-switchyard-admin';
export type { SwitchyardAdminOptions } from './admin/create-switchyard-admin';
export type {
  RequestLogPage,
  RequestLogQuery,
  RunSectionNode,
  RunTree,
  SwitchyardAdmin,
  TimeWindow,
  UsageGroup,
  UsageGroupBy,
  UsageQuery,
  UsageReport,
} from './admin/admin-types';

// errors and logging
export { isSwitchyardClientError, SwitchyardClientError } from './errors/switchyard-client-error';
export type {
  SwitchyardClientErrorCode,
  SwitchyardClientErrorOptions,
} from './errors/switchyard-client-error';
export { silentClientLogger } from './options/client-logger';
export type { ClientLogFn, ClientLogger } from './options/client-logger';
