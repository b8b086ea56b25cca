import { isLoopbackAddress, withoutScope } from './address';
import type { Protocol, Socket } from './model';

/*
 * Who can reach a listener, and which ports are risky to expose: what needs no port registry, so that the CLI's
 * `list` bundle (quickFilters' --exposed, the query's exposure: and risk terms) loads without it. exposure.ts
 * adds the registry's names and re-exports these.
 */

/** `all`: bound to every interface (0.0.0.0, ::, dual-stack ::); `interface`: one non-loopback address; `loopback`: this machine only. */
export type Exposure = 'all' | 'interface' | 'loopback';

/**
 * Exposure of a listening socket by its local address and the device it is bound to (SO_BINDTODEVICE, or a
 * link-local address's scope): bound to `lo` it is this machine only, bound to another one device it is that
 * interface, whatever the address; null for sockets that do not listen.
 */
export function exposureOf(s: Pick<Socket, 'listening' | 'localAddress'> & Partial<Pick<Socket, 'interface'>>): Exposure | null {
  if (!s.listening) return null;
  const byAddress = exposureOfAddress(s.localAddress);
  const dev = s.interface ?? null;
  if (dev === null || byAddress === 'loopback') return byAddress;
  return dev === 'lo' ? 'loopback' : 'interface';
}

export function exposureOfAddress(address: string): Exposure {
  const a = withoutScope(address);
  if (a === '0.0.0.0' || a === '::' || a === '*' || a === '::ffff:0.0.0.0') return 'all';
  return isLoopbackAddress(a) ? 'loopback' : 'interface';
}

/** The registry's transport for a protocol: MPTCP serves TCP's ports, UDP-Lite UDP's; raw and ping sockets have none. */
export function registryTransport(protocol: Protocol): 'tcp' | 'udp' | null {
  if (protocol === 'tcp' || protocol === 'mptcp') return 'tcp';
  if (protocol === 'udp' || protocol === 'udplite') return 'udp';
  return null;
}

interface Risk {
  from: number;
  to: number;
  protocols: ReadonlyArray<'tcp' | 'udp'>;
  reason: string;
}

const BOTH = ['tcp', 'udp'] as const;
const TCP = ['tcp'] as const;

/** Services that should not face a network without thought, and why. */
const RISKS: readonly Risk[] = [
  { from: 21, to: 21, protocols: TCP, reason: 'FTP sends passwords and data in clear text' },
  { from: 23, to: 23, protocols: TCP, reason: 'Telnet sends passwords and sessions in clear text' },
  { from: 69, to: 69, protocols: ['udp'], reason: 'TFTP has no authentication at all' },
  { from: 111, to: 111, protocols: BOTH, reason: 'rpcbind maps RPC services and is abused for reflection attacks' },
  { from: 135, to: 135, protocols: BOTH, reason: 'Microsoft RPC endpoint mapper, a frequent worm target' },
  { from: 137, to: 139, protocols: BOTH, reason: 'NetBIOS leaks host and share names and carries old SMB' },
  { from: 161, to: 161, protocols: ['udp'], reason: 'SNMP v1/v2c community strings are clear-text passwords' },
  { from: 445, to: 445, protocols: TCP, reason: 'SMB file sharing, the target of WannaCry and its kin' },
  { from: 512, to: 514, protocols: TCP, reason: 'rexec/rlogin/rsh trust host names and send clear text' },
  { from: 873, to: 873, protocols: TCP, reason: 'rsync daemons often serve modules without authentication' },
  { from: 1433, to: 1434, protocols: BOTH, reason: 'Microsoft SQL Server should not face the network directly' },
  { from: 2049, to: 2049, protocols: BOTH, reason: 'NFS exports trust client-side user ids' },
  { from: 2375, to: 2376, protocols: TCP, reason: 'the Docker API gives whoever reaches it root on this machine' },
  { from: 3306, to: 3306, protocols: TCP, reason: 'MySQL should not face the network directly' },
  { from: 3389, to: 3389, protocols: BOTH, reason: 'RDP is brute-forced and exploited constantly when exposed' },
  { from: 5432, to: 5432, protocols: TCP, reason: 'PostgreSQL should not face the network directly' },
  { from: 5900, to: 5999, protocols: TCP, reason: 'VNC often has weak or no authentication' },
  { from: 6000, to: 6063, protocols: TCP, reason: 'X11 lets whoever connects read keystrokes and screens' },
  { from: 6379, to: 6379, protocols: TCP, reason: 'Redis has no authentication by default' },
  { from: 9200, to: 9200, protocols: TCP, reason: 'Elasticsearch has no authentication by default in many setups' },
  { from: 11211, to: 11211, protocols: BOTH, reason: 'memcached has no authentication and amplifies UDP attacks' },
  { from: 27017, to: 27017, protocols: TCP, reason: 'MongoDB has no authentication by default in older setups' },
];

export function riskOf(port: number, protocol: Protocol): string | null {
  const transport = registryTransport(protocol);
  if (transport === null) return protocol === 'raw' ? 'a raw socket sees or forges IP traffic beside the kernel (sniffers and backdoors use them)' : null;
  for (const r of RISKS) if (port >= r.from && port <= r.to && r.protocols.includes(transport)) return r.reason;
  return null;
}
