import { describe, expect, it } from 'vitest';
import {
  buildRows,
  clip,
  filterEditLines,
  fitColumns,
  headerLine,
  itemLine,
  killPromptLines,
  legendLine,
  nextSort,
  reselect,
  scrollTop,
  SORT_KEYS,
  summaryLines,
  visibleItems,
  type SortKey,
} from '../../../src/main/cli/top/model';
import { planKill } from '../../../src/shared/killPlan';
import type { Socket } from '../../../src/shared/model';
import { parseQuery } from '../../../src/shared/query';
import { makeClosed, makeProcess, makeSocket } from '../../helpers/sockets';

/** An established TCP connection of `pid` from local port `port`, moving `rateIn`/`rateOut` bytes a second. */
function conn(pid: number, name: string, port: number, rateIn: number | null, rateOut: number | null, bytes = 1000, over: Partial<Socket> = {}): Socket {
  return makeSocket({
    id: `tcp|127.0.0.1|${port}|127.0.0.1|9000`,
    localPort: port,
    remoteAddress: '127.0.0.1',
    remotePort: 9000,
    state: 'ESTABLISHED',
    listening: false,
    pid,
    pids: [pid],
    process: makeProcess(pid, name),
    bytesIn: bytes,
    bytesOut: bytes,
    rateIn,
    rateOut,
    direction: 'out',
    directionGuessed: false,
    ...over,
  });
}

function udp(pid: number, name: string, port: number): Socket {
  return makeSocket({
    id: `udp|127.0.0.1|${port}|*|*`,
    protocol: 'udp',
    localPort: port,
    state: 'UNCONN',
    listening: true,
    pid,
    pids: [pid],
    process: makeProcess(pid, name),
  });
}

const names = (rows: ReturnType<typeof buildRows>): string[] => rows.processes.map((p) => p.name);

