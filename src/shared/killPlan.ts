import type { ProcessInfo, Socket } from './model';

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
