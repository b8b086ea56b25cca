import { inert } from '../../shared/inert';
import { describeNoOwner, formatEndpoint, formatLocal, type Delta, type MonitorStatus, type Snapshot, type Socket } from '../../shared/model';

/*
 * `portwatch watch`'s readable output: one line per change, `+` new, `-` gone, `~` changed, coloured on a
 * terminal as the UI highlights rows (green new, red closed, yellow changed). Every line is made inert before
 * colour is added: process names, users, devices and (with systeminformation) addresses come from the system.
 */

const COLOURS = { '+': '\x1b[32m', '-': '\x1b[31m', '~': '\x1b[33m' } as const;
const RESET = '\x1b[0m';

/** `nginx[123]`, `nginx[123 +2]` for a socket shared by more processes, or why there is no owner. */
function ownerText(s: Socket): string {
  if (s.process) return `${s.process.name}[${s.pid ?? s.process.pid}${s.pids.length > 1 ? ` +${s.pids.length - 1}` : ''}]`;
  if (s.pid !== null) return `[${s.pid}]`;
  if (s.noOwner !== null) return `(${describeNoOwner(s.noOwner)})`;
  return s.ownerHidden ? `(${describeNoOwner('hidden')})` : '-';
}

/** `tcp 0.0.0.0:8080 LISTEN nginx[123]`, `tcp6 [::1]:51000 -> [::1]:443 ESTABLISHED curl[456]`. */
export function socketLine(s: Socket): string {
  const remote = s.remoteAddress === null ? '' : ` -> ${formatEndpoint(s.remoteAddress, s.remotePort)}`;
  return `${s.protocol}${s.family === 6 ? '6' : ''} ${formatLocal(s)}${remote} ${s.state} ${ownerText(s)}`;
}

/** What a change was, in a few words: `(was SYN_SENT)`, `(was nginx[12])`; '' when only other fields changed. */
function was(before: Socket | undefined, now: Socket): string {
  if (before === undefined) return '';
  const parts: string[] = [];
  if (before.state !== now.state) parts.push(before.state);
  if (ownerText(before) !== ownerText(now)) parts.push(ownerText(before));
  return parts.length === 0 ? '' : ` (was ${parts.join(', ')})`;
}

/**
 * Turns a filtered snapshot-then-deltas stream into lines. It remembers the sockets shown (the live set, no
 * more), so that a socket that leaves is named, not only its id.
 */
export class ChangeLines {
  private readonly known = new Map<string, Socket>();
  /**
   * The last owned form of each shown socket that has since lost its owner: a process that exits is often seen
   * for one poll with its sockets and no owner (its descriptors go first), and its `-` line should still say whose.
   */
  private readonly owned = new Map<string, Socket>();

  private remember(s: Socket): void {
    const before = this.known.get(s.id);
    if (s.pid === null && before && before.pid !== null) this.owned.set(s.id, before);
    else if (s.pid !== null) this.owned.delete(s.id);
    this.known.set(s.id, s);
  }

  constructor(private readonly colour: boolean) {}

  private line(mark: '+' | '-' | '~', text: string): string {
    const safe = `${mark} ${inert(text)}`;
    return this.colour ? `${COLOURS[mark]}${safe}${RESET}\n` : `${safe}\n`;
  }

  /** Remembers the sockets there now; what to say of them (on stderr): how many, and what follows. */
  snapshot(s: Snapshot): string {
    this.known.clear();
    this.owned.clear();
    for (const x of s.sockets) this.known.set(x.id, x);
    const n = s.sockets.length;
    return `portwatch watch: ${n} socket${n === 1 ? '' : 's'} now; one line per change from here (Ctrl-C stops)\n`;
  }

  delta(d: Delta): string {
    let out = '';
    for (const id of d.removed) {
      const gone = this.known.get(id);
      const owner = this.owned.get(id);
      this.known.delete(id);
      this.owned.delete(id);
      if (gone) out += this.line('-', socketLine(owner ? { ...gone, pid: owner.pid, pids: owner.pids, process: owner.process } : gone));
    }
    for (const s of d.added) {
      this.remember(s);
      out += this.line('+', socketLine(s));
    }
    for (const s of d.changed) {
      const before = this.known.get(s.id);
      this.remember(s);
      out += this.line('~', socketLine(s) + was(before, s));
    }
    return out;
  }
}

/** A monitor status worth a line on stderr (a failing source, recovery), or null for a routine one. */
export function statusLine(status: MonitorStatus, previous: MonitorStatus | null): string | null {
  if (status.state === 'error') return `portwatch watch: ${inert(status.message)} (failing since ${new Date(status.failingSince).toISOString()})\n`;
  if (status.state === 'ok' && previous?.state === 'error') return `portwatch watch: ${status.source} answers again\n`;
  return null;
}
