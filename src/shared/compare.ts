import type { ProcessInfo, Socket } from './model';

/** Equality of what a consumer shows: the engine's diff and the UI's catch-up after a freeze agree on "changed". */

export function sameProcess(a: ProcessInfo | null, b: ProcessInfo | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  return (
    a.pid === b.pid &&
    a.startTime === b.startTime &&
    a.name === b.name &&
    a.exe === b.exe &&
    a.user === b.user &&
    a.ppid === b.ppid &&
    a.cmdline.length === b.cmdline.length &&
    a.cmdline.every((arg, i) => arg === b.cmdline[i])
  );
}

/** True when only the pace of a connection differs (its rates): no highlight for a busy connection at every poll. */
export function sameApartFromRates(a: Socket, b: Socket): boolean {
  return sameSocket(a, { ...b, rateIn: a.rateIn ?? null, rateOut: a.rateOut ?? null });
}

/**
 * True when nothing a consumer shows differs. The id already pins protocol and endpoints. Byte counters are left
 * out (they move on every poll of a busy connection); their rates are in, so a change of pace is a change.
 */
export function sameSocket(a: Socket, b: Socket): boolean {
  if (a === b) return true;
  return (
    a.state === b.state &&
    a.pid === b.pid &&
    a.uid === b.uid &&
    a.user === b.user &&
    a.ownerHidden === b.ownerHidden &&
    a.incomplete === b.incomplete &&
    a.pids.length === b.pids.length &&
    a.pids.every((p, i) => p === b.pids[i]) &&
    sameProcess(a.process, b.process) &&
    sameProcess(a.lastOwner ?? null, b.lastOwner ?? null) &&
    (a.rateIn ?? null) === (b.rateIn ?? null) &&
    (a.rateOut ?? null) === (b.rateOut ?? null) &&
    (a.direction ?? null) === (b.direction ?? null) &&
    (a.directionGuessed ?? false) === (b.directionGuessed ?? false)
  );
}