describe('top: rows from sockets', () => {
  const sockets = [
    conn(10, 'curl', 40001, 100, 50, 5000),
    conn(20, 'python3', 40002, 10_000, 2_000, 100),
    conn(20, 'python3', 40003, 1_000, 0, 200),
    conn(30, 'ssh', 40004, 0, 30_000, 50),
    udp(40, 'dnsmasq', 53),
  ];

  it('groups by process and sums its connections, busiest first (in plus out)', () => {
    const rows = buildRows(sockets, [], 1000, 'rate', null);
    expect(names(rows)).toEqual(['ssh', 'python3', 'curl', 'dnsmasq']);
    const py = rows.processes[1];
    expect(py).toMatchObject({ pid: 20, rateIn: 11_000, rateOut: 2_000, total: 600, sockets: 2 });
    // its connections busiest first too
    expect(py?.connections.map((c) => c.socket.localPort)).toEqual([40002, 40003]);
    expect(rows.totals).toMatchObject({ rateIn: 11_100, rateOut: 32_050 });
  });

  it('puts the ownerless group after the processes it ties with', () => {
    const idle = [
      conn(10, 'curl', 40001, 0, 0, 0),
      makeSocket({
        id: 'tw',
        state: 'TIME_WAIT',
        listening: false,
        remoteAddress: '127.0.0.1',
        remotePort: 1,
        noOwner: 'closed',
        bytesIn: 0,
        bytesOut: 0,
        rateIn: 0,
        rateOut: 0,
      }),
    ];
    expect(names(buildRows(idle, [], 1000, 'rate', null))).toEqual(['curl', '(no owner)']);
  });

  it('sorts by each key the s key cycles through, and comes back to rate', () => {
    const order = (k: SortKey): string[] => names(buildRows(sockets, [], 1000, k, null));
    expect(order('in')).toEqual(['python3', 'curl', 'ssh', 'dnsmasq']);
    expect(order('out')).toEqual(['ssh', 'python3', 'curl', 'dnsmasq']);
    expect(order('total')).toEqual(['curl', 'python3', 'ssh', 'dnsmasq']);
    expect(order('name')).toEqual(['curl', 'dnsmasq', 'python3', 'ssh']);
    expect(order('pid')).toEqual(['curl', 'python3', 'ssh', 'dnsmasq']);
    let k = 'rate' as SortKey;
    const seen = [k];
    for (let i = 1; i < SORT_KEYS.length; i++) seen.push((k = nextSort(k)));
    expect(seen).toEqual(['rate', 'in', 'out', 'total', 'name', 'pid']);
    expect(nextSort('pid')).toBe('rate');
  });

  it('filters with the query language, and counts what is shown against all', () => {
    const q = parseQuery('proc:python3');
    if (!q.ok) throw new Error(q.message);
    const rows = buildRows(sockets, [], 1000, 'rate', q.query);
    expect(names(rows)).toEqual(['python3']);
    expect(rows.shown).toBe(2);
    expect(rows.all).toBe(5);
    // the machine's totals stay the machine's
    expect(rows.totals.rateOut).toBe(32_050);
  });

  it('a UDP socket has no counters: n/a, never a fake 0', () => {
    const rows = buildRows(sockets, [], 1000, 'rate', null);
    const dns = rows.processes.find((p) => p.name === 'dnsmasq');
    expect(dns?.counted).toBe(false);
    const cols = fitColumns(80);
    expect(itemLine(dns!, cols, false)).toMatch(/\bn\/a +n\/a +n\/a\b/);
    expect(itemLine(dns!, cols, false)).not.toMatch(/0 B/);
    const row = dns!.connections[0]!;
    expect(row.counted).toBe(false);
    expect(itemLine(row, cols, false)).toMatch(/udp 127\.0\.0\.1:53 UNCONN +n\/a +n\/a +n\/a/);
    expect(legendLine(80)).toContain('n/a');
  });

  it('a connection on first sight shows no rate yet (…), not 0', () => {
    const rows = buildRows([conn(10, 'curl', 40001, null, null)], [], 1000, 'rate', null);
    const line = itemLine(rows.processes[0]!.connections[0]!, fitColumns(80), false);
    expect(line).toMatch(/… +…/);
  });

  it("counts a closed connection's unseen bytes in its process's rate", () => {
    const closed = makeClosed({
      id: 'tcp|127.0.0.1|40009|127.0.0.1|9000',
      localAddress: '127.0.0.1',
      localPort: 40009,
      remoteAddress: '127.0.0.1',
      remotePort: 9000,
      pid: 10,
      name: 'curl',
      uid: 0,
      bytesIn: 4000,
      bytesOut: 0,
      unseenBytesIn: 4000,
      unseenBytesOut: 0,
    });
    const rows = buildRows(sockets, [closed], 2000, 'rate', null);
    const curl = rows.processes.find((p) => p.pid === 10);
    expect(curl).toMatchObject({ rateIn: 100 + 2000, closed: 1, total: 10_000 + 4000 });
  });

  it('names processes as people think of them, made inert', () => {
    const evil = conn(66, 'python3', 40010, 1, 1, 1, { process: makeProcess(66, 'python3', { cmdline: ['python3', 'x\x1b[2Ky.py'] }) });
    const rows = buildRows([evil], [], 1000, 'rate', null);
    expect(rows.processes[0]?.name).toBe('python3 x\\e[2Ky.py');
    expect(itemLine(rows.processes[0]!, fitColumns(80), false)).not.toContain('\x1b');
  });
});

describe('top: the list on screen', () => {
  const rows = buildRows([conn(1, 'a', 1, 5, 5), conn(1, 'a', 2, 1, 1), conn(2, 'b', 3, 1, 1)], [], 1000, 'rate', null).processes;

  it('shows an expanded process with its connections under it', () => {
    expect(visibleItems(rows, new Set()).map((i) => i.id)).toEqual(['pid:1', 'pid:2']);
    expect(visibleItems(rows, new Set(['pid:1'])).map((i) => i.kind)).toEqual(['process', 'connection', 'connection', 'process']);
  });

  it('keeps the selection on its row when the order changes, else the nearest index', () => {
    const items = visibleItems(rows, new Set());
    expect(reselect(items, 'pid:2', 0)).toBe(1);
    expect(reselect(items, 'pid:gone', 5)).toBe(1);
    expect(reselect([], 'pid:2', 3)).toBe(-1);
  });

  it('scrolls as little as it must to keep the selection in view', () => {
    expect(scrollTop(0, 3, 10, 50)).toBe(0);
    expect(scrollTop(0, 12, 10, 50)).toBe(3);
    expect(scrollTop(20, 5, 10, 50)).toBe(5);
    expect(scrollTop(45, 49, 10, 50)).toBe(40);
  });
});

