import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { SwitchyardError } from '../errors/switchyard-error';
import { addressRefusal, refusedAddress, type TargetPolicy } from './assert-allowed-target';
import { isIpLiteral } from './ip-address-class';

/** Resolves a host name to all its addresses (node's `dns.lookup` with `all: true`). */
export type ResolveAll = (
  hostname: string,
  callback: (error: Error | null, addresses: LookupAddress[]) => void,
) => void;

/** Options of {@link createGuardedAgent}. */
export interface GuardedAgentOptions {
  /** The resolver. @default node's dns.lookup (the OS resolver) */
  resolve?: ResolveAll;
  /** Keep-alive of idle connections in milliseconds. @default 30000 */
  keepAliveTimeoutMs?: number;
  /** Max connections per origin. @default 256 */
  connectionsPerOrigin?: number;
  /** Connect timeout in milliseconds. @default 10000 */
  connectTimeoutMs?: number;
  /** Called before a connection is refused (a counter, a log line). */
  onRefused?: (host: string, reason: string) => void;
}

const systemResolve: ResolveAll = (hostname, callback) => {
  const options: LookupAllOptions = { all: true };
  dnsLookup(hostname, options, callback);
};

/**
 * The refusal of a host name the client gave: the class of address it resolves to, not the
 * address, which would map internal names to internal addresses for anyone who asks (the
 * operator's `onRefused` gets the whole reason).
 */
function refusal(host: string, kind: string): SwitchyardError {
  return new SwitchyardError(
    'target_not_allowed',
    `The target host "${host}" resolves to a ${kind}, which is not allowed.`,
  );
}

/**
 * A DNS lookup for sockets that resolves, checks every address against the policy and
 * hands the socket only checked addresses, so the address connected to is the address
 * checked (no DNS rebinding between check and connect).
 */
export function createGuardedLookup(
  policy: TargetPolicy,
  options: Pick<GuardedAgentOptions, 'resolve' | 'onRefused'> = {},
): LookupFunction {
  const resolve = options.resolve ?? systemResolve;
  return (hostname, lookupOptions, callback) => {
    resolve(hostname, (error, addresses) => {
      if (error !== null) {
        callback(error, '', 0);
        return;
      }
      const family =
        typeof lookupOptions.family === 'number'
          ? lookupOptions.family
          : lookupOptions.family === 'IPv6'
            ? 6
            : lookupOptions.family === 'IPv4'
              ? 4
              : 0;
      const usable = addresses.filter((entry) => family === 0 || entry.family === family);
      // one refused address refuses the name: a name that points inside is not a public API
      for (const entry of addresses) {
        const refused = refusedAddress(entry.address, policy);
        if (refused !== undefined) {
          options.onRefused?.(hostname, `${refused.kind} ${refused.address}`);
          callback(refusal(hostname, refused.kind), '', 0);
          return;
        }
      }
      const first = usable[0];
      if (first === undefined) {
        callback(Object.assign(new Error(`No address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
        return;
      }
      if (lookupOptions.all === true)
        (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, usable);
      else callback(null, first.address, first.family);
    });
  };
}

/**
 * An undici Agent that refuses, before any connection, every address the policy does not
 * allow: IP literals at connect time and host names at DNS resolution. Redirects are
 * never followed (undici follows none unless told to).
 */
export function createGuardedAgent(policy: TargetPolicy, options: GuardedAgentOptions = {}): Agent {
  const lookup = createGuardedLookup(policy, options);
  const base = buildConnector({ lookup, timeout: options.connectTimeoutMs ?? 10_000 });
  const connect: buildConnector.connector = (connectOptions, callback) => {
    const host = connectOptions.hostname;
    if (isIpLiteral(host)) {
      const reason = addressRefusal(host, policy);
      if (reason !== undefined) {
        options.onRefused?.(host, reason);
        callback(refusal(host, reason), null);
        return;
      }
    }
    base(connectOptions, callback);
  };
  return new Agent({
    connect,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    connections: options.connectionsPerOrigin ?? 256,
  });
}
