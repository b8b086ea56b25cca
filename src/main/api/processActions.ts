import { describeKill, type CloseResult, type KillResult } from '../../shared/api';
import { formatEndpoint, type Socket } from '../../shared/model';
import { closeTcpConnection, type ProcessKiller } from '../engine';
import type { ActionLog } from './actionLog';

/** Killing a process and closing a connection for the API: done by the engine, each written to the action log. */
export class ProcessActions {
  constructor(
    private readonly killer: ProcessKiller,
    private readonly log: ActionLog,
    /** Runs ss for closing connections (tests wrap it in a namespace). */
    private readonly ssCommand?: string[],
  ) {}

  /** `name`: what the log calls the process (its name in the snapshot), when known. */
  async kill(pid: number, startTime: number | null, force: boolean, name: string | undefined): Promise<KillResult> {
    const out = await this.killer.terminate({ pid, startTime }, force);
    // describeKill says the whole outcome ("refused: why" included): the log's one wording (describeAction)
    this.log.add({
      kind: 'kill',
      target: `${name ?? 'process'} (pid ${pid})`,
      signal: force ? 'SIGKILL' : 'SIGTERM',
      result: out.result,
      detail: describeKill(out),
    });
    return out;
  }

  async close(s: Socket): Promise<CloseResult> {
    const out = await closeTcpConnection(s, { command: this.ssCommand });
    this.log.add({
      kind: 'close',
      target: `${s.protocol} ${formatEndpoint(s.localAddress, s.localPort)} -> ${formatEndpoint(s.remoteAddress, s.remotePort)}${s.process ? ` (${s.process.name})` : ''}`,
      signal: null,
      result: out.result,
      detail: out.result === 'closed' ? 'closed, and gone from the kernel table' : `refused: ${out.reason}`,
    });
    return out;
  }
}
