import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WS_PATH, type ApiResult, type WsMessage } from '../../../src/shared/api';
import type { RecordingStatus } from '../../../src/shared/recording';
import { runPortwatch } from '../../helpers/cli';
import { waitFor } from '../../helpers/children';
import { BIN } from '../../helpers/paths';
import { readMessage } from '../../helpers/wire';

/**
 * `portwatch serve` records the history while it serves (issue 16 point 3), as a whole process over real
 * loopback connections and real libsql files: by default, not with --no-record or after setRecording(false);
 * not while `portwatch record` holds the lock (and says who does, on stderr and in getHistoryStatus), taking
 * over when it stops; and a corrupt database is reported, left byte for byte, with the live view unaffected.
 */

interface Serving {
  child: ChildProcess;
  err: () => string;
  ws: WebSocket;
  call: <T>(method: string, ...args: unknown[]) => Promise<ApiResult<T>>;
  /** Deltas received so far. */
  deltas: () => number;
}

let dir: string;
let db: string;
const children: ChildProcess[] = [];
const sockets: WebSocket[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-serve-history-'));
  db = join(dir, 'history.db');
});
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  for (const c of children.splice(0)) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The environment: the user's history in the test's own directory, so that nothing writes the real one. */
const env = (): NodeJS.ProcessEnv => ({ ...process.env, XDG_STATE_HOME: join(dir, 'state') });

