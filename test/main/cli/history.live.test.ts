import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPortwatch } from '../../helpers/cli';
import { waitFor } from '../../helpers/children';
import { BIN } from '../../helpers/paths';

/**
 * `portwatch record` as a whole process over real loopback connections, then `portwatch history` reading what it
 * wrote: the bytes of connections that lived between two polls (known only from the kernel's closed records)
 * and of one that polls saw, a listener's timeline with its owner, the one-writer lock, and SIGTERM.
 */

interface FlowJson {
  program: string;
  name: string;
  remoteAddress: string;
  port: number;
  protocol: string;
  direction: string;
  opened: number;
  closed: number;
  bytesIn: number;
  bytesOut: number;
}
interface ListenerJson {
  localPort: number;
  pid: number | null;
  name: string | null;
  exe: string | null;
  startedAt: number;
  stoppedAt: number | null;
}

const REQUEST = 1500;
const RESPONSE = 700;
const LONG_REQUEST = 64_000;
const SHORT = 30;

/** A server that answers RESPONSE bytes to each REQUEST (LONG_REQUEST for the first connection), then closes first. */
function answeringServer(): Promise<Server> {
  const server = createServer((sock) => {
    let got = 0;
    sock.on('error', () => {});
    sock.on('data', (d: Buffer) => {
      got += d.length;
      if (got === REQUEST || got === LONG_REQUEST) sock.end(Buffer.alloc(RESPONSE, 1));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Sends `bytes`, reads the answer to its end, then closes: the server closed first, so this end is freed at once. */
function exchange(port: number, bytes: number, hold?: Promise<void>): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = createConnection({ port, host: '127.0.0.1' });
    let got = 0;
    c.on('error', reject);
    c.on('connect', () => {
      if (hold) void hold.then(() => c.write(Buffer.alloc(bytes, 2)));
      else c.write(Buffer.alloc(bytes, 2));
    });
    c.on('data', (d: Buffer) => (got += d.length));
    c.on('end', () => c.end());
    c.on('close', () => resolve(got));
  });
}

async function historyJson<T>(db: string, extra: string[] = []): Promise<{ code: number; stderr: string; body: T }> {
  const r = await runPortwatch(['history', '--db', db, '--since', '1h', '--json', ...extra]);
  return { code: r.code, stderr: r.stderr, body: (r.code === 0 ? JSON.parse(r.stdout) : null) as T };
}

describe('portwatch record and history (live)', () => {
  let dir: string;
  let db: string;
  let recorder: ChildProcess;
  let recorderErr = '';
  let exited: Promise<number | null>;
  let server: Server;
  const node = realpathSync(process.execPath);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pw-record-'));
    db = join(dir, 'history.db');
    server = await answeringServer();
    recorder = spawn(process.execPath, [BIN, 'record', '--db', db, '--interval', '250'], { stdio: ['ignore', 'pipe', 'pipe'] });
    recorder.stderr?.on('data', (d: Buffer) => (recorderErr += d.toString()));
    exited = new Promise((resolve) => recorder.on('exit', (code) => resolve(code)));
    await waitFor(() => (/recording to /.test(recorderErr) ? true : undefined), 15_000, 'the recorder to start');
    // its first poll is written once the server's listener is in the timeline
    const port = (server.address() as AddressInfo).port;
    await waitFor(
      async () =>
        (await historyJson<{ listeners: ListenerJson[] }>(db, ['--listeners'])).body?.listeners.some((l) => l.localPort === port) ? true : undefined,
      20_000,
      'the first poll in the history',
    );
  }, 60_000);

  afterAll(async () => {
    if (recorder.exitCode === null) recorder.kill('SIGKILL');
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a second recorder on the same database is refused and names the first; history reads meanwhile and says who records', async () => {
    const second = await runPortwatch(['record', '--db', db, '--interval', '250']);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(
        `another Portwatch is recording into this history: pid ${recorder.pid} \\(portwatch record --db ${db.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} --interval 250\\)`,
      ),
    );
    const read = await runPortwatch(['history', '--db', db, '--since', '1h', '--listeners']);
    expect(read.code).toBe(0);
    expect(read.stderr).toContain(`this history is being recorded now by pid ${recorder.pid} (portwatch record --db`);
    const port = (server.address() as AddressInfo).port;
    expect(read.stdout).toMatch(/^PROTO +LOCAL +PROGRAM +PID +USER +LISTENING FROM +UNTIL$/m);
    expect(read.stdout).toMatch(new RegExp(`^tcp +127\\.0\\.0\\.1:${port} +node +${process.pid} +.* still listening$`, 'm'));
  }, 60_000);

  it('records connections shorter than a poll with their bytes, a long one, and a listener opened and closed; stops on SIGTERM with exit 0', async () => {
    const port = (server.address() as AddressInfo).port;
    // a connection the polls see: held open until the history has it, then finished
    let release = (): void => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const long = exchange(port, LONG_REQUEST, held);
    await waitFor(
      async () =>
        (await historyJson<{ flows: FlowJson[] }>(db)).body?.flows.some((f) => f.port === port && f.direction === 'out' && f.program === node)
          ? true
          : undefined,
      20_000,
      'the long connection in the history',
    );
    release();
    const answers = [await long];
    // connections that each live a few milliseconds, most of them between two polls
    for (let i = 0; i < SHORT; i++) answers.push(await exchange(port, REQUEST));
    expect(answers.every((a) => a === RESPONSE)).toBe(true);

    // a listener opened, seen, and closed
    const before = Date.now();
    const extra = createServer();
    await new Promise<void>((resolve) => extra.listen(0, '127.0.0.1', () => resolve()));
    const extraPort = (extra.address() as AddressInfo).port;
    await waitFor(
      async () =>
        (await historyJson<{ listeners: ListenerJson[] }>(db, ['--listeners'])).body?.listeners.some((l) => l.localPort === extraPort) ? true : undefined,
      20_000,
      'the new listener in the history',
    );
    const closedAt = Date.now();
    await new Promise<void>((resolve) => extra.close(() => resolve()));
    await waitFor(
      async () =>
        (await historyJson<{ listeners: ListenerJson[] }>(db, ['--listeners'])).body?.listeners.some((l) => l.localPort === extraPort && l.stoppedAt !== null)
          ? true
          : undefined,
      20_000,
      'the listener closed in the history',
    );
    // every short connection's closed record is in (the client end is freed at once, the server's waits in TIME_WAIT)
    const sent = LONG_REQUEST + SHORT * REQUEST;
    await waitFor(
      async () => {
        const out = (await historyJson<{ flows: FlowJson[] }>(db)).body?.flows.filter((f) => f.port === port && f.direction === 'out') ?? [];
        return out.reduce((n, f) => n + f.bytesOut, 0) >= sent ? true : undefined;
      },
      20_000,
      'the bytes of every connection',
    );

    recorder.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(recorderErr).toMatch(/stopped recording: \d+ polls written/);

    const { body, stderr } = await historyJson<{ recording: unknown; flows: FlowJson[] }>(db);
    expect(stderr).toBe(''); // nobody records now
    expect(body.recording).toBeNull();
    const out = body.flows.filter((f) => f.port === port && f.direction === 'out' && f.remoteAddress === '127.0.0.1' && f.protocol === 'tcp');
    const sum = (k: 'opened' | 'bytesIn' | 'bytesOut'): number => out.reduce((n, f) => n + f[k], 0);
    expect(sum('opened')).toBe(1 + SHORT);
    expect(sum('bytesOut')).toBe(sent);
    expect(sum('bytesIn')).toBe((1 + SHORT) * RESPONSE);
    // the long connection, which polls saw, is this process's, by its executable
    const mine = out.find((f) => f.program === node);
    expect(mine).toMatchObject({ name: 'node' });
    expect(mine?.bytesOut).toBeGreaterThanOrEqual(LONG_REQUEST);

    const spans = (await historyJson<{ listeners: ListenerJson[] }>(db, ['--listeners'])).body.listeners.filter((l) => l.localPort === extraPort);
    expect(spans).toHaveLength(1);
    const span = spans[0] as ListenerJson;
    expect(span).toMatchObject({ pid: process.pid, name: 'node', exe: node });
    expect(span.startedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(span.startedAt).toBeLessThanOrEqual(closedAt);
    expect(span.stoppedAt).toBeGreaterThanOrEqual(closedAt - 1000);

    // a restart keeps what was recorded, counts none of it twice, and keeps the server's listener one span
    const again = spawn(process.execPath, [BIN, 'record', '--db', db, '--interval', '250'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let againErr = '';
    again.stderr?.on('data', (d: Buffer) => (againErr += d.toString()));
    const againExit = new Promise<number | null>((resolve) => again.on('exit', (code) => resolve(code)));
    await waitFor(() => (/recording to /.test(againErr) ? true : undefined), 15_000, 'the second recording to start');
    await waitFor(
      async () => ((await runPortwatch(['history', '--db', db, '--since', '1h'])).stderr.includes(`recorded now by pid ${again.pid}`) ? true : undefined),
      15_000,
      'the second recorder to hold the lock',
    );
    // the second recording writes: a listener opened now shows up
    const third = createServer();
    await new Promise<void>((resolve) => third.listen(0, '127.0.0.1', () => resolve()));
    const thirdPort = (third.address() as AddressInfo).port;
    await waitFor(
      async () =>
        (await historyJson<{ listeners: ListenerJson[] }>(db, ['--listeners'])).body?.listeners.some((l) => l.localPort === thirdPort) ? true : undefined,
      20_000,
      'a listener seen by the second recording',
    );
    await new Promise<void>((resolve) => third.close(() => resolve()));
    again.kill('SIGTERM');
    expect(await againExit).toBe(0);
    expect(againErr).toMatch(/stopped recording: [1-9]\d* polls? written/);
    const after = (await historyJson<{ flows: FlowJson[] }>(db)).body.flows.filter(
      (f) => f.port === port && f.direction === 'out' && f.remoteAddress === '127.0.0.1',
    );
    expect(after.reduce((n, f) => n + f.bytesOut, 0)).toBe(sent);
    expect(after.reduce((n, f) => n + f.opened, 0)).toBe(1 + SHORT);
    const serverSpans = (await historyJson<{ listeners: ListenerJson[] }>(db, ['--listeners'])).body.listeners.filter((l) => l.localPort === port);
    expect(serverSpans).toHaveLength(1);
    expect(serverSpans[0]?.stoppedAt).toBeNull();

    // the table and CSV forms of the same
    const table = await runPortwatch(['history', '--db', db, '--since', '1h', '--listeners', '--filter', `port:${extraPort}`]);
    expect(table.stdout).toMatch(
      new RegExp(`^tcp +127\\.0\\.0\\.1:${extraPort} +node +${process.pid} +\\S+ +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +\\d{4}-`, 'm'),
    );
    const csv = await runPortwatch(['history', '--db', db, '--since', '1h', '--csv', '--filter', `port:${port} proc:node`]);
    expect(csv.stdout.split('\r\n')[0]).toBe('program,name,direction,protocol,remoteAddress,port,opened,closed,bytesIn,bytesOut,firstSeen,lastSeen');
    expect(csv.stdout).toContain(`${node},node,out,tcp,127.0.0.1,${port},`);
  }, 180_000);
});

describe('portwatch record killed with SIGKILL (live)', () => {
  let dir: string;
  let db: string;
  const servers: Server[] = [];
  const children: ChildProcess[] = [];

  const listen = async (): Promise<number> => {
    const s = createServer((c) => c.on('error', () => {}));
    servers.push(s);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return (s.address() as AddressInfo).port;
  };
  const record = async (): Promise<{ proc: ChildProcess; err: () => string; exit: Promise<number | null> }> => {
    let err = '';
    const proc = spawn(process.execPath, [BIN, 'record', '--db', db, '--interval', '250'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(proc);
    proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    await waitFor(() => (/recording to /.test(err) ? true : proc.exitCode !== null ? false : undefined), 15_000, 'the recorder to start');
    return { proc, err: () => err, exit };
  };
  const spans = async (): Promise<ListenerJson[]> => (await historyJson<{ listeners: ListenerJson[] }>(db, ['--listeners'])).body?.listeners ?? [];
  const recorded = (port: number) => async () => ((await spans()).some((l) => l.localPort === port) ? true : undefined);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-record-kill-'));
    db = join(dir, 'history.db');
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every poll it wrote, leaves a readable database and no stale lock: a new recorder goes on at once', async () => {
    const first = await record();
    const a = await listen();
    await waitFor(recorded(a), 20_000, 'the first listener in the history');
    const b = await listen();
    await waitFor(recorded(b), 20_000, 'the second listener in the history');
    first.proc.kill('SIGKILL');
    await first.exit;

    // what it had written is there, whole: the WAL's committed transactions survive the process
    const read = await runPortwatch(['history', '--db', db, '--since', '1h', '--listeners', '--json']);
    expect(read.code).toBe(0);
    expect(read.stderr).not.toMatch(/corrupt|being recorded now/);
    const before = (JSON.parse(read.stdout) as { listeners: ListenerJson[] }).listeners.filter((l) => l.localPort === a || l.localPort === b);
    expect(before.map((l) => [l.localPort, l.pid, l.stoppedAt])).toEqual([
      [a, process.pid, null],
      [b, process.pid, null],
    ]);

    // the kernel let go of the lock with the process: the next recorder is not refused, and goes on from there
    const second = await record();
    expect(second.err()).not.toMatch(/another Portwatch is recording/);
    await new Promise<void>((resolve) => (servers[0] as Server).close(() => resolve()));
    await waitFor(async () => ((await spans()).find((l) => l.localPort === a)?.stoppedAt ? true : undefined), 20_000, 'the first listener stopped');
    const after = (await spans()).filter((l) => l.localPort === a || l.localPort === b);
    // one span each: the restart did not open a second one for the listener still there
    expect(after.map((l) => [l.localPort, l.stoppedAt === null])).toEqual([
      [a, false],
      [b, true],
    ]);
    second.proc.kill('SIGTERM');
    expect(await second.exit).toBe(0);
  }, 120_000);
});
