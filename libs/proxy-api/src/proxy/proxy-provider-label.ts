import { hostMatches } from '@switchyard/proxy-core';

/**
 * The metrics `provider` label of an exchange no meter names, from the allow-list: the entry
 * that let its host through, as configured (`api.example.com`; `*.example.com` for any host a
 * wildcard allowed, so that a client naming a new subdomain each time adds no series), else
 * `other`. The request log and spans keep the host itself.
 */
export function proxyProviderLabels(allowHosts: readonly string[]): (url: URL) => string {
  // URL host names are lower-case already: most exchanges are settled by this lookup
  const exact = new Set(allowHosts.filter((host) => !host.includes('*')).map((host) => host.toLowerCase()));
  return (url) => {
    if (exact.has(url.hostname)) return url.hostname;
    return allowHosts.find((entry) => hostMatches(entry, url.hostname)) ?? 'other';
  };
}
