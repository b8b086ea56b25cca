/** Poll interval limits: the contract validates them at every transport, the engine's Monitor enforces them. */
export const MIN_POLL_INTERVAL_MS = 250;
export const MAX_POLL_INTERVAL_MS = 3_600_000;
export const DEFAULT_POLL_INTERVAL_MS = 1000;

/** The poll intervals a Refresh menu offers. */
export const INTERVAL_PRESETS: readonly number[] = [250, 500, 1000, 2000, 5000, 10000];

/**
 * The Refresh menu's choices: the presets, plus the engine's real interval when it is none of them (`serve
 * --interval 3000`, another client's choice), so that the menu always shows what the engine does.
 */
export function intervalChoices(current: number | null): number[] {
  if (current === null || INTERVAL_PRESETS.includes(current)) return [...INTERVAL_PRESETS];
  return [...INTERVAL_PRESETS, current].sort((a, b) => a - b);
}

/** `250 ms`, `3 s`, `1.5 s`, `2 min`, `1 h`: an interval as a menu says it. */
export function formatInterval(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000 || ms % 60_000 !== 0) return `${Number((ms / 1000).toFixed(3))} s`;
  if (ms < 3_600_000 || ms % 3_600_000 !== 0) return `${ms / 60_000} min`;
  return `${ms / 3_600_000} h`;
}