async function serve(...args: string[]): Promise<Serving> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--interval', '250', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: env() });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const url = await waitFor(() => /serving (http:\/\/127\.0\.0\.1:\d+)\/#token=([\w-]+)/.exec(out) ?? undefined, 20_000, `serve's URL (stderr: ${err})`);
  const [, origin, token] = url as unknown as [string, string, string];
  const ws = new WebSocket(`${origin.replace('http', 'ws')}${WS_PATH}`, { headers: { Origin: origin } });
  sockets.push(ws);
  let deltas = 0;
  ws.on('message', (d) => {
    const m = readMessage(d);
    if (m.type === 'event' && m.event === 'delta') deltas++;
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', token })));
    ws.on('message', (d) => {
      if (readMessage(d).type === 'welcome') resolve();
    });
    ws.once('error', reject);
  });
  let nextId = 1;
  const call = <T>(method: string, ...a: unknown[]): Promise<ApiResult<T>> => {
    const id = nextId++;
    return new Promise((resolve) => {
      const on = (d: WebSocket.RawData): void => {
        const m = readMessage<WsMessage>(d);
        if (m.type !== 'result' || m.id !== id) return;
        ws.off('message', on);
        resolve(m.result as ApiResult<T>);
      };
      ws.on('message', on);
      ws.send(JSON.stringify({ id, method, args: a }));
    });
  };
  return { child, err: () => err, ws, call, deltas: () => deltas };
}

async function status(s: Serving): Promise<RecordingStatus> {
  const r = await s.call<RecordingStatus>('getHistoryStatus');
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

const until = (s: Serving, want: (r: RecordingStatus) => boolean, what: string): Promise<RecordingStatus> =>
  waitFor(
    async () => {
      const r = await status(s);
      return want(r) ? r : undefined;
    },
    45_000,
    what,
  );

/** The live view keeps going: `n` more deltas reach the page's WebSocket. */
async function livePolls(s: Serving, n: number): Promise<void> {
  const from = s.deltas();
  await waitFor(() => (s.deltas() >= from + n ? true : undefined), 60_000, `${n} more deltas`);
}

async function stop(c: ChildProcess, signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
  const exited = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
  c.kill(signal);
  return exited;
}

function echoServer(): Promise<Server> {
  const server = createServer((sock) => {
    sock.on('error', () => {});
    sock.on('data', (d: Buffer) => sock.end(d));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** One connection that lives until `hold` resolves (polls see it), then moves `bytes` each way and closes. */
function exchange(port: number, bytes: number, hold: Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = createConnection({ port, host: '127.0.0.1' });
    c.on('error', reject);
    c.on('connect', () => void hold.then(() => c.write(Buffer.alloc(bytes, 1))));
    c.on('data', () => {});
    c.on('end', () => c.end());
    c.on('close', () => resolve());
  });
}

describe('serve records the history (live)', () => {
  it('by default: into --db, with what the live view shows; setRecording(false) stops and releases it; --no-record never opens it', async () => {
    const server = await echoServer();
    const port = (server.address() as AddressInfo).port;
    try {
      const s = await serve('--db', db);
      const on = await until(s, (r) => r.state === 'recording', 'recording');
      expect(on.path).toBe(db);
      expect(s.err()).toContain(`recording the history to ${db}`);
      // polls take seconds on a loaded machine: the connection is opened once recording has seen a poll, and
      // lives for two more, so that a poll lists it (an open event) before it closes
      await livePolls(s, 1);
      await exchange(port, 3000, livePolls(s, 2));
      await livePolls(s, 2);
      const off = await s.call<RecordingStatus>('setRecording', false);
      expect(off).toMatchObject({ ok: true, value: { state: 'off', path: db } });
      // released: a recorder may take it now
      const rec = spawn(process.execPath, [BIN, 'record', '--db', db, '--interval', '250'], { stdio: ['ignore', 'ignore', 'pipe'], env: env() });
      children.push(rec);
      let recErr = '';
      rec.stderr?.on('data', (d: Buffer) => (recErr += d.toString()));
      await waitFor(() => (recErr.includes('recording to') ? true : undefined), 20_000, `record took the lock (${recErr})`);
      expect(await stop(rec, 'SIGTERM')).toBe(0);
      expect(await stop(s.child)).toBe(0);

      const h = await runPortwatch(['history', '--db', db, '--since', '1h', '--json'], env());
      expect(h.code, h.stderr).toBe(0);
      const flows = (JSON.parse(h.stdout) as { flows: Array<{ port: number; direction: string; bytesOut: number }> }).flows;
      expect(
        flows.some((f) => f.port === port && f.direction === 'out' && f.bytesOut >= 3000),
        JSON.stringify(flows),
      ).toBe(true);

      const quiet = await serve('--db', join(dir, 'never.db'), '--no-record');
      await livePolls(quiet, 2);
      expect(await status(quiet)).toEqual({ state: 'off', path: join(dir, 'never.db'), eventsWritten: 0 });
      expect(() => readFileSync(join(dir, 'never.db'))).toThrow(/ENOENT/);
    } finally {
      server.close();
    }
  }, 120_000);

  it('while portwatch record holds the lock: does not record, names it, keeps the live view; records once it stops', async () => {
    const rec = spawn(process.execPath, [BIN, 'record', '--db', db, '--interval', '250'], { stdio: ['ignore', 'ignore', 'pipe'], env: env() });
    children.push(rec);
    let recErr = '';
    rec.stderr?.on('data', (d: Buffer) => (recErr += d.toString()));
    await waitFor(() => (recErr.includes('recording to') ? true : undefined), 20_000, `record started (${recErr})`);

    const s = await serve('--db', db);
    const paused = await until(s, (r) => r.state === 'paused', 'paused');
    expect(paused).toMatchObject({ state: 'paused', reason: 'locked', holder: { pid: rec.pid, command: `portwatch record --db ${db} --interval 250` } });
    await waitFor(() => (s.err().includes(`pid ${rec.pid} (portwatch record --db ${db}`) ? true : undefined), 10_000, 'serve names the recorder');
    await livePolls(s, 3);
    const state = await s.call<{ snapshot: { sockets: unknown[] } | null }>('getState');
    expect(state.ok && state.value.snapshot !== null).toBe(true);

    expect(await stop(rec, 'SIGTERM')).toBe(0);
    // looked at again every 15 s
    await until(s, (r) => r.state === 'recording', 'recording after record stopped');
    expect(await stop(s.child)).toBe(0);
  }, 120_000);

  it('a corrupt database: reported as such on stderr and in the status, left byte for byte, the live view unaffected', async () => {
    const garbage = Buffer.from('not a database: serve must not touch this\n'.repeat(200));
    writeFileSync(db, garbage, { mode: 0o600 });
    const s = await serve('--db', db);
    const paused = await until(s, (r) => r.state === 'paused', 'paused');
    expect(paused).toMatchObject({ reason: 'corrupt', path: db });
    await waitFor(() => (/History paused|not a readable history database/.test(s.err()) ? true : undefined), 10_000, 'stderr says so');
    await livePolls(s, 4);
    expect(readFileSync(db).equals(garbage)).toBe(true);
    expect(await stop(s.child)).toBe(0);
    expect(readFileSync(db).equals(garbage)).toBe(true);
  }, 60_000);
});
