// A Node child process spoken to in lines: each request line written to its stdin is answered by one line on
// its stdout, in order. The bench's socket holders and collectors are such children.
import { spawn } from 'node:child_process';

export class LineChild {
  constructor(script, args = []) {
    this.proc = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.waiters = [];
    let buf = '';
    this.proc.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        this.waiters.shift()?.(line);
      }
    });
  }
  /** The next line the child writes. */
  next() {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  /** Writes `line`, resolves with the answer. */
  request(line) {
    const answer = this.next();
    this.proc.stdin.write(`${line}\n`);
    return answer;
  }
  /** Closes its stdin, which tells it to leave; resolves when it has. */
  stop() {
    return new Promise((resolve) => {
      this.proc.once('exit', resolve);
      this.proc.stdin.end();
    });
  }
}
