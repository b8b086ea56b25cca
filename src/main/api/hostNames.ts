import { lookupService } from 'node:dns/promises';

/** How long an answer is trusted: names change rarely; a failed lookup is retried sooner. */
const POSITIVE_MS = 10 * 60_000;
const NEGATIVE_MS = 2 * 60_000;
const TIMEOUT_MS = 3000;
const CONCURRENCY = 4;
const MAX_ENTRIES = 20_000;

export type LookupFn = (address: string) => Promise<string>;

/** getnameinfo: /etc/hosts and the system's resolver, as every other program on the machine sees names. */
const systemLookup: LookupFn = async (address) => (await lookupService(address.replace(/%.*$/, ''), 0)).hostname;

/**
 * Reverse DNS for remote addresses: asynchronous, cached, a few lookups at a time, each with a timeout, and
 * entirely outside the poll (a slow resolver delays names, never sockets). Off until enabled.
 */
export class HostNames {
  private enabled = false;
  private readonly cache = new Map<string, { name: string | null; until: number }>();
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private running = 0;

  constructor(
    private readonly onNames: (names: Record<string, string>) => void,
    private readonly lookup: LookupFn = systemLookup,
    private readonly now: () => number = Date.now,
  ) {}

  isEnabled(): boolean {
    return this.enabled;
  }

  setEnabled(on: boolean): void {
    this.enabled = on;
    if (!on) {
      this.queue.length = 0;
      this.queued.clear();
    }
  }

  /** Every name known now (sent to a client that connects). */
  known(): Record<string, string> {
    const out: Record<string, string> = {};
    const now = this.now();
    for (const [a, e] of this.cache) if (e.name && e.until > now) out[a] = e.name;
    return out;
  }

  /** Asks for the names of these addresses; answers arrive through onNames, batched. */
  want(addresses: Iterable<string | null>): void {
    if (!this.enabled) return;
    const now = this.now();
    for (const a of addresses) {
      if (a === null || this.queued.has(a)) continue;
      const hit = this.cache.get(a);
      if (hit && hit.until > now) continue;
      this.queued.add(a);
      this.queue.push(a);
    }
    this.pump();
  }

  private pump(): void {
    while (this.running < CONCURRENCY && this.queue.length > 0) {
      const address = this.queue.shift() as string;
      this.running++;
      void this.resolve(address).finally(() => {
        this.running--;
        this.queued.delete(address);
        this.pump();
      });
    }
  }

  private async resolve(address: string): Promise<void> {
    let name: string | null;
    try {
      name = await Promise.race([
        this.lookup(address),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), TIMEOUT_MS).unref?.()),
      ]);
      // getnameinfo answers the address itself when it knows no name
      if (!name || name === address) name = null;
    } catch {
      name = null;
    }
    if (this.cache.size > MAX_ENTRIES) this.cache.clear();
    this.cache.set(address, { name, until: this.now() + (name ? POSITIVE_MS : NEGATIVE_MS) });
    if (name && this.enabled) this.onNames({ [address]: name });
  }
}
