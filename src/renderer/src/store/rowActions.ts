import { formatEndpoint, lastOwnerMark, lastOwnerOf, type ProcessInfo, type Socket } from '../../../shared/model';
import { commandLine } from '../../../shared/processSummary';

/** What one row's menu offers. Pure: the menu component renders it, App runs it. */
export type RowActionId =
  'copy-endpoint' | 'copy-remote' | 'copy-port' | 'copy-pid' | 'copy-cmdline' | 'filter-process' | 'filter-port' | 'details' | 'kill' | 'close' | 'mark';

export type RowAction =
  | { id: RowActionId; label: string; kind: 'copy'; text: string; disabled: string | null }
  | { id: RowActionId; label: string; kind: 'filter'; query: string; disabled: string | null }
  | { id: RowActionId; label: string; kind: 'command'; disabled: string | null };

/** What is true of the row's socket and process now, as opposed to when the menu opened. */
export interface RowFacts {
  /** The connection or listener is no longer in the kernel's tables (the row lingers, highlighted as closed). */
  socketGone: boolean;
  /** The owning process holds no socket any more: it exited (or closed every socket). */
  processGone: boolean;
  /** This client may kill, close and mark (false: a read-only web client). */
  control: boolean;
  /** The baseline can take a rule (it loaded, and this client may write it). */
  canMark: boolean;
  /** The baseline's word on this listener (null: not a listener, or no baseline). */
  expected: boolean | null;
}

/** Can this socket be closed as a connection (SOCK_DESTROY through ss -K)? null when it can, else why not. */
export function whyNotClosable(s: Socket, gone: boolean): string | null {
  if (gone) return 'already closed: the connection is gone';
  if (s.listening) return 'a listener, not a connection: kill its process to stop it';
  if (s.protocol !== 'tcp') return 'only TCP connections can be closed';
  if (s.remoteAddress === null) return 'not connected';
  if (s.state !== 'ESTABLISHED') return `${s.state}: the kernel is already closing it`;
  return null;
}

/** Can this socket's owner be killed? null when it can, else why not. */
export function whyNotKillable(s: Socket, processGone: boolean): string | null {
  const p = s.process;
  if (!p) {
    if (s.noOwner === 'closed') return 'no process holds it: the kernel keeps it after its owner closed it';
    if (s.ownerHidden) return 'owner hidden: run elevated to see';
    const last = lastOwnerOf(s);
    if (last) return `no process holds it now: ${last.name} (pid ${last.pid}) let go of it`;
    return 'no owning process known';
  }
  if (processGone) return `${p.name} (pid ${p.pid}) has exited: it holds no socket now`;
  return null;
}

/** The owner a row names: the live one, else the last one (a closed connection's, or one its owner let go of). */
export function namedOwner(s: Socket): ProcessInfo | null {
  return s.process ?? lastOwnerOf(s);
}

/** Every item of a row's menu, in order, each enabled or saying why not. */
export function rowActions(s: Socket, f: RowFacts): RowAction[] {
  const owner = namedOwner(s);
  const ownerNote = s.process ? '' : ` (last owner, ${lastOwnerMark(s)})`;
  const readOnly = f.control ? null : 'read-only: this server lets this page look, not change';
  const markWhy =
    readOnly ??
    (!s.listening
      ? 'only listeners are marked expected'
      : f.socketGone
        ? 'already closed: the listener is gone'
        : f.expected === true
          ? 'already expected'
          : !f.canMark
            ? 'the expected-ports file is not available'
            : null);
  return [
    {
      id: 'copy-endpoint',
      label: `Copy ${formatEndpoint(s.localAddress, s.localPort)}`,
      kind: 'copy',
      text: formatEndpoint(s.localAddress, s.localPort),
      disabled: null,
    },
    {
      id: 'copy-remote',
      label: s.remoteAddress === null ? 'Copy remote endpoint' : `Copy ${formatEndpoint(s.remoteAddress, s.remotePort)}`,
      kind: 'copy',
      text: formatEndpoint(s.remoteAddress, s.remotePort),
      disabled: s.remoteAddress === null ? 'no remote end' : null,
    },
    { id: 'copy-port', label: `Copy port ${s.localPort}`, kind: 'copy', text: String(s.localPort), disabled: null },
    {
      id: 'copy-pid',
      label: owner ? `Copy pid ${owner.pid}${ownerNote}` : 'Copy pid',
      kind: 'copy',
      text: owner ? String(owner.pid) : '',
      disabled: owner ? null : 'no owning process known',
    },
    {
      id: 'copy-cmdline',
      label: `Copy command line${owner ? ownerNote : ''}`,
      kind: 'copy',
      text: owner ? commandLine(owner) : '',
      disabled: !owner ? 'no owning process known' : owner.cmdline.length === 0 ? 'its command line could not be read' : null,
    },
    {
      id: 'filter-process',
      label: owner ? `Show only ${owner.name} (pid ${owner.pid})` : 'Show only this process',
      kind: 'filter',
      query: owner ? `pid:${owner.pid}` : '',
      disabled: s.process ? null : owner ? 'no process holds it now' : 'no owning process known',
    },
    { id: 'filter-port', label: `Show only port ${s.localPort}`, kind: 'filter', query: `port:${s.localPort}`, disabled: null },
    { id: 'details', label: 'Details', kind: 'command', disabled: null },
    {
      id: 'kill',
      label: s.process ? `Kill ${s.process.name} (pid ${s.process.pid})…` : 'Kill process…',
      kind: 'command',
      disabled: readOnly ?? whyNotKillable(s, f.processGone),
    },
    { id: 'close', label: 'Close connection', kind: 'command', disabled: readOnly ?? whyNotClosable(s, f.socketGone) },
    { id: 'mark', label: 'Mark as expected…', kind: 'command', disabled: markWhy },
  ];
}

/** Does any live socket still belong to this process (same pid and start time)? */
export function processHoldsSockets(p: ProcessInfo, live: Iterable<Socket>): boolean {
  for (const s of live) if (s.pids.includes(p.pid) && (s.process === null || s.process.pid !== p.pid || s.process.startTime === p.startTime)) return true;
  return false;
}
