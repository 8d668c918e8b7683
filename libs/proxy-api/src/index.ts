// The public surface of @switchyard/proxy-api, listed by hand.
export { createApp } from './create-app';
export { createRequestHandler } from './create-request-handler';
export type { SwitchyardRequestHandler } from './create-request-handler';
export { switchyardRoutes } from './switchyard-routes';
export { APP_DEFAULTS } from './app-options';
export type { AppOptions, SwitchyardRoutesOptions } from './app-options';
export { toErrorReply } from './http/to-error-reply';
export { writeSseStream } from './http/write-sse';
export { requestContextFromHttp } from './http/request-context-from-http';
