import ipaddr from 'ipaddr.js';

/**
 * An address as the indexes key it: an IPv4 address as a signed 32-bit integer (a small integer for
 * V8, so Map lookups neither hash text nor allocate), an IPv6 address as its RFC 5952 text, so every
 * spelling of one address finds the same entry. IPv4-mapped IPv6 addresses become IPv4.
 */
export type AddressKey = number | string;

const DOT = 46;
const ZERO = 48;
const NINE = 57;

/** What `parseIpv4` answers for text that is no dotted quad: outside the int32 range, unlike every address. */
export const NOT_IPV4 = 0x1_0000_0000;

/** Dotted quad to signed int32, or NOT_IPV4 when the text is not a plain dotted quad. Allocation-free. */
export function parseIpv4(text: string): number {
  const length = text.length;
  if (length < 7 || length > 15) return NOT_IPV4;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c >= ZERO && c <= NINE) {
      // A leading zero would be octal to some parsers; refuse it rather than guess.
      if (digits === 1 && octet === 0) return NOT_IPV4;
      octet = octet * 10 + (c - ZERO);
      if (octet > 255) return NOT_IPV4;
      digits++;
    } else if (c === DOT) {
      if (digits === 0 || dots === 3) return NOT_IPV4;
      value = (value << 8) | octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return NOT_IPV4;
    }
  }
  if (digits === 0 || dots !== 3) return NOT_IPV4;
  return (value << 8) | octet;
}

export function formatIpv4(key: number): string {
  return `${(key >>> 24) & 255}.${(key >>> 16) & 255}.${(key >>> 8) & 255}.${key & 255}`;
}

const IPV6_CACHE_LIMIT = 16_384;
const ipv6Keys = new Map<string, AddressKey | null>();

/**
 * The key of an address, or undefined when the text is no address. IPv6 text goes through
 * ipaddr.js once per distinct spelling (a bounded cache), IPv4 never does.
 */
export function addressKey(text: string): AddressKey | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== NOT_IPV4) return v4;
  if (text.indexOf(':') === -1) return undefined;
  const cached = ipv6Keys.get(text);
  if (cached !== undefined) return cached ?? undefined;
  let key: AddressKey | null = null;
  if (ipaddr.IPv6.isValid(text)) {
    const address = ipaddr.IPv6.parse(text);
    key = address.isIPv4MappedAddress() ? ipv4FromBytes(address.toIPv4Address().toByteArray()) : address.toRFC5952String();
  }
  if (ipv6Keys.size >= IPV6_CACHE_LIMIT) ipv6Keys.clear();
  ipv6Keys.set(text, key);
  return key ?? undefined;
}

/** The text an address is shown as (Unknown node ids, published ranges). */
export function addressText(key: AddressKey): string {
  return typeof key === 'number' ? formatIpv4(key) : key;
}

export function ipv4FromBytes(bytes: readonly number[]): number {
  return (((bytes[0] ?? 0) << 24) | ((bytes[1] ?? 0) << 16) | ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0)) | 0;
}

/** IPv6 address as a 128-bit integer, for prefix matching. */
export function ipv6BigInt(key: string): bigint {
  let value = 0n;
  for (const part of ipaddr.IPv6.parse(key).parts) value = (value << 16n) | BigInt(part);
  return value;
}

function inV4(key: number, network: number, prefix: number): boolean {
  const mask = prefix === 0 ? 0 : (-1 << (32 - prefix)) | 0;
  return (key & mask) === (network & mask);
}

const PRIVATE_V4: readonly [number, number][] = [
  [parseIpv4('10.0.0.0'), 8], // RFC 1918
  [parseIpv4('172.16.0.0'), 12], // RFC 1918
  [parseIpv4('192.168.0.0'), 16], // RFC 1918
  [parseIpv4('100.64.0.0'), 10], // RFC 6598 shared address space (carrier-grade NAT, EKS pod ranges)
  [parseIpv4('127.0.0.0'), 8], // loopback
  [parseIpv4('169.254.0.0'), 16], // link-local
];

const PRIVATE_V6_RANGES = new Set(['uniqueLocal', 'loopback', 'linkLocal']);

/**
 * Whether an unattributed address is one of the ranges no public owner can have: RFC 1918,
 * RFC 6598, loopback, link-local, and for IPv6 unique-local (fc00::/7), ::1 and fe80::/10.
 */
export function isPrivateAddress(key: AddressKey): boolean {
  if (typeof key === 'number') {
    for (const [network, prefix] of PRIVATE_V4) if (inV4(key, network, prefix)) return true;
    return false;
  }
  return PRIVATE_V6_RANGES.has(ipaddr.IPv6.parse(key).range());
}
