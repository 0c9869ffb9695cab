import { IPv6 } from 'ipaddr.js';

/**
 * The canonical text of an IP address, or undefined when the text is not one.
 *
 * Attribution matches addresses as strings, so every parser hands it one spelling per address:
 * IPv4 as a plain dotted quad (leading zeros are refused: some stacks read them as octal), IPv6 in
 * the RFC 5952 compressed lower-case form, and IPv4-mapped IPv6 (`::ffff:10.0.0.1`, what a
 * dual-stack socket reports) as the IPv4 address it carries.
 */
export function normalizeIp(text: string): string | undefined {
  if (isDottedQuad(text)) return text;
  if (text.indexOf(':') < 0 || !IPv6.isValid(text)) return undefined;
  const address = IPv6.parse(text);
  return address.isIPv4MappedAddress() ? address.toIPv4Address().toString() : address.toString();
}

/** Hand-rolled because it runs for two addresses of every record on the hot path. */
export function isDottedQuad(text: string): boolean {
  const length = text.length;
  if (length < 7 || length > 15) return false;
  let octets = 0;
  let digits = 0;
  let value = 0;
  let leadingZero = false;
  for (let i = 0; i <= length; i++) {
    const c = i === length ? 46 : text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || value > 255 || (leadingZero && digits > 1)) return false;
      octets++;
      digits = 0;
      value = 0;
      continue;
    }
    if (c < 48 || c > 57 || digits === 3) return false;
    if (digits === 0) leadingZero = c === 48;
    value = value * 10 + (c - 48);
    digits++;
  }
  return octets === 4;
}
