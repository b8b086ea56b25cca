import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnReady, type Child } from '../../helpers/children';
import { canNetns, Netns } from '../../helpers/netns';
import { BIN } from '../../helpers/paths';

/** Listens where it is told: "tcp 0.0.0.0", "udp ::", ... and prints the ports in that order. */
const LISTENERS = `
import socket, sys, time
out = []
keep = []
for spec in sys.argv[1:]:
    proto, host = spec.split(' ')
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM)
    if fam == socket.AF_INET6: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((host, 0))
    if proto == 'tcp': s.listen()
    keep.append(s)
    out.append(str(s.getsockname()[1]))
print(' '.join(out), flush=True)
time.sleep(600)
`;

interface Listener {
  protocol: string;
  localAddress: string;
  localPort: number;
  exposure: string;
  service: string | null;
  risk: string | null;
  expected: boolean;
  pid: number | null;
  process: string | null;
}

describe.runIf(canNetns)('portwatch audit, in a network namespace of its own', () => {
  const ns = new Netns('pwaudit');
  const kids: Child[] = [];
  let dir: string;
  const inNs = (...cmd: string[]): string[] => ns.exec(...cmd);
  const audit = (...args: string[]) =>
    spawnSync('ip', inNs(process.execPath, BIN, 'audit', ...args), { encoding: 'utf8', env: { ...process.env, XDG_CONFIG_HOME: dir } });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-audit-'));
    ns.create();
    for (const cmd of [
      // a second interface of the namespace's own (this kernel has veth, not dummy)
      ['link', 'add', 'pwv0', 'type', 'veth', 'peer', 'name', 'pwv1'],
      ['addr', 'add', '10.123.0.1/24', 'dev', 'pwv0'],
      ['link', 'set', 'pwv0', 'up'],
      ['link', 'set', 'pwv1', 'up'],
      ['addr', 'add', '127.0.0.2/8', 'dev', 'lo'],
    ]) {
      const r = spawnSync('ip', inNs('ip', ...cmd), { encoding: 'utf8' });
      if (r.status !== 0 && !/File exists/.test(r.stderr)) throw new Error(`ip ${cmd.join(' ')}: ${r.stderr}`);
    }
  });
  afterAll(async () => {
    await Promise.all(kids.map((k) => k.stop()));
    ns.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives every listener its exposure, and judges them against a baseline', async () => {
    const specs = ['tcp 0.0.0.0', 'tcp 127.0.0.1', 'tcp 127.0.0.2', 'tcp 10.123.0.1', 'tcp ::', 'udp 0.0.0.0', 'tcp ::1'];
    const child = await spawnReady('ip', inNs('/usr/bin/python3.11', '-c', LISTENERS, ...specs));
    kids.push(child);
    const ports = child.firstLine.split(' ').map(Number);
    const r = audit('--json');
    expect(r.status, r.stderr).toBe(0);
    const { listeners } = JSON.parse(r.stdout) as { listeners: Listener[] };
    const by = (i: number): Listener | undefined => listeners.find((l) => l.localPort === ports[i]);
    expect(by(0)).toMatchObject({ protocol: 'tcp', localAddress: '0.0.0.0', exposure: 'all', expected: false, process: 'python3.11', pid: child.pid });
    expect(by(1)).toMatchObject({ localAddress: '127.0.0.1', exposure: 'loopback' });
    expect(by(2)).toMatchObject({ localAddress: '127.0.0.2', exposure: 'loopback' });
    expect(by(3)).toMatchObject({ localAddress: '10.123.0.1', exposure: 'interface' });
    expect(by(4)).toMatchObject({ localAddress: '::', exposure: 'all' });
    expect(by(5)).toMatchObject({ protocol: 'udp', exposure: 'all' });
    expect(by(6)).toMatchObject({ localAddress: '::1', exposure: 'loopback' });
    expect(listeners.map((l) => l.exposure)).toEqual(
      [...listeners.map((l) => l.exposure)].sort((a, b) => ['all', 'interface', 'loopback'].indexOf(a) - ['all', 'interface', 'loopback'].indexOf(b)),
    );
    for (const l of listeners)
      expect(Object.keys(l).sort()).toEqual(
        ['exposure', 'expected', 'localAddress', 'localPort', 'pid', 'process', 'noOwner', 'protocol', 'range', 'risk', 'service'].sort(),
      );

    const file = join(dir, 'expected.json');
    expect(audit('--write-baseline', file).status).toBe(0);
    const clean = audit('--baseline', file);
    expect(clean.status, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/EXPOSURE\s+PROTO\s+LOCAL/);

    // something new opens: exit 1, and it is named
    const newcomer = await spawnReady('ip', inNs('/usr/bin/python3.11', '-c', LISTENERS, 'tcp 0.0.0.0'));
    kids.push(newcomer);
    const dirty = audit('--baseline', file);
    expect(dirty.status).toBe(1);
    expect(dirty.stderr).toContain(`1 unexpected listener:`);
    expect(dirty.stderr).toContain(`tcp 0.0.0.0:${newcomer.firstLine} (all) python3.11 pid ${newcomer.pid}`);
    const json = JSON.parse(audit('--baseline', file, '--json').stdout) as { listeners: Listener[] };
    expect(json.listeners.filter((l) => !l.expected).map((l) => l.localPort)).toEqual([Number(newcomer.firstLine)]);
  });

  it('exits 2 for a missing, unreadable or broken baseline', () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "version": 1, "rules": [ { "port": "ssh" } ] }');
    for (const [args, why] of [
      [['--baseline', join(dir, 'nope.json')], /does not exist/],
      [['--baseline', broken], /not a Portwatch baseline/],
      [['--baseline', dir], /cannot read/],
      [['--baseline', ''], /needs a file name/],
      [['--baseline', broken, '--write-baseline', broken], /choose one/],
    ] as const) {
      const r = audit(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(why);
    }
  });
});
