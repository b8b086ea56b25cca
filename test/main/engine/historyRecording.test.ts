import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HistoryLock } from '../../../src/main/engine/history/lock';
import { HistoryRecording } from '../../../src/main/engine/history/recording';
import { HistoryStore } from '../../../src/main/engine/history/store';
import { Monitor } from '../../../src/main/engine/monitor';
import type { RecordingStatus } from '../../../src/shared/recording';
import type { Socket } from '../../../src/shared/model';
import { waitFor } from '../../helpers/children';
import { makeProcess, makeSocket } from '../../helpers/sockets';

/**
 * Recording beside a live view (the desktop app's and serve's): a real Monitor (over sockets the test lists),
 * the real history-writer thread and real libsql files. The monitor's deltas keep coming whatever the history
 * does; the status says what it does.
 */

let dir: string;
let db: string;
let monitor: Monitor;
let recording: HistoryRecording | null;
const sockets: Socket[] = [];
const statuses: RecordingStatus[] = [];
let deltas = 0;

const curl = makeProcess(4242, 'curl', { exe: '/usr/bin/curl' });
function conn(port: number): Socket {
  return makeSocket({
    id: `tcp|10.0.0.2|${port}|93.184.216.34|443`,
    localAddress: '10.0.0.2',
    localPort: port,
    remoteAddress: '93.184.216.34',
    remotePort: 443,
    state: 'ESTABLISHED',
    listening: false,
    pid: curl.pid,
    pids: [curl.pid],
    process: curl,
    bytesIn: 10,
    bytesOut: 10,
    direction: 'out',
  });
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pw-recording-'));
  db = join(dir, 'history.db');
  sockets.length = 0;
  statuses.length = 0;
  deltas = 0;
  monitor = new Monitor({ source: { name: 'procfs', list: () => Promise.resolve({ sockets: [...sockets], warnings: [] }) }, intervalMs: 250 });
  monitor.on('delta', () => deltas++);
  monitor.start();
  await waitFor(() => monitor.getSnapshot() ?? undefined, 5000, 'first poll');
  recording = null;
});
afterEach(async () => {
  await recording?.dispose();
  await monitor.stop();
  rmSync(dir, { recursive: true, force: true });
});

function record(over: Partial<ConstructorParameters<typeof HistoryRecording>[1]> = {}): HistoryRecording {
  recording = new HistoryRecording(monitor, { path: db, command: 'portwatch test', enabled: true, onStatus: (s) => statuses.push(s), ...over });
  return recording;
}

const state = (r: HistoryRecording, want: RecordingStatus['state'], reason?: string): Promise<RecordingStatus> =>
  waitFor(
    () => {
      const s = r.status();
      return s.state === want && (reason === undefined || (s.state === 'paused' && s.reason === reason)) ? s : undefined;
    },
    20_000,
    `recording ${want} ${reason ?? ''}`,
  );

/** Deltas the monitor delivers from now: the live view keeps going. */
async function livePolls(n: number): Promise<void> {
  const from = deltas;
  await waitFor(() => (deltas >= from + n ? true : undefined), 10_000, `${n} more polls`);
}

function openedEvents(): number {
  const r = HistoryStore.open(db, { mode: 'read' });
  if (!r.ok) throw new Error(r.message);
  try {
    return r.store.events({ since: 0, until: Date.now() + 60_000 }).filter((e) => e.kind === 'open').length;
  } finally {
    r.store.close();
  }
}

