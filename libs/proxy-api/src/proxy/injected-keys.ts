import { credentialSecret, hostMatches } from '@switchyard/proxy-core';
import type { MeterRegistry } from '@switchyard/proxy-logging';
import { echoedSecret } from './echoed-key-mask';
import type { InjectedKey } from './proxy-headers';
import type { ProviderKey } from './proxy-options';

/** The keys the proxy injects, by provider, and the problems of their configuration. */
export interface InjectedKeys {
  keys: Map<string, InjectedKey>;
  problems: string[];
}

const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** The origin a `hosts` entry names (`http://10.0.0.5:8000`), or undefined when it is more than an origin. */
function entryOrigin(entry: string): string | undefined {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (
    url.username !== '' ||
    url.password !== '' ||
    url.pathname !== '/' ||
    url.search !== '' ||
    url.hash !== ''
  )
    return undefined;
  return url.origin;
}

/**
 * Where each configured provider key may go. By default, the exact host names of the
 * provider's meter: a wildcard (`*.endpoints.huggingface.cloud`) also matches hosts other
 * tenants own, so only the operator may name one in `hosts`. Host patterns are reached over
 * https on the default port only; an origin in `hosts` is reached exactly as written (a local
 * server over http), and so is the base URL of an operator's route to one of the key's hosts,
 * not the rest of its origin.
 */
export function injectedKeys(
  providerKeys: Readonly<Record<string, ProviderKey>>,
  meters: MeterRegistry,
  routes: Readonly<Record<string, string>>,
): InjectedKeys {
  const keys = new Map<string, InjectedKey>();
  const problems: string[] = [];
  for (const [provider, key] of Object.entries(providerKeys)) {
    // named as the schema names the proxy options' problems (`proxy/routes/x: ...`)
    const path = `proxy/providerKeys/${provider}`;
    const hosts: string[] = [];
    const origins: string[] = [];
    if (key.hosts !== undefined) {
      for (const [index, entry] of key.hosts.entries()) {
        if (!HAS_SCHEME.test(entry)) {
          hosts.push(entry);
          continue;
        }
        const origin = entryOrigin(entry);
        if (origin === undefined)
          problems.push(
            `${path}/hosts/${index}: "${entry}" is neither a host pattern nor an http(s) origin (scheme://host[:port], no path)`,
          );
        else origins.push(origin);
      }
    } else {
      const meterHosts = meters.get(provider)?.hosts ?? [];
      hosts.push(...meterHosts.filter((pattern) => !pattern.includes('*')));
      if (hosts.length === 0) {
        const known = meterHosts.length === 0 ? 'none' : meterHosts.join(', ');
        problems.push(
          `${path}: no default hosts (the provider's hosts: ${known}; wildcards are never a default): name the hosts this key may go to in hosts`,
        );
        continue;
      }
    }
    // a route opens its base, not its origin: the key goes no further
    const routeBases = Object.values(routes)
      .map((base) => new URL(base))
      .filter((route) => hosts.some((pattern) => hostMatches(pattern, route.hostname)));
    const secret = credentialSecret(key.value);
    keys.set(provider, {
      header: key.header ?? 'authorization',
      value: key.value,
      hosts,
      origins,
      routeBases,
      ...(secret === undefined ? {} : { echoed: echoedSecret(secret) }),
    });
  }
  return { keys, problems };
}
