import { socketIdBase, type Protocol, type SocketState } from '../../shared/model';

/**
 * A socket's stable id. A connection is its four-tuple, so it keeps its id from SYN_SENT through TIME_WAIT
 * (when the kernel drops its inode). Listeners, unconnected UDP and bound-only TCP sockets can share an
 * address (SO_REUSEPORT), so they add what tells them apart: the inode, or the owner pid when the source has no
 * inodes.
 */
export function socketId(
  protocol: Protocol,
  localAddress: string,
  localPort: number,
  remoteAddress: string | null,
  remotePort: number | null,
  state: SocketState,
  discriminator: number | null,
  netns: string | null = null,
): string {
  const base = socketIdBase({ netns, protocol, localAddress, localPort, remoteAddress, remotePort });
  const needsMore = remoteAddress === null || state === 'LISTEN' || state === 'UNCONN' || state === 'BOUND';
  return needsMore ? `${base}|${discriminator ?? '-'}` : base;
}

/**
 * Makes ids unique within one snapshot: a rare duplicate (a TIME_WAIT reused by a new connection) is replaced
 * by a copy with a suffix. Items are never mutated: sources reuse them across polls.
 */
export function uniqueIds<T extends { id: string }>(items: T[]): T[] {
  const seen = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as T;
    if (seen.has(item.id)) {
      let n = 2;
      while (seen.has(`${item.id}#${n}`)) n++;
      items[i] = { ...item, id: `${item.id}#${n}` };
    }
    seen.add((items[i] as T).id);
  }
  return items;
}
