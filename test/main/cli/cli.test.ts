import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from '../../../src/shared/model';
import { NODE_LISTENER, spawnReady, waitFor } from '../../helpers/children';
import { BIN } from '../../helpers/paths';
import { runPortwatch, type CliRun } from '../../helpers/cli';

const run = (...args: string[]): Promise<CliRun> => runPortwatch(args);

async function listJson(...args: string[]): Promise<{ takenAt: number; source: string; sockets: Socket[] }> {
  const r = await run('list', '--json', ...args);
  expect(r.stderr.replace(/portwatch: warning: .*\n/g, '')).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

describe('portwatch CLI', () => {
  let server: Server;
  let port: number;
  const udp = createSocket('udp6');
  let udpPort: number;

  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => udp.bind(0, '::1', r));
    udpPort = udp.address().port;
  });
  afterAll(async () => {
    udp.close();
    await new Promise((r) => server.close(r));
  });

  it('prints help for itself and each command, exit 0', async () => {
    for (const args of [['--help'], ['list', '--help'], ['watch', '--help'], ['serve', '--help'], ['help']]) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage/);
    }
    expect((await run('list', '--help')).stdout).toMatch(/--listen[\s\S]*--port N/);
    expect((await run('watch', '--help')).stdout).toMatch(/--interval MS/);
    expect((await run('serve', '--help')).stdout).toMatch(/--allow-remote[\s\S]*--open/);
  });

  it('list --json gives the model, with our listener and its owner', async () => {
    const before = Date.now();
    const out = await listJson();
    expect(out.source).toBe('netlink');
    // taken during this run of the CLI (a timestamp of now, in ms), however long the run took
    expect(out.takenAt).toBeGreaterThanOrEqual(before);
    expect(out.takenAt).toBeLessThanOrEqual(Date.now());
    const mine = out.sockets.find((s) => s.localPort === port && s.state === 'LISTEN');
    expect(mine).toMatchObject({
      protocol: 'tcp',
      family: 4,
      localAddress: '127.0.0.1',
      remoteAddress: null,
      remotePort: null,
      listening: true,
      pid: process.pid,
      pids: [process.pid],
      ownerHidden: false,
    });
    expect(mine?.process).toMatchObject({ pid: process.pid, exe: process.execPath });
    expect(typeof mine?.id).toBe('string');
    expect(mine?.process?.startTime).toBeGreaterThan(0);
  });

  it('filters: --listen, --tcp, --udp, -4, -6, --pid, --port', async () => {
    const byPort = await listJson('--port', String(port));
    expect(byPort.sockets.length).toBeGreaterThan(0);
    for (const s of byPort.sockets) expect([s.localPort, s.remotePort]).toContain(port);

    const listenTcp4 = await listJson('--listen', '--tcp', '-4');
    expect(listenTcp4.sockets.some((s) => s.localPort === port)).toBe(true);
    for (const s of listenTcp4.sockets) expect([s.listening, s.protocol, s.family]).toEqual([true, 'tcp', 4]);

    const udp6 = await listJson('--udp', '-6');
    expect(udp6.sockets.some((s) => s.localPort === udpPort && s.localAddress === '::1' && s.state === 'UNCONN')).toBe(true);
    for (const s of udp6.sockets) expect([s.protocol, s.family]).toEqual(['udp', 6]);

    const both = await listJson('--tcp', '--udp', '-4', '-6', '--port', String(udpPort));
    expect(both.sockets.some((s) => s.protocol === 'udp')).toBe(true);

    const q = await listJson('--filter', `lport:${port} state:listen -user:nobody`);
    expect(q.sockets.map((s) => [s.localPort, s.state])).toEqual([[port, 'LISTEN']]);
    const neg = await listJson(`--filter=-lport:${port}`, '--tcp'); // a value starting with - needs the = form
    expect(neg.sockets.some((s) => s.localPort === port)).toBe(false);

    const mine = await listJson('--pid', String(process.pid));
    expect(mine.sockets.length).toBeGreaterThanOrEqual(2);
    for (const s of mine.sockets) expect(s.pids).toContain(process.pid);
  });

  it('list prints a readable table with full addresses and names; --csv is RFC 4180', async () => {
    const table = await run('list', '--pid', String(process.pid));
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^PROTO\s+LOCAL\s+REMOTE\s+STATE\s+PID\s+USER\s+PROCESS$/);
    expect(lines.some((l) => l.includes(`127.0.0.1:${port}`) && /LISTEN/.test(l) && l.includes(String(process.pid)))).toBe(true);
    expect(lines.some((l) => l.includes(`[::1]:${udpPort}`) && /UNCONN/.test(l))).toBe(true);

    const csv = await run('list', '--csv', '--port', String(port));
    const rows = csv.stdout.trimEnd().split('\r\n');
    expect(rows[0]).toBe(
      'id,protocol,family,localAddress,localPort,remoteAddress,remotePort,state,listening,pid,pids,uid,user,ownerHidden,noOwner,interface,v6only,bytesIn,bytesOut,rttMs,netns,container,process,exe,cmdline',
    );
    const row = rows.find((r) => r.includes(',LISTEN,'));
    expect(row).toContain(`,tcp,4,127.0.0.1,${port},,,LISTEN,true,${process.pid},`);
    // the cmdline column is a JSON array: quoted, inner quotes doubled
    expect(row).toMatch(/,"\[""[^,]*node/);
  });

  it('watch streams a snapshot, then deltas in which a new listener appears and a stopped one leaves', async () => {
    // a free port to filter on before anything listens there
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const target = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));

    const watch = spawn(process.execPath, [BIN, 'watch', '--json', '--interval', '250', '--port', String(target)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const events: Array<Record<string, unknown>> = [];
    let buf = '';
    watch.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        events.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
    });
    try {
      await waitFor(() => (events.some((e) => e.type === 'snapshot') ? true : undefined), 10_000, 'snapshot');
      expect(events[0]).toMatchObject({ type: 'snapshot', seq: 1, source: 'netlink', sockets: [] });
      const child = await spawnReady(process.execPath, ['-e', NODE_LISTENER.replace('listen(0', `listen(${target}`), '127.0.0.1']);
      const added = await waitFor(
        () => events.find((e) => e.type === 'delta' && (e.added as Socket[]).some((s) => s.localPort === target && s.pid === child.pid)),
        5000,
        'added delta',
      );
      const id = (added.added as Socket[])[0]?.id;
      expect((added.added as Socket[])[0]).toMatchObject({ state: 'LISTEN', localAddress: '127.0.0.1', process: { pid: child.pid } });
      await child.stop();
      await waitFor(() => events.find((e) => e.type === 'delta' && (e.removed as string[]).includes(id as string)), 5000, 'removed delta');
      const deltas = events.filter((e) => e.type === 'delta');
      const seqs = deltas.map((d) => d.seq as number);
      expect(seqs).toEqual(seqs.map((_, i) => i + 2));
    } finally {
      const exited = new Promise<number | null>((r) => watch.once('exit', (code) => r(code)));
      watch.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  });

  it('serve prints a URL with the token in its fragment (never sent to a server), serves the page, and stops on Ctrl-C', async () => {
    // --no-record: not the user's real history (serveHistory.live.test.ts tests recording)
    const serve = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--no-record'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    serve.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const url = await waitFor(() => /serving (http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{20,})/.exec(out)?.[1], 15_000, 'URL');
      // the page and its assets are public; only the WebSocket needs the token (tested in test/main/server)
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root">');
    } finally {
      const exited = new Promise<number | null>((r) => serve.once('exit', (code) => r(code)));
      serve.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  });
});
