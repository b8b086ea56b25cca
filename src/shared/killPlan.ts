import { formatEndpoint, formatLocal, type ProcessInfo, type Socket } from './model';

/**
 * What killing one process would touch, said before anything dies: the same plan for the UI's dialog and the
 * CLI's prompt.
 */
export interface KillPlan {
  pid: number;
  /** Its details when a socket names them (a process with no sockets may have none). */
  process: ProcessInfo | null;
  /** Every socket it holds now. */
  sockets: Socket[];
  /** `tcp/80`, each once, in the order met. */
  listening: string[];
  /** Sockets it holds that are not listeners. */
  connections: number;
  /** When its sockets are shared with an ancestor that holds them too (nginx's master): killing this pid does not close them. */
  sharedWith: ProcessInfo | null;
}

export function planKill(pid: number, sockets: Iterable<Socket>): KillPlan {
  const mine: Socket[] = [];
  for (const s of sockets) if (s.pids.includes(pid)) mine.push(s);
  const process = mine.find((s) => s.process?.pid === pid)?.process ?? null;
  const shared = mine.find((s) => s.pids.length > 1 && s.pid !== pid && s.process !== null && s.process.pid !== pid);
  return {
    pid,
    process,
    sockets: mine,
    listening: [...new Set(mine.filter((s) => s.listening).map((s) => `${s.protocol}/${s.localPort}`))],
    connections: mine.filter((s) => !s.listening).length,
    sharedWith: shared?.process ?? null,
  };
}

/** What the plan holds, in a few words: "listens on tcp/80, udp/53" or "3 sockets". */
export function describeHoldings(plan: Pick<KillPlan, 'listening' | 'sockets'>): string {
  if (plan.listening.length) return `listens on ${plan.listening.join(', ')}`;
  return `${plan.sockets.length} socket${plan.sockets.length === 1 ? '' : 's'}`;
}

/** How many connections a prompt or dialog names one by one; the rest are counted by state. */
export const CONNECTIONS_SHOWN = 5;

/**
 * Every socket the process listens on, as `tcp 0.0.0.0:3000` (`tcp6 [::1]:3001`), by protocol and port: the
 * whole list, whatever port the user asked about, since killing the process closes them all.
 */
export function planListeners(plan: Pick<KillPlan, 'sockets'>): string[] {
  return plan.sockets
    .filter((s) => s.listening)
    .sort((a, b) => a.localPort - b.localPort || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : a.family - b.family))
    .map((s) => `${s.protocol}${s.family === 6 ? '6' : ''} ${formatLocal(s)}`);
}

/** The process's connections: the first few in full, and how many more by state ("12 ESTABLISHED, 3 TIME_WAIT"). */
export interface ConnectionSummary {
  total: number;
  /** `tcp 127.0.0.1:3000 -> 127.0.0.1:51000 ESTABLISHED`, at most `CONNECTIONS_SHOWN`. */
  shown: string[];
  /** Connections not in `shown`. */
  more: number;
  /** Every connection counted by state, the most common first: "12 ESTABLISHED, 3 CLOSE_WAIT". */
  byState: string;
}

export function summariseConnections(plan: Pick<KillPlan, 'sockets'>, max = CONNECTIONS_SHOWN): ConnectionSummary {
  const connections = plan.sockets.filter((s) => !s.listening);
  const states = new Map<string, number>();
  for (const s of connections) states.set(s.state, (states.get(s.state) ?? 0) + 1);
  const shown = connections
    .slice(0, max)
    .map((s) => `${s.protocol}${s.family === 6 ? '6' : ''} ${formatLocal(s)} -> ${formatEndpoint(s.remoteAddress, s.remotePort)} ${s.state}`);
  return {
    total: connections.length,
    shown,
    more: connections.length - shown.length,
    byState: [...states]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([state, n]) => `${n} ${state}`)
      .join(', '),
  };
}

/**
 * What the CLI prints before "Kill it?": the command line, every listener, the connections (summarised when
 * many), and a shared owner. Lines of plain text from the system: the caller passes each through inert().
 */
export function planLines(plan: KillPlan): string[] {
  const lines: string[] = [];
  if (plan.process) lines.push(`command line: ${plan.process.cmdline.length > 0 ? plan.process.cmdline.join(' ') : '(none readable)'}`);
  const listeners = planListeners(plan);
  lines.push(
    listeners.length === 0 ? 'listens on:   nothing' : `listens on:   ${listeners.length === 1 ? '' : `${listeners.length} sockets: `}${listeners.join(', ')}`,
  );
  const c = summariseConnections(plan);
  if (c.total === 0) lines.push('connections:  none');
  else {
    lines.push(`connections:  ${c.total}${c.total > 1 ? ` (${c.byState})` : ''}`);
    for (const s of c.shown) lines.push(`  ${s}`);
    if (c.more > 0) lines.push(`  ... and ${c.more} more`);
  }
  const others = [...new Set(plan.sockets.flatMap((s) => s.pids).filter((p) => p !== plan.pid))].sort((a, b) => a - b);
  if (others.length > 0 && !plan.sharedWith) {
    lines.push(
      `also held by: pid${others.length === 1 ? '' : 's'} ${others.slice(0, 8).join(', ')}${others.length > 8 ? ` and ${others.length - 8} more` : ''}`,
    );
  }
  if (plan.sharedWith) {
    lines.push(`shared with:  ${plan.sharedWith.name} (pid ${plan.sharedWith.pid}), which started it and holds them too: they stay open`);
  }
  return lines;
}
