// Child processes that hold loopback sockets for the benchmarks (bench/holder.cjs), 2,000 each: one
// process may hold at most 20,000 descriptors here.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineChild } from './lineChild.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const PER_HOLDER = 2000;

/** Every socket the kernel lists now (all four tables). */
export function socketCount() {
  let n = 0;
  for (const f of ['tcp', 'tcp6', 'udp', 'udp6']) n += readFileSync(`/proc/net/${f}`, 'latin1').split('\n').length - 2;
  return n;
}

/** A bench/holder.cjs child. */
export class Holder extends LineChild {
  constructor(count) {
    super(join(here, 'holder.cjs'), [String(count)]);
    this.ready = this.next();
  }
  /** Replaces k connected pairs (2k sockets) with new ones. */
  async churn(k) {
    await this.request(`churn ${k}`);
  }
}

/** Replaces `perHolder` pairs in each holder once a second until the returned stop() (which waits for the last round). */
export function churnEverySecond(holders, perHolder) {
  let on = true;
  const loop = (async () => {
    while (on) {
      const t = Date.now();
      await Promise.all(holders.map((h) => h.churn(perHolder)));
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - t))));
    }
  })();
  return async () => {
    on = false;
    await loop;
  };
}

/** Enough holders to bring the machine to about `total` sockets; resolves once they all hold theirs. */
export async function holdSockets(total) {
  const holders = [];
  for (let left = total - socketCount(); left > 0; left -= PER_HOLDER) holders.push(new Holder(Math.min(PER_HOLDER, left)));
  await Promise.all(holders.map((h) => h.ready));
  return holders;
}
