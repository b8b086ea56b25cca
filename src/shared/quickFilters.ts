import { isLoopbackAddress } from './address';
import { exposureOf } from './reach';
import type { Socket } from './model';

/**
 * The quick filters: the UI's toggle buttons and the CLI's flags (`--listen --tcp --udp -4 -6`), one rule for
 * both. Filters of one kind widen each other (TCP + UDP = either); kinds narrow each other; none on in a kind
 * means no limit there.
 */
export interface QuickFilters {
  /** Listeners: TCP LISTEN and unconnected UDP (as `ss -l` and `state:listen` count them). */
  listening?: boolean;
  established?: boolean;
  tcp?: boolean;
  udp?: boolean;
  ipv4?: boolean;
  ipv6?: boolean;
  /** Leaves out sockets whose both ends are this machine. */
  hideLoopback?: boolean;
  /** Leaves out TIME_WAIT: connections the kernel still holds after both ends closed (the UI's Hide TIME_WAIT). */
  hideTimeWait?: boolean;
  /** Only listeners that more than this machine can reach (`--exposed`): on all interfaces or one non-loopback. */
  exposed?: boolean;
}

export function matchesQuickFilters(f: QuickFilters, s: Socket): boolean {
  if ((f.listening || f.established) && !((f.listening && s.listening) || (f.established && s.state === 'ESTABLISHED'))) return false;
  if ((f.tcp || f.udp) && !((f.tcp && s.protocol === 'tcp') || (f.udp && s.protocol === 'udp'))) return false;
  if ((f.ipv4 || f.ipv6) && !((f.ipv4 && s.family === 4) || (f.ipv6 && s.family === 6))) return false;
  if (f.hideTimeWait && s.state === 'TIME_WAIT') return false;
  if (f.exposed && (exposureOf(s) ?? 'loopback') === 'loopback') return false;
  if (f.hideLoopback && isLoopbackAddress(s.localAddress) && (s.remoteAddress === null || isLoopbackAddress(s.remoteAddress))) return false;
  return true;
}
