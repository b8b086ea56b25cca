import { describe, expect, it } from 'vitest';
import type { Row } from '../../src/renderer/src/store/socketStore';
import { processKey, SPARK_MAX_POINTS, SPARK_WINDOW_MS, SparkHistory, sparkPath } from '../../src/renderer/src/store/sparkHistory';
import { treeItems, treePath, type TreeNode } from '../../src/renderer/src/store/tree';
import { OTHER, TRAFFIC_TOP, trafficStack, withCeiling, withTrafficPoint, type TrafficPoint } from '../../src/renderer/src/store/trafficSeries';
import { cellText, cellTitle, groupRows, type ViewContext } from '../../src/renderer/src/store/view';
import type { ProcessInfo, Socket } from '../../src/shared/model';
import { makeClosed, makeProcess, makeSocket } from '../helpers/sockets';

const ctx: ViewContext = { hostName: (a) => (a === '10.0.0.9' ? 'db.example' : undefined) };
const row = (s: Socket, change: Row['change'] = null): Row => ({ socket: s, change, until: 0, firstSeen: 0, seenOpen: false });
let next = 0;
/** A connection of `p` to `remote`:`port`, with TCP counters and rates unless said otherwise. */
const conn = (p: ProcessInfo, remote: string, port: number, rateIn: number | null, rateOut: number | null, protocol: 'tcp' | 'udp' = 'tcp'): Socket =>
  makeSocket({
    id: `${protocol}|10.0.0.1|${40000 + ++next}|${remote}|${port}`,
    protocol,
    localPort: 40000 + next,
    remoteAddress: remote,
    remotePort: port,
    state: 'ESTABLISHED',
    listening: false,
    pid: p.pid,
    pids: [p.pid],
    process: p,
    bytesIn: protocol === 'tcp' ? 10 : null,
    bytesOut: protocol === 'tcp' ? 10 : null,
    rateIn,
    rateOut,
  });
const curl = makeProcess(20, 'curl');
const nginx = makeProcess(10, 'nginx');

describe('the sparklines: 60 s of each process, bounded, pruned', () => {
  it('two objects describing one process (pid and start time) are one series', () => {
    const h = new SparkHistory();
    const copy = { ...curl };
    expect(h.record(1000, [conn(curl, '1.1.1.1', 443, 1, 2), conn(copy, '1.1.1.1', 443, 3, 4)]).get(processKey(curl))).toEqual([{ t: 1000, v: 10 }]);
  });

  it('sums in + out per process and poll; a process with no counted socket has no value (not 0)', () => {
    const h = new SparkHistory();
    const udpOnly = makeProcess(30, 'dnsmasq');
    const m = h.record(1000, [conn(curl, '1.1.1.1', 443, 100, 20), conn(curl, '1.1.1.2', 443, 5, 5), conn(udpOnly, '9.9.9.9', 53, null, null, 'udp')]);
    expect(m.get(processKey(curl))).toEqual([{ t: 1000, v: 130 }]);
    expect(m.get(processKey(udpOnly))).toEqual([{ t: 1000, v: null }]);
  });

  it('a process that only listens (TCP) has no series at all: its heading shows no line and no n/a', () => {
    const h = new SparkHistory();
    const listener = makeSocket({
      id: 'tcp|0.0.0.0|80|*|*',
      localPort: 80,
      state: 'LISTEN',
      listening: true,
      pid: nginx.pid,
      pids: [nginx.pid],
      process: nginx,
    });
    expect(h.record(1000, [listener]).has(processKey(nginx))).toBe(false);
    // once it has a connection, it gets one, and keeps it (with a gap) when only the listener is left
    const c = conn(nginx, '1.1.1.1', 50000, 4, 4);
    expect(h.record(2000, [listener, c]).get(processKey(nginx))).toEqual([{ t: 2000, v: 8 }]);
    expect(h.record(3000, [listener]).get(processKey(nginx))).toEqual([
      { t: 2000, v: 8 },
      { t: 3000, v: null },
    ]);
  });

  it('adds what a connection that closed during the interval carried, spread over the interval', () => {
    const h = new SparkHistory();
    const s = conn(curl, '1.1.1.1', 443, 0, 0);
    h.record(1000, [s]);
    const closed = makeClosed({
      id: 'x',
      localPort: 1,
      remoteAddress: '1.1.1.1',
      pid: curl.pid,
      name: 'curl',
      uid: 0,
      bytesIn: 3000,
      bytesOut: 1000,
      unseenBytesIn: 3000,
      unseenBytesOut: 1000,
      closedAt: 2000,
    });
    expect(h.record(3000, [s], [closed]).get(processKey(curl))?.at(-1)).toEqual({ t: 3000, v: 2000 });
  });

  it('keeps 60 s and at most SPARK_MAX_POINTS; a process gone from the poll is dropped; a recycled pid starts afresh', () => {
    const h = new SparkHistory();
    const s = conn(curl, '1.1.1.1', 443, 1, 1);
    for (let t = 0; t <= 120_000; t += 1000) h.record(t, [s]);
    const series = h.current.get(processKey(curl)) ?? [];
    expect(series.at(-1)?.t).toBe(120_000);
    expect(series[0]?.t).toBeGreaterThanOrEqual(120_000 - SPARK_WINDOW_MS);
    for (let t = 121_000; t < 121_000 + 250 * 400; t += 250) h.record(t, [s]);
    expect(h.current.get(processKey(curl))?.length).toBe(SPARK_MAX_POINTS);
    const again = makeProcess(20, 'curl', { startTime: 99_999 });
    const m = h.record(300_000, [conn(again, '1.1.1.1', 443, 1, 1)]);
    expect(m.has(processKey(curl))).toBe(false);
    expect(m.get(processKey(again))).toEqual([{ t: 300_000, v: 2 }]);
  });

  it('draws a line over the 60 s, newest at the right edge; a point without a rate breaks it; nothing to draw, no path', () => {
    expect(
      sparkPath(
        [
          { t: 0, v: 0 },
          { t: 30_000, v: 50 },
          { t: 60_000, v: 100 },
        ],
        60,
        12,
      ),
    ).toEqual({ d: 'M0.0 11.0L30.0 6.0L60.0 1.0', peak: 100 });
    expect(
      sparkPath(
        [
          { t: 0, v: 10 },
          { t: 1000, v: null },
          { t: 2000, v: 10 },
        ],
        60,
        12,
      ).d.match(/M/g),
    ).toHaveLength(2);
    expect(sparkPath([{ t: 0, v: null }]).d).toBe('');
    // one point alone: a short tick, not an invisible dot
    expect(sparkPath([{ t: 0, v: 5 }], 60, 12).d).toBe('M58.0 1.0L60.0 1.0');
  });
});

