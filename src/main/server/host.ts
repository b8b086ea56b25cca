import ipaddr from 'ipaddr.js';
import { networkInterfaces } from 'node:os';

/**
 * Which address `serve` binds, and which Host headers name it. Addresses are canonicalised before any
 * check, so that what is checked is what is bound: '127.000.000.001', '0x7f.1' or '2130706433' are legal to
 * inet_aton (octal, hex, one 32-bit number) but mean different things to different parsers, so they are
 * refused rather than guessed at.
 */

export type ParsedHost = { ok: true; host: string; loopback: boolean } | { ok: false; message: string };

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

/** Canonical form of a bind address or name; IPv4-mapped IPv6 becomes its IPv4 address. */
export function parseHost(raw: string): ParsedHost {
  const h = raw.trim().toLowerCase();
  if (ipaddr.IPv4.isValidFourPartDecimal(h)) {
    const v4 = ipaddr.IPv4.parse(h);
    return { ok: true, host: v4.toString(), loopback: v4.range() === 'loopback' };
  }
  if (ipaddr.IPv6.isValid(h)) {
    const v6 = ipaddr.IPv6.parse(h);
    if (v6.isIPv4MappedAddress()) {
      const v4 = v6.toIPv4Address();
      return { ok: true, host: v4.toString(), loopback: v4.range() === 'loopback' };
    }
    return { ok: true, host: v6.toString(), loopback: v6.range() === 'loopback' };
  }
  // numeric but not a.b.c.d, or IPv6-looking but invalid: the resolver would still bind something
  if (ipaddr.IPv4.isValid(h) || /^[0-9.]+$/.test(h) || /[:%[\]]/.test(h) || /^0x/.test(h) || !NAME.test(h)) {
    return { ok: false, message: `'${raw}' is not an address (write IPv4 as four decimal numbers, like 127.0.0.1) or a host name` };
  }
  return { ok: true, host: h, loopback: h === 'localhost' };
}

/** True only for a canonical loopback address or 'localhost' (the CLI and startServer share this check). */
export function isLoopback(host: string): boolean {
  const p = parseHost(host);
  return p.ok && p.loopback;
}

/** 'a.b.c.d' or '[v6]' for a URL or a Host header. */
export function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The canonical host part of a Host header ('Name:port', 'a.b.c.d:port', '[v6]:port'), or null when it does
 * does not split or its port is not `port` (port 80 may be left out, as browsers do).
 */
export function hostHeaderName(header: string, port: number): string | null {
  const m = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(header.trim().toLowerCase());
  if (!m) return null;
  const given = m[2] === undefined ? 80 : Number(m[2]);
  if (given !== port) return null;
  const name = (m[1] as string).replace(/^\[(.*)\]$/, '$1');
  const p = parseHost(name);
  // a name that is not ours to parse (an underscore in hostname()) is still compared, literally
  return p.ok ? p.host : name;
}

/** Every address this machine has on its interfaces, canonical, without IPv6 zone ids. */
export function ownAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      const p = parseHost(a.address.replace(/%.*$/, ''));
      if (p.ok) out.add(p.host);
    }
  }
  return out;
}
