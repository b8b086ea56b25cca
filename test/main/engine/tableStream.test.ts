import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TableStream } from '../../../src/main/engine/sources/tableStream';

/** Reads with a TableStream, joining the pieces per file; returns them with the outcome. */
function readAll(stream: TableStream, which: number[]): { texts: Map<number, string>; pieces: Map<number, number>; outcome: boolean[] } {
  const texts = new Map<number, string>();
  const pieces = new Map<number, number>();
  const outcome = stream.read(which, (k, text, last) => {
    if (!last) expect(text.endsWith('\n')).toBe(true);
    texts.set(k, (texts.get(k) ?? '') + text);
    pieces.set(k, (pieces.get(k) ?? 0) + 1);
  });
  return { texts, pieces, outcome };
}

describe('TableStream: files read on a helper thread, handed over in whole lines as they arrive', () => {
  let dir: string;
  const streams: TableStream[] = [];
  const make = (...args: ConstructorParameters<typeof TableStream>): TableStream => {
    const s = new TableStream(...args);
    streams.push(s);
    return s;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-stream-'));
  });
  afterEach(() => {
    for (const s of streams.splice(0)) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers each file whole and in order, a big one in several pieces, the real kernel tables too', () => {
    // a writer that comes in bursts, as the kernel formats a table a page at a time: lines cut between bursts
    const big = Array.from({ length: 6000 }, (_, i) => `${String(i).padStart(4)}: line ${'x'.repeat(40)}`).join('\n') + '\n';
    writeFileSync(join(dir, 'big.src'), big);
    execFileSync('mkfifo', [join(dir, 'big')]);
    writeFileSync(join(dir, 'small'), 'one line, no newline');
    writeFileSync(join(dir, 'empty'), '');
    const paths = [join(dir, 'big'), join(dir, 'small'), join(dir, 'empty'), '/proc/net/tcp', '/proc/net/udp'];
    const stream = make(paths);
    const burst = `const fs = require('fs'); const b = fs.readFileSync(process.argv[1]); const fd = fs.openSync(process.argv[2], 'w');
      let at = 0; const next = () => { if (at >= b.length) return fs.closeSync(fd); fs.writeSync(fd, b, at, Math.min(70001, b.length - at)); at += 70001; setTimeout(next, 30); }; next();`;
    for (let poll = 0; poll < 3; poll++) {
      const writer = spawn(process.execPath, ['-e', burst, join(dir, 'big.src'), join(dir, 'big')], { stdio: 'ignore' });
      const { texts, pieces, outcome } = readAll(stream, [0, 1, 2, 3, 4]);
      writer.kill();
      expect(outcome).toEqual([true, true, true, true, true]);
      expect(texts.get(0)).toBe(big);
      expect(pieces.get(0)).toBeGreaterThan(1);
      expect(texts.get(1)).toBe('one line, no newline');
      expect(texts.get(2)).toBe('');
      expect(texts.get(3)).toMatch(/^\s*sl\s+local_address/);
      expect(texts.get(4)).toMatch(/^\s*sl\s+local_address/);
    }
    // only what is asked for
    const some = readAll(stream, [1]);
    expect([...some.texts.keys()]).toEqual([1]);
  });

  it('a file it cannot read, or that does not fit, is left to the caller; the others still come', () => {
    writeFileSync(join(dir, 'fits'), 'a\nb\n');
    writeFileSync(join(dir, 'too-big'), 'y'.repeat(5000) + '\n');
    const stream = make([join(dir, 'missing'), join(dir, 'fits'), join(dir, 'too-big'), join(dir, 'fits')], 4096);
    const { texts, outcome } = readAll(stream, [0, 1, 2, 3]);
    expect(outcome).toEqual([false, true, false, false]); // nothing fits after the one that filled it
    expect(texts.get(1)).toBe('a\nb\n');
  });

  it('a helper that stops answering is given up after the stall time, for good: every file is left to the caller', () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]); // opening it blocks until a writer comes: none will
    writeFileSync(join(dir, 'fits'), 'a\n');
    const stream = make([fifo, join(dir, 'fits')], 1 << 20, 300);
    expect(stream.start()).toBe(true);
    const t = Date.now();
    expect(readAll(stream, [0, 1]).outcome).toEqual([false, false]);
    // a lower bound only (it did not give up before the stall time): a slow machine only makes it longer
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
    // no second wait: the helper is given up for good, so the next read does not ask it (read returns at once
    // when start() says it cannot serve)
    expect(stream.start()).toBe(false);
    expect(readAll(stream, [1]).outcome).toEqual([false]);
    expect(readFileSync(join(dir, 'fits'), 'latin1')).toBe('a\n');
    execFileSync('sh', ['-c', `: > '${fifo}'`]); // a writer at last: the stuck helper's open returns, and it can end
  });
});
