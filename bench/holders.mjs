// Child processes that hold loopback sockets for the benchmarks (bench/holder.cjs), 2,000 each: one
// process may hold at most 20,000 descriptors here.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const PER_HOLDER = 2000;

/** Every socket the kernel lists now (all four tables). */
export function socketCount() {
  let n = 0;
  for (const f of ['tcp', 'tcp6', 'udp', 'udp6']) n += readFileSync(`/proc/net/${f}`, 'latin1').split('\n').length - 2;
  return n;
}

export class Holder {
  constructor(count) {
    this.proc = spawn(process.execPath, [join(here, 'holder.cjs'), String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.waiters = [];
    let buf = '';
    this.proc.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        buf = buf.slice(nl + 1);
        this.waiters.shift()?.();
      }
    });
    this.ready = this.next();
  }
  next() {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  /** Replaces k connected pairs (2k sockets) with new ones. */
  async churn(k) {
    const ack = this.next();
    this.proc.stdin.write(`churn ${k}\n`);
    await ack;
  }
  stop() {
    return new Promise((resolve) => {
      this.proc.once('exit', resolve);
      this.proc.stdin.end();
    });
  }
}

/** Enough holders to bring the machine to about `total` sockets; resolves once they all hold theirs. */
export async function holdSockets(total) {
  const holders = [];
  for (let left = total - socketCount(); left > 0; left -= PER_HOLDER) holders.push(new Holder(Math.min(PER_HOLDER, left)));
  await Promise.all(holders.map((h) => h.ready));
  return holders;
}