describe('HistoryRecording', () => {
  it('records what the monitor sees from the state it joins at, holds the lock while on, and releases it when turned off', async () => {
    sockets.push(conn(50000));
    await livePolls(2);
    const r = record();
    await state(r, 'recording');
    // the lock names this process and the command it was given
    expect(HistoryLock.holder(`${db}.lock`)).toMatchObject({ pid: process.pid, command: 'portwatch test' });
    sockets.push(conn(50001));
    await waitFor(() => (r.status().eventsWritten >= 1 ? true : undefined), 10_000, 'the new connection written');
    expect(statuses.map((s) => s.state).slice(0, 2)).toEqual(['starting', 'recording']);

    expect(r.setEnabled(false).state).toBe('off');
    await waitFor(() => (HistoryLock.holder(`${db}.lock`) === null ? true : undefined), 10_000, 'the lock released');
    // the one that was there when recording joined is not "opened"; the one that came after is
    expect(openedEvents()).toBe(1);
    sockets.push(conn(50002));
    await livePolls(2);
    expect(openedEvents()).toBe(1);
    r.setEnabled(true);
    await state(r, 'recording');
    sockets.push(conn(50003));
    await waitFor(() => (openedEvents() === 2 ? true : undefined), 10_000, 'recording again');
  });

  it('another process holding the lock: paused, naming it, and the live view goes on; recording starts when it lets go', async () => {
    const held = HistoryLock.acquire(`${db}.lock`, 'portwatch record --db elsewhere');
    if (!held.ok) throw new Error(held.message);
    const r = record({ retryMs: 300 });
    const s = await state(r, 'paused', 'locked');
    expect(s).toMatchObject({ holder: { pid: process.pid, command: 'portwatch record --db elsewhere' }, path: db });
    await livePolls(3);
    held.lock.release();
    await state(r, 'recording');
  });

  it('a corrupt database: paused as corrupt, the file left byte for byte, the live view unaffected', async () => {
    const garbage = Buffer.from('this is not SQLite, and nobody may overwrite it\n'.repeat(100));
    writeFileSync(db, garbage, { mode: 0o600 });
    const r = record();
    const s = await state(r, 'paused', 'corrupt');
    expect(s.state === 'paused' && s.message).toMatch(/not a readable history database.*left as it is/);
    await livePolls(3);
    expect(readFileSync(db).equals(garbage)).toBe(true);
    expect(HistoryLock.holder(`${db}.lock`)).toBeNull();
  });

  it('an unsafe path (a symbolic link): paused as unsafe, nothing written through it', async () => {
    const target = join(dir, 'elsewhere.db');
    symlinkSync(target, db);
    const r = record();
    const s = await state(r, 'paused', 'unsafe');
    expect(s.state === 'paused' && s.message).toMatch(/symbolic link/);
    await livePolls(2);
    expect(() => readFileSync(target)).toThrow(/ENOENT/);
  });

  it.runIf(process.getuid?.() === 0)(
    'a full disk stops recording with a status and resumes when space returns (a small tmpfs)',
    async () => {
      const mnt = join(dir, 'small');
      mkdirSync(mnt);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', mnt]);
      try {
        db = join(mnt, 'history.db');
        const r = record();
        await state(r, 'recording');
        // fill the file system to the last block, then make each poll write a batch
        const filler = join(mnt, 'filler');
        try {
          execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' });
        } catch {
          // dd stops at ENOSPC, as meant
        }
        let port = 40000;
        const churn = setInterval(() => {
          for (let i = 0; i < 200; i++) sockets.push(conn(port++));
          if (sockets.length > 2000) sockets.splice(0, 1000);
        }, 200);
        try {
          const full = await state(r, 'paused', 'disk-full');
          expect(full.state === 'paused' && full.message).toMatch(/full/i);
          await livePolls(3);
          const written = r.status().eventsWritten;
          unlinkSync(filler);
          const back = await state(r, 'recording');
          await waitFor(() => (r.status().eventsWritten > written ? true : undefined), 20_000, 'writing again');
          expect(back.path).toBe(db);
        } finally {
          clearInterval(churn);
        }
        expect(statuses.map((s) => (s.state === 'paused' ? s.reason : s.state)).filter((x, i, a) => x !== a[i - 1])).toEqual([
          'starting',
          'recording',
          'disk-full',
          'recording',
        ]);
        await r.dispose();
        // what it wrote is a good database
        const check = HistoryStore.open(db, { mode: 'read' });
        expect(check.ok).toBe(true);
        if (check.ok) check.store.close();
      } finally {
        await recording?.dispose();
        recording = null;
        execFileSync('umount', ['-l', mnt]);
      }
    },
    90_000,
  );

  it('off from the start opens nothing', async () => {
    const r = record({ enabled: false });
    await livePolls(2);
    expect(r.status()).toEqual({ state: 'off', path: db, eventsWritten: 0 });
    expect(() => readFileSync(db)).toThrow(/ENOENT/);
  });
});
