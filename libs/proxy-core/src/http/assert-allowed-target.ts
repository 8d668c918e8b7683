import { SwitchyardError } from '../errors/switchyard-error';
import { canonicalAddress, classifyAddress, isIpLiteral } from './ip-address-class';

/** Which upstream targets a user-influenced URL may name. */
export interface TargetPolicy {
  /**
   * Host names allowed as targets: exact (`api.openai.com`), a wildcard for subdomains
   * (`*.openai.azure.com`), an IP literal, or `*` for any host. Addresses are checked
   * whatever the host list says.
   */
  readonly allowHosts: readonly string[];
  /**
   * Allow private, loopback and other non-public addresses; not cloud metadata addresses, nor
   * any link-local one (169.254.0.0/16, fe80::/10: where clouds keep their metadata services),
   * which only `allowAddresses` opens. @default false
   */
  readonly allowPrivateNetworks?: boolean;
  /**
   * IP addresses allowed although not public (a local model server, a test upstream);
   * the only way to reach a cloud metadata address. @default []
   */
  readonly allowAddresses?: readonly string[];
}

function refuse(message: string): never {
  throw new SwitchyardError('target_not_allowed', message);
}

function bareHost(hostname: string): string {
  const lower = hostname.toLowerCase();
  const unbracketed = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  return unbracketed.endsWith('.') ? unbracketed.slice(0, -1) : unbracketed;
}

/** Whether a character may stand in a DNS label a `*` matches: a-z, 0-9 or `-` (names are compared lower-cased). */
function isLabelChar(char: string): boolean {
  return (char >= 'a' && char <= 'z') || (char >= '0' && char <= '9') || char === '-';
}

/**
 * Whether one DNS label matches one label of a pattern, whose every `*` stands for one or more
 * label characters. Not a regular expression: `[a-z0-9-]+` for each `*` backtracks, and an
 * allow-list entry of several stars in a label (`*-*-*.example.com`) against a long label a
 * client names took polynomial time. This walks the label once, keeping the set of pattern
 * positions reached (at most `pattern.length * label.length` steps).
 */
function labelMatches(pattern: string, label: string): boolean {
  if (!pattern.includes('*')) return pattern === label;
  // reached[j]: the label so far matches the pattern's first j characters (a `*` at j - 1 may take more)
  let reached = new Array<boolean>(pattern.length + 1).fill(false);
  reached[0] = true;
  for (const char of label) {
    const next = new Array<boolean>(pattern.length + 1).fill(false);
    let any = false;
    for (let j = 0; j < pattern.length; j++) {
      const wanted = pattern[j];
      const star = wanted === '*';
      if (star ? !isLabelChar(char) : wanted !== char) continue;
      // this character starts the pattern character at j, or (a `*`) continues it
      if (reached[j] === true || (star && reached[j + 1] === true)) {
        next[j + 1] = true;
        any = true;
      }
    }
    if (!any) return false;
    reached = next;
  }
  return reached[pattern.length] === true;
}

/** Whether a host name matches a pattern with a `*` somewhere (see {@link hostMatches}). */
function wildcardMatches(pattern: string, host: string): boolean {
  const wanted = pattern.split('.');
  const labels = host.split('.');
  let first = 0;
  if (wanted[0] === '*') {
    // a leading `*` label stands for one or more whole labels
    const leading = labels.length - (wanted.length - 1);
    if (leading < 1) return false;
    for (let i = 0; i < leading; i++) if (!labelMatches('*', labels[i] ?? '')) return false;
    wanted.shift();
    first = leading;
  }
  if (labels.length - first !== wanted.length) return false;
  return wanted.every((label, i) => labelMatches(label, labels[first + i] ?? ''));
}

/**
 * True when `host` matches one allow-list entry: `*` (any host), an exact name or IP, or
 * a pattern whose `*` labels match one DNS label (a leading `*` matches one or more:
 * `*.pinecone.io`, `bedrock-runtime.*.amazonaws.com`), and whose `*` inside a label matches
 * part of that label only (`*-aiplatform.googleapis.com`: `us-central1-aiplatform...`).
 */
export function hostMatches(pattern: string, host: string): boolean {
  const wanted = bareHost(pattern);
  const actual = bareHost(host);
  if (wanted === '*') return true;
  if (isIpLiteral(wanted) || isIpLiteral(actual))
    return (
      isIpLiteral(wanted) && isIpLiteral(actual) && canonicalAddress(wanted) === canonicalAddress(actual)
    );
  if (!wanted.includes('*')) return wanted === actual;
  return wildcardMatches(wanted, actual);
}

/**
 * Checks one IP address against the policy; returns the reason it is refused, or
 * undefined when it may be connected to.
 */
export function addressRefusal(address: string, policy: TargetPolicy): string | undefined {
  const refused = refusedAddress(address, policy);
  return refused === undefined ? undefined : `${refused.kind} ${refused.address}`;
}

/**
 * Why one IP address is refused, in two parts: the kind of address (`private address`, `cloud
 * metadata address`), which may be told to anyone, and the address in its canonical form, which
 * a refused host name must not give away. Undefined when it may be connected to.
 */
export function refusedAddress(
  address: string,
  policy: TargetPolicy,
): { kind: string; address: string } | undefined {
  const canonical = canonicalAddress(address);
  if (
    (policy.allowAddresses ?? []).some(
      (allowed) => isIpLiteral(allowed) && canonicalAddress(allowed) === canonical,
    )
  )
    return undefined;
  const kind = classifyAddress(address);
  if (kind === 'public') return undefined;
  if (kind === 'metadata') return { kind: 'cloud metadata address', address: canonical };
  if (
    policy.allowPrivateNetworks === true &&
    kind !== 'unspecified' &&
    kind !== 'multicast' &&
    kind !== 'link-local'
  )
    return undefined;
  return { kind: `${kind} address`, address: canonical };
}

/**
 * The one guard of every user-influenced upstream URL: http(s) only, no credentials in the
 * URL, an allow-listed host, and (for IP literals, whatever their spelling: decimal,
 * octal, hex, IPv6-mapped, bracketed) a permitted address. Host names are checked again
 * on the address actually connected to by {@link createGuardedAgent}. Throws a
 * `target_not_allowed` SwitchyardError; returns the parsed URL.
 * @example
 * const url = assertAllowedTarget('https://api.openai.com/v1/chat/completions', { allowHosts: ['api.openai.com'] });
 */
export function assertAllowedTarget(target: string | URL, policy: TargetPolicy): URL {
  let url: URL;
  try {
    // the WHATWG parser normalises 2130706433, 0x7f.1 and 0177.0.0.1 to 127.0.0.1
    url = new URL(String(target));
  } catch {
    return refuse('The target is not a valid absolute URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    refuse(`The target scheme "${url.protocol}" is not allowed.`);
  if (url.username !== '' || url.password !== '') refuse('The target URL may not carry credentials.');
  const host = url.hostname;
  if (host === '') refuse('The target has no host.');
  if (!policy.allowHosts.some((pattern) => hostMatches(pattern, host)))
    refuse(`The target host "${bareHost(host)}" is not in the allow-list.`);
  if (isIpLiteral(host)) {
    const reason = addressRefusal(host, policy);
    if (reason !== undefined) refuse(`The target resolves to a ${reason}, which is not allowed.`);
  }
  return url;
}
