/** Poll interval limits: the contract validates them at every transport, the engine's Monitor enforces them. */
export const MIN_POLL_INTERVAL_MS = 250;
export const MAX_POLL_INTERVAL_MS = 3_600_000;
export const DEFAULT_POLL_INTERVAL_MS = 1000;
