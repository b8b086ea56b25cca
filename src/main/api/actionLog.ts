import type { ActionEntry } from '../../shared/api';

/** What the user did to the machine (kills, closes) and how it went: bounded, newest last. */
export class ActionLog {
  private readonly entries: ActionEntry[] = [];

  constructor(
    private readonly onEntry: (e: ActionEntry) => void,
    private readonly limit = 500,
    private readonly now: () => number = Date.now,
  ) {}

  add(entry: Omit<ActionEntry, 'at'>): ActionEntry {
    const e = { at: this.now(), ...entry };
    this.entries.push(e);
    if (this.entries.length > this.limit) this.entries.shift();
    this.onEntry(e);
    return e;
  }

  all(): ActionEntry[] {
    return [...this.entries];
  }
}
