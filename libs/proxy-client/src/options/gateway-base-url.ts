/**
 * The gateway's base URL as paths are appended to it: its origin and path without trailing
 * slashes. A query or a fragment of the configured URL is dropped (`http://gw/#x` plus
 * `/admin/runs` would be a fragment, the call sent to `/`). `gatewayUrl` must parse.
 */
export function gatewayBaseUrl(gatewayUrl: string): string {
  const url = new URL(gatewayUrl);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
