/**
 * At most `limit` events in any `windowMs`: the one rate limit for notification budgets and worker restarts.
 * Time comes from the caller (a monotonic clock where a suspend must not count), so it is testable.
 */
export class RateWindow {
  private readonly times: number[] = [];

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Events still inside the window at `now`. */
  count(now: number): number {
    while (this.times.length && now - (this.times[0] as number) >= this.windowMs) this.times.shift();
    return this.times.length;
  }

  /** Records an event at `now` if the window has room; false (nothing recorded) when it is full. */
  take(now: number): boolean {
    if (this.count(now) >= this.limit) return false;
    this.times.push(now);
    return true;
  }

  /** Records an event whatever the count (something that happened anyway, like a crash). */
  record(now: number): void {
    this.count(now);
    this.times.push(now);
  }
}