describe('tree mode: process -> remote host -> port', () => {
  const sockets = [
    conn(curl, '1.1.1.1', 443, 100, 10),
    conn(curl, '1.1.1.1', 443, 50, 5),
    conn(curl, '1.1.1.1', 80, 1, 1),
    conn(curl, '10.0.0.9', 5432, 7, 3),
    conn(curl, '8.8.8.8', 53, null, null, 'udp'),
    conn(nginx, '::ffff:1.1.1.1', 443, null, null),
  ];
  const groups = groupRows(
    sockets.map((s) => row(s)),
    'tree',
    ctx,
  );
  const all = (): boolean => true;
  const nodes = (items: ReturnType<typeof treeItems>): TreeNode[] => items.flatMap((i) => (i.kind === 'node' ? [i.node] : []));

  it('sums the rates at each level, says n/a for what has no counters and … for what has no rate yet', () => {
    const n = nodes(treeItems(groups, ctx, all));
    const byLabel = (depth: number, label: string): TreeNode | undefined => n.find((x) => x.depth === depth && x.label === label);
    expect(byLabel(0, 'curl')?.rates).toMatchObject({ rateIn: 158, rateOut: 19, counted: 4, uncounted: 1 });
    expect(byLabel(1, '1.1.1.1')?.rates).toMatchObject({ rateIn: 151, rateOut: 16, counted: 3 });
    // the host is named where reverse DNS named it, its address beside
    expect(byLabel(1, 'db.example')).toMatchObject({ detail: '10.0.0.9', count: 1 });
    const ports = n.filter((x) => x.depth === 2 && x.key.startsWith(`${processKey(curl)}|h:1.1.1.1|`));
    expect(ports.map((p) => [p.label, p.rates.rateIn + p.rates.rateOut])).toEqual([
      ['tcp :80', 2],
      ['tcp :443', 165],
    ]);
    expect(byLabel(1, '8.8.8.8')?.rates).toMatchObject({ counted: 0, uncounted: 1 });
    // an IPv4-mapped peer is the same host as the IPv4 one
    expect(n.filter((x) => x.depth === 1 && x.key.startsWith(processKey(nginx))).map((x) => x.label)).toEqual(['1.1.1.1']);
    expect(n.find((x) => x.depth === 0 && x.label === 'nginx')?.rates).toMatchObject({ counted: 0, pending: 1 });
  });

  it('opens processes, keeps hosts and ports closed until opened; a closed heading hides what is under it', () => {
    const open = new Set<string>();
    const isOpen = (x: { key: string; folded?: boolean }): boolean => (x.folded ? open.has(x.key) : true);
    let items = treeItems(groups, ctx, isOpen);
    expect(items.every((i) => i.kind === 'node' && i.node.depth <= 1)).toBe(true);
    open.add(`${processKey(curl)}|h:1.1.1.1`);
    open.add(`${processKey(curl)}|h:1.1.1.1|p:tcp:443`);
    items = treeItems(groups, ctx, isOpen);
    expect(items.filter((i) => i.kind === 'row')).toHaveLength(2);
    const keys = items.map((i) => i.key);
    // in order: the process, its host, that host's ports (80 then 443), the two sockets of 443, the next host
    const host = keys.indexOf(`t:${processKey(curl)}|h:1.1.1.1`);
    expect(keys.slice(host + 1, host + 5)).toEqual([
      `t:${processKey(curl)}|h:1.1.1.1|p:tcp:80`,
      `t:${processKey(curl)}|h:1.1.1.1|p:tcp:443`,
      sockets[0]?.id,
      sockets[1]?.id,
    ]);
  });

  it("names the headings a socket sits under (what a reveal opens) with the tree's own keys", () => {
    const g = groups.find((x) => x.label === 'curl');
    const r = g?.rows.find((x) => x.socket.id === sockets[3]?.id);
    if (!g || !r) throw new Error('no curl group');
    const path = treePath(g.key, r);
    const items = treeItems(groups, ctx, (x) => !x.folded || path.includes(x.key));
    expect(items.filter((i) => i.kind === 'row').map((i) => i.key)).toEqual([sockets[3]?.id]);
  });
});

