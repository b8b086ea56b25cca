import ipaddr from 'ipaddr.js';

/** An address without its `%scope` (`fe80::1%eth0`). */
export function withoutScope(address: string): string {
  const pct = address.indexOf('%');
  return pct >= 0 ? address.slice(0, pct) : address;
}

/**
 * True for 127.0.0.0/8, ::1 and their IPv4-mapped form (::ffff:127.0.0.1): this machine only. The one loopback
 * test for exposure, the UI's "Hide loopback" and the web server's local-client check.
 */
export function isLoopbackAddress(address: string | null | undefined): boolean {
  if (!address) return false;
  const a = withoutScope(address);
  if (!ipaddr.isValid(a)) return false;
  let ip = ipaddr.parse(a);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  return ip.range() === 'loopback';
}