describe('top: columns fit the terminal', () => {
  const rows = buildRows([conn(4_194_303, 'a-very-long-process-name-indeed', 40001, 999_999_999, 999_999_999, 9e12)], [], 1000, 'rate', null);
  const p = rows.processes[0]!;
  const c = p.connections[0]!;

  it.each([40, 60, 80, 120, 200])('every line is at most %i cells wide', (width) => {
    const cols = fitColumns(width);
    for (const line of [headerLine(cols, 'rate'), itemLine(p, cols, true), itemLine(c, cols, false), legendLine(width)]) {
      expect([...line].length).toBeLessThanOrEqual(width);
    }
    for (const line of summaryLines(rows, { width, sort: 'rate', filter: 'proc:x', frozen: 12, intervalMs: 1000, source: 'netlink' })) {
      expect([...line].length).toBeLessThanOrEqual(width);
    }
  });

  it('at 80 columns shows every column; narrower drops CONNS, then TOTAL, then PID', () => {
    expect(headerLine(fitColumns(80), 'rate')).toMatch(/^PROCESS +PID +IN\* +OUT\* +TOTAL CONNS$/);
    expect(fitColumns(80).name).toBeGreaterThanOrEqual(30);
    expect(fitColumns(50)).toMatchObject({ conns: 0, total: 0 });
    expect(fitColumns(40)).toMatchObject({ conns: 0, total: 0, pid: 0 });
    expect(fitColumns(120).name).toBe(fitColumns(80).name + 40);
  });

  it('shows the command line beside the name where the terminal is wide, not at 80 columns', () => {
    expect(itemLine(p, fitColumns(80), false)).not.toContain('a-very-long-process-name-indeed  a-very');
    expect(itemLine(p, fitColumns(120), false)).toMatch(/^\+ a-very-long-process-name-indeed {2}a-very-long-process-name-indeed +4194303 /);
  });

  it('marks the sort column', () => {
    expect(headerLine(fitColumns(80), 'total')).toMatch(/TOTAL\*/);
    expect(headerLine(fitColumns(80), 'name')).toMatch(/^PROCESS\*/);
  });

  it('cuts by characters, never inside one', () => {
    expect(clip('naïve😀x', 7)).toBe('naïve😀x');
    expect(clip('naïve😀xy', 7)).toBe('naïve😀…');
  });
});

describe('top: the filter, and the kill confirmation', () => {
  it('shows where a query is wrong, with a caret under the character', () => {
    const q = parseQuery('port:99999');
    if (q.ok) throw new Error('should not parse');
    const [line, err] = filterEditLines('port:99999', q, 80);
    expect(line).toBe('/ port:99999');
    expect(err).toMatch(new RegExp(`^ {${2 + q.position}}\\^ at character ${q.position + 1}: port`));
  });

  it("asks in the CLI's words what it would kill: what it listens on and its connections", () => {
    const listener = makeSocket({ pid: 7, pids: [7], process: makeProcess(7, 'nginx'), localPort: 8080, id: 'l' });
    const c = conn(7, 'nginx', 8080, 1, 1);
    const lines = killPromptLines(planKill(7, [listener, c]), 80, null);
    expect(lines[0]).toBe('Kill nginx (pid 7, user root), which listens on tcp/8080?');
    expect(lines).toContain('  listens  tcp 127.0.0.1:8080');
    expect(lines.some((l) => /connected tcp 127\.0\.0\.1:8080 - 127\.0\.0\.1:9000 ESTABLISHED/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/\[y\/N\]$/);
  });

  it('says why a kill is refused (pid 1), and offers no y', () => {
    const lines = killPromptLines(planKill(1, []), 80, 'pid 1 is init: ending it ends the machine');
    expect(lines.slice(0, 2).join(' ')).toBe('Refused to kill pid 1 (pid 1), which 0 sockets: pid 1 is init: ending it ends the machine');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines.join('\n')).not.toMatch(/y: kill/);
  });

  it('makes a hostile name inert in the prompt', () => {
    const evil = conn(9, 'ev\x1b]0;x\x07il', 40001, 1, 1);
    const lines = killPromptLines(planKill(9, [evil]), 80, null);
    expect(lines[0]).toBe('Kill ev\\e]0;x\\x07il (pid 9, user root), which 1 socket?');
    for (const l of lines) expect([...l].filter((c) => (c.codePointAt(0) as number) < 0x20)).toEqual([]);
  });
});
