// The public surface of @switchyard/proxy-client/undici, listed by hand: the Node-only
// routing for code that uses undici or global fetch. Needs the `undici` peer (7.x).

export { switchyardDispatcher } from './undici/switchyard-dispatcher';
export type { SwitchyardDispatcherOptions } from './undici/switchyard-dispatcher';
export { switchyardInterceptor } from './undici/switchyard-interceptor';
export type { SwitchyardInterceptorOptions } from './undici/switchyard-interceptor';