describe('the Traffic chart: bounded series', () => {
  it('keeps the top processes and hosts per point and the rest as other; stacks the top five of the window plus other', () => {
    const procs = Array.from({ length: 20 }, (_, i) => makeProcess(100 + i, `p${i}`));
    let series: readonly TrafficPoint[] = [];
    for (let t = 0; t < 700; t++)
      series = withTrafficPoint(
        series,
        t * 1000,
        procs.map((p, i) => conn(p, `10.1.0.${i}`, 443, i + 1, 0)),
        [],
        1000,
      );
    expect(series).toHaveLength(600);
    const last = series.at(-1) as TrafficPoint;
    expect(last.processes).toHaveLength(TRAFFIC_TOP);
    expect(last.processes[0]?.label).toBe('p19 (119)');
    const total = procs.reduce((a, _p, i) => a + i + 1, 0);
    expect(last.processes.reduce((a, x) => a + x.rate, 0) + last.otherProcesses).toBe(total);
    const stack = trafficStack(series, 'processes', 5);
    expect(stack.series.map((s) => s.label)).toEqual(['p19 (119)', 'p18 (118)', 'p17 (117)', 'p16 (116)', 'p15 (115)', 'other']);
    const row0 = stack.data.at(-1) as Record<string, number>;
    expect(Object.keys(row0).sort()).toEqual(['other', 's0', 's1', 's2', 's3', 's4', 't']);
    expect(['s0', 's1', 's2', 's3', 's4', OTHER].reduce((a, k) => a + (row0[k] ?? NaN), 0)).toBe(total);
    const hosts = trafficStack(series, 'hosts', 5, (k) => `host ${k}`);
    expect(hosts.series[0]).toMatchObject({ key: '10.1.0.19', label: 'host 10.1.0.19' });
  });

  it('a long process name gives way in its label, its pid stays', () => {
    const long = makeProcess(4242, 'python3', { cmdline: ['python3', 'a-really-long-service-name.py'] });
    const [p] = withTrafficPoint([], 0, [conn(long, '1.1.1.1', 443, 5, 5)], [], 1000);
    expect(p?.processes[0]?.label).toMatch(/^.{19}… \(4242\)$/);
  });

  it("counts an ownerless socket's traffic for its host, not for a process", () => {
    const orphan = { ...conn(curl, '5.5.5.5', 443, 40, 2), process: null, pid: null, pids: [] };
    const [p] = withTrafficPoint([], 0, [orphan, conn(curl, '5.5.5.5', 443, 1, 1)], [], 1000);
    expect(p?.hosts).toEqual([{ key: '5.5.5.5', label: '5.5.5.5', rate: 44 }]);
    expect(p?.processes).toEqual([{ key: processKey(curl), label: 'curl (20)', rate: 2 }]);
  });

  it('sets the ceiling of each point from the last throughput sample at or before it', () => {
    const rows = withCeiling(
      [{ t: 500 }, { t: 2500 }, { t: 4100 }],
      [
        { t: 1000, rx: 0, tx: 0, all: 10 },
        { t: 3000, rx: 0, tx: 0, all: 30 },
      ],
    );
    expect(rows).toEqual([{ t: 500 }, { t: 2500, ceiling: 10 }, { t: 4100, ceiling: 30 }]);
  });
});

describe('UDP rates, honestly', () => {
  const udpServer = makeSocket({ id: 'udp|0.0.0.0|53|*|*', protocol: 'udp', localAddress: '0.0.0.0', localPort: 53, state: 'UNCONN', listening: true });
  const udpClient = conn(curl, '9.9.9.9', 53, null, null, 'udp');

  it('a UDP socket without counters says n/a (never 0 or blank), a TCP listener stays blank', () => {
    for (const s of [udpServer, udpClient]) for (const c of ['rateIn', 'rateOut', 'bytes'] as const) expect(cellText(c, row(s), ctx, 0)).toBe('n/a');
    expect(cellText('rateIn', row(makeSocket({ bytesIn: 0, bytesOut: 0, rateIn: 0, rateOut: 0 })), ctx, 0)).toBe('');
  });

  it("the n/a cell's tooltip says why, as the status does", () => {
    const why = 'no UDP counters: conntrack accounting is off (sysctl net.netfilter.nf_conntrack_acct=1)';
    expect(cellTitle('rateIn', row(udpClient), 'n/a', { noCounters: why })).toBe(`n/a: ${why}`);
  });
});
