import { canonicalAddress, isIpLiteral } from '@switchyard/proxy-core';

/**
 * The form two hosts share when `hostMatches` finds them equal: lower-case, without brackets or
 * a trailing dot, and an IP literal in its canonical text (set apart from names, which
 * `hostMatches` never compares with an address).
 */
function exactKey(host: string): string {
  const lower = host.toLowerCase();
  const unbracketed = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  const bare = unbracketed.endsWith('.') ? unbracketed.slice(0, -1) : unbracketed;
  return isIpLiteral(bare) ? `ip ${canonicalAddress(bare)}` : `name ${bare}`;
}

/**
 * Whether a host is one of `hosts` (allow-list entries without a `*`), by one lookup: the answer
 * `hosts.some((entry) => hostMatches(entry, host))` gives, without comparing the host with each
 * of the providers' dozens of built-in hosts on every request.
 */
export function exactHostMatcher(hosts: readonly string[]): (host: string) => boolean {
  const keys = new Set(hosts.map(exactKey));
  return (host) => keys.has(exactKey(host));
}
