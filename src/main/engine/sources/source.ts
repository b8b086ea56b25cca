import type { HostPorts } from '../../../shared/direction';
import type { ClosedConnection, Socket, SourceName, UdpCounters } from '../../../shared/model';

/** What one poll of a source yields. Warnings are bad input that was skipped (the rest is kept). */
export interface SourceResult {
  sockets: Socket[];
  warnings: string[];
  /** TCP connections the kernel freed since the last poll (netlink). */
  closed?: ClosedConnection[];
  /** Network namespaces other than Portwatch's own, and whether their sockets are in `sockets`. */
  namespaces?: { others: number; listed: boolean };
  /** Each network namespace's port sysctls, by netns id ('' for Portwatch's own); absent: the Monitor reads its own. */
  ports?: Record<string, HostPorts>;
  /** Where UDP byte counters come from in Portwatch's own namespace (netlink source); see MonitorStatus. */
  udpCounters?: UdpCounters;
}

/** One way of listing the machine's sockets. Throws when it cannot list at all. */
export interface SocketSource {
  readonly name: SourceName;
  list(): Promise<SourceResult>;
  /** Lets go of whatever the source keeps between polls (a helper thread). */
  close?(): void;
}
