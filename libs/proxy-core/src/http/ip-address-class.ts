import { isIPv4, isIPv6 } from 'node:net';

/** How an IP address is classified for outbound calls. */
export type AddressClass =
  'public' | 'private' | 'loopback' | 'link-local' | 'metadata' | 'unspecified' | 'multicast' | 'reserved';

interface Range {
  bytes: number[];
  prefix: number;
  kind: Exclude<AddressClass, 'public'>;
}

function v4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/** Parses an IPv6 literal (with `::` and an optional dotted IPv4 tail) into 16 bytes. */
function v6Bytes(address: string): number[] {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const groups: number[] = [];
  const expand = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const group of part.split(':')) {
      if (group.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = v4Bytes(group);
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        out.push(Number.parseInt(group, 16));
      }
    }
    return out;
  };
  const split = text.split('::');
  const head = expand(split[0] ?? '');
  const tail = split.length > 1 ? expand(split[1] ?? '') : [];
  groups.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}

function v4(cidr: string, kind: Range['kind']): Range {
  const [base = '', prefix = '32'] = cidr.split('/');
  return { bytes: v4Bytes(base), prefix: Number(prefix), kind };
}

function v6(cidr: string, kind: Range['kind']): Range {
  const [base = '', prefix = '128'] = cidr.split('/');
  return { bytes: v6Bytes(base), prefix: Number(prefix), kind };
}

// cloud metadata endpoints first: they are refused even where private networks are allowed.
// Every other link-local address is refused there too (see refusedAddress): a cloud we do not
// list keeps its metadata service in 169.254.0.0/16 or fe80::/10 as well
const V4_RANGES: Range[] = [
  // AWS, GCP, Azure, Oracle, DigitalOcean, Hetzner, OpenStack, Akamai (Linode), ...
  v4('169.254.169.254/32', 'metadata'),
  v4('169.254.170.2/32', 'metadata'),
  // the EKS Pod Identity Agent: hands out the pod's AWS credentials
  v4('169.254.170.23/32', 'metadata'),
  v4('100.100.100.200/32', 'metadata'),
  // Azure's WireServer: a public-looking address every Azure VM reaches, which hands out the
  // VM's extension settings and certificates
  v4('168.63.129.16/32', 'metadata'),
  // Oracle Cloud's metadata service of its classic instances, in the IETF protocol range below:
  // refused as metadata, not lifted with the range by allowPrivateNetworks
  v4('192.0.0.192/32', 'metadata'),
  // Scaleway's
  v4('169.254.42.42/32', 'metadata'),
  // Tencent Cloud's
  v4('169.254.0.23/32', 'metadata'),
  v4('0.0.0.0/8', 'unspecified'),
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'private'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'reserved'),
  v4('192.0.2.0/24', 'reserved'),
  v4('192.168.0.0/16', 'private'),
  v4('198.18.0.0/15', 'reserved'),
  v4('198.51.100.0/24', 'reserved'),
  v4('203.0.113.0/24', 'reserved'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved'),
];

// the IPv6 metadata services sit in unique local space (fc00::/7), which allowPrivateNetworks opens
const V6_RANGES: Range[] = [
  // AWS: the instance metadata service, the EKS Pod Identity Agent
  v6('fd00:ec2::254/128', 'metadata'),
  v6('fd00:ec2::23/128', 'metadata'),
  // GCP
  v6('fd20:ce::254/128', 'metadata'),
  // Scaleway
  v6('fd00:42::42/128', 'metadata'),
  // Akamai (Linode); its other one, fe80::a9fe:a9fe (as OpenStack's), is link-local
  v6('fd00:a9fe:a9fe::1/128', 'metadata'),
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6('fc00::/7', 'private'),
  v6('fe80::/10', 'link-local'),
  v6('fec0::/10', 'private'),
  v6('ff00::/8', 'multicast'),
  v6('100::/64', 'reserved'),
  v6('2001:db8::/32', 'reserved'),
];

function inRange(bytes: number[], range: Range): boolean {
  let bits = range.prefix;
  for (let index = 0; bits > 0; index += 1, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[index] ?? 0) & mask) !== ((range.bytes[index] ?? 0) & mask)) return false;
  }
  return true;
}

// 64:ff9b:1::/48 (RFC 8215): a translator prefix for local use, of a length the operator picks
const UNKNOWN_EMBEDDING = 'unknown';

/**
 * The IPv4 address an IPv6 address embeds (mapped, SIIT-translated, compatible, NAT64,
 * 6to4), if any; `UNKNOWN_EMBEDDING` when it embeds one at a place we cannot know.
 */
function embeddedV4(bytes: number[]): string | undefined {
  const zeros = (from: number, to: number): boolean => bytes.slice(from, to).every((b) => b === 0);
  const tail = (offset: number): string => bytes.slice(offset, offset + 4).join('.');
  if (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return tail(12); // ::ffff:a.b.c.d
  if (zeros(0, 8) && bytes[8] === 0xff && bytes[9] === 0xff && zeros(10, 12)) return tail(12); // ::ffff:0:a.b.c.d (SIIT, RFC 7915)
  if (zeros(0, 12) && !zeros(12, 16) && !(zeros(12, 15) && bytes[15] === 1)) return tail(12); // ::a.b.c.d
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b) {
    if (zeros(4, 12)) return tail(12); // 64:ff9b::/96
    // 64:ff9b:1::/48 with a /96 prefix embeds like the well-known prefix; a shorter one splits the address (RFC 6052)
    if (bytes[4] === 0x00 && bytes[5] === 0x01) return zeros(6, 12) ? tail(12) : UNKNOWN_EMBEDDING;
  }
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return tail(2); // 2002::/16
  return undefined;
}

/**
 * Classifies an IP literal (IPv4 dotted quad or IPv6, with or without brackets); IPv6
 * forms that embed an IPv4 address are classified by that address.
 */
export function classifyAddress(address: string): AddressClass {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIPv4(bare)) {
    const bytes = v4Bytes(bare);
    return V4_RANGES.find((range) => inRange(bytes, range))?.kind ?? 'public';
  }
  if (isIPv6(bare.split('%')[0] ?? bare)) {
    const bytes = v6Bytes(bare);
    const inner = embeddedV4(bytes);
    if (inner === UNKNOWN_EMBEDDING) return 'reserved';
    if (inner !== undefined) return classifyAddress(inner);
    return V6_RANGES.find((range) => inRange(bytes, range))?.kind ?? 'public';
  }
  // not an IP literal: never treat an unparsed address as safe
  return 'reserved';
}

/** True for an IPv4 or IPv6 literal (brackets allowed). */
export function isIpLiteral(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return isIPv4(bare) || isIPv6(bare.split('%')[0] ?? bare);
}

/** The canonical text of an IP literal, for comparing against allowed addresses. */
export function canonicalAddress(address: string): string {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIPv4(bare)) return bare;
  const bytes = v6Bytes(bare);
  const inner = embeddedV4(bytes);
  if (inner !== undefined && inner !== UNKNOWN_EMBEDDING && bytes[0] === 0 && bytes[10] === 0xff)
    return inner;
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2)
    groups.push((((bytes[index] ?? 0) << 8) | (bytes[index + 1] ?? 0)).toString(16));
  return groups.join(':');
}
