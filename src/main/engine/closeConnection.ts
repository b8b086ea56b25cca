import type { CloseResult } from '../../shared/api';
import { formatEndpoint, type Socket } from '../../shared/model';
import { runCommand } from './runCommand';

export interface CloseOptions {
  /**
   * Lists the sockets again, to see whether it is gone (ss -K exits 0 even when it did nothing). By default ss
   * is asked for that one four-tuple, asynchronously: a host thread never reads /proc/net/tcp for it.
   */
  listAgain?: () => Promise<ReadonlyArray<Pick<Socket, 'id' | 'state'>>>;
  /** Runs ss (tests wrap it in `ip netns exec`). */
  command?: string[];
  platform?: NodeJS.Platform;
}

/** ss's word for a TCP state (its column in `ss -t`): ESTAB, TIME-WAIT, FIN-WAIT-1 ... */
function ssState(state: Socket['state']): string {
  if (state === 'ESTABLISHED') return 'ESTAB';
  return state.replace(/_/g, '-').replace(/(\d)$/, '-$1');
}

/** Whether ss still lists this connection in the state it had: the exact four-tuple, all states. */
async function stillListed(s: Socket, cmd: string, prefix: string[]): Promise<boolean> {
  const args = [...prefix, '-H', '-t', '-n', '-a', 'src', formatEndpoint(s.localAddress, s.localPort), 'dst', formatEndpoint(s.remoteAddress, s.remotePort)];
  const run = await runCommand(cmd, args, 5000);
  // an ss that cannot answer cannot say it is gone
  if (run.timedOut || run.spawnError !== null || run.code !== 0) return true;
  const word = ssState(s.state);
  return run.stdout.split('\n').some((line) => line.trim().split(/\s+/)[0] === word);
}

/**
 * Closes one TCP connection (Linux: SOCK_DESTROY through `ss -K`, with an exact four-tuple filter, argument
 * array, no shell), then lists again to make sure it is gone.
 */
export async function closeTcpConnection(s: Socket, opts: CloseOptions): Promise<CloseResult> {
  const id = s.id;
  if (s.protocol !== 'tcp' || s.remoteAddress === null || s.remotePort === null || s.listening) {
    return { result: 'refused', id, code: 'invalid', reason: 'only a connected TCP socket can be closed' };
  }
  const platform = opts.platform ?? process.platform;
  if (platform !== 'linux') return { result: 'refused', id, code: 'unsupported', reason: `closing one connection is not supported on ${platform}` };
  const [cmd, ...prefix] = opts.command ?? ['ss'];
  const args = [...prefix, '-K', '-t', '-n', 'src', formatEndpoint(s.localAddress, s.localPort), 'dst', formatEndpoint(s.remoteAddress, s.remotePort)];
  const run = await runCommand(cmd as string, args, 5000);
  if (run.timedOut) return { result: 'refused', id, code: 'not-closed', reason: 'ss did not answer within 5 s (stopped)' };
  if (run.spawnError === 'ENOENT') return { result: 'refused', id, code: 'unsupported', reason: 'ss (iproute2) is not installed' };
  if (/not permitted|permission/i.test(run.stderr))
    return { result: 'refused', id, code: 'permission', reason: 'permission denied: closing connections needs CAP_NET_ADMIN; run Portwatch elevated' };
  const still = opts.listAgain ? (await opts.listAgain()).some((x) => x.id === id && x.state === s.state) : await stillListed(s, cmd as string, prefix);
  if (still) {
    return {
      result: 'refused',
      id,
      code: 'not-closed',
      reason:
        run.stderr.trim() || 'the connection is still there: the kernel may lack SOCK_DESTROY (CONFIG_INET_DIAG_DESTROY), or Portwatch lacks CAP_NET_ADMIN',
    };
  }
  return { result: 'closed', id };
}
