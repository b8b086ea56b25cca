import ipaddr from 'ipaddr.js';

/**
 * Address text helpers shared by the sources: every address that leaves the engine is complete and canonical
 * (RFC 5952 for IPv6, `::ffff:a.b.c.d` for IPv4-mapped, as RFC 5952 section 5 recommends).
 */

/** Canonical text for 16 address bytes. */
export function formatIpv6Bytes(bytes: Uint8Array): string {
  let mapped = bytes[10] === 0xff && bytes[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (bytes[i] !== 0) mapped = false;
  if (mapped) return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  const parts: number[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  return new ipaddr.IPv6(parts).toRFC5952String();
}

/**
 * Canonical form of an address as some tool printed it: brackets removed, IPv6 lower-cased and compressed
 * per RFC 5952, a zone (`%eth0`) kept. Returns null when the text is not a valid address.
 */
export function canonicalAddress(text: string): { address: string; family: 4 | 6 } | null {
  let t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  let zone = '';
  const pct = t.indexOf('%');
  if (pct >= 0) {
    zone = t.slice(pct);
    t = t.slice(0, pct);
  }
  if (ipaddr.IPv4.isValidFourPartDecimal(t)) return { address: t, family: 4 };
  if (!ipaddr.IPv6.isValid(t)) return null;
  const v6 = ipaddr.IPv6.parse(t);
  return { address: formatIpv6Bytes(Uint8Array.from(v6.toByteArray())) + zone, family: 6 };
}
