import ipaddr from 'ipaddr.js';
import { unmapIpv4 } from '../model';
import { quote, type End, type QueryTerm } from './terms';

/** Address blocks and exact addresses in queries: parsed once at parse time; sockets' addresses parsed once each. */

export type Cidr = Extract<QueryTerm, { field: 'cidr' }>;

function v4Parts(a: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(a);
  if (!m) return null;
  const parts = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  return parts.every((p) => p <= 255) ? parts : null;
}

/** A whole IPv4 (four decimal numbers) or IPv6 address in canonical form (RFC 5952), or null. */
export function canonicalAddress(text: string): string | null {
  if (v4Parts(text)) return v4Parts(text)?.join('.') ?? null;
  if (text.includes(':') && ipaddr.IPv6.isValid(text)) {
    try {
      return ipaddr.IPv6.parse(text).toString();
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * `10.0.0.0/8`, `fd00::/8`, and ss's short IPv4 form (`193.233.7/24` is 193.233.7.0/24). null when it is not a
 * block; a message when it looks like one but is wrong.
 */
export function parseCidr(text: string, end: End): Cidr | string | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const addr = text.slice(0, slash);
  const len = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(len)) return `${quote(text)}: expected a prefix length after the /`;
  const prefix = Number(len);
  if (/^\d{1,3}(\.\d{1,3}){0,3}$/.test(addr)) {
    const parts = addr.split('.').map(Number);
    while (parts.length < 4) parts.push(0);
    if (parts.some((p) => p > 255)) return `${quote(addr)} is not an IPv4 address`;
    if (prefix > 32) return `${quote(text)}: an IPv4 prefix is 0 to 32 bits`;
    return { field: 'cidr', end, family: 4, bits: parts, prefix };
  }
  if (addr.includes(':') && ipaddr.IPv6.isValid(addr)) {
    if (prefix > 128) return `${quote(text)}: an IPv6 prefix is 0 to 128 bits`;
    return { field: 'cidr', end, family: 6, bits: ipaddr.IPv6.parse(addr).parts.slice(), prefix };
  }
  return `${quote(addr)} is not an IPv4 or IPv6 address`;
}

const PARSED_LIMIT = 100_000;
let parsed = new Map<string, { family: 4 | 6; parts: number[] } | null>();

/** A socket's address as numbers (IPv4-mapped IPv6 as IPv4), cached: a filter pass meets the same ones often. */
function partsOf(address: string): { family: 4 | 6; parts: number[] } | null {
  let hit = parsed.get(address);
  if (hit !== undefined) return hit;
  const plain = unmapIpv4(address);
  const v4 = v4Parts(plain);
  if (v4) hit = { family: 4, parts: v4 };
  else {
    const pct = plain.indexOf('%');
    const bare = pct >= 0 ? plain.slice(0, pct) : plain;
    hit = ipaddr.IPv6.isValid(bare) ? { family: 6, parts: ipaddr.IPv6.parse(bare).parts.slice() } : null;
  }
  if (parsed.size >= PARSED_LIMIT) parsed = new Map();
  parsed.set(address, hit);
  return hit;
}

/** True when the address lies in the block. */
export function inCidr(c: Cidr, address: string | null): boolean {
  if (address === null) return false;
  const a = partsOf(address);
  if (!a || a.family !== c.family) return false;
  const width = c.family === 4 ? 8 : 16;
  let left = c.prefix;
  for (let i = 0; left > 0; i++, left -= width) {
    const take = Math.min(width, left);
    const shift = width - take;
    if ((a.parts[i] ?? 0) >> shift !== (c.bits[i] ?? 0) >> shift) return false;
  }
  return true;
}
