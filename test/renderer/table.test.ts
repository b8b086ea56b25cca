import { describe, expect, it } from 'vitest';
import { processHoldsSockets, rowActions, type RowFacts } from '../../src/renderer/src/store/rowActions';
import type { Row } from '../../src/renderer/src/store/socketStore';
import { INITIAL_UI, isGroupOpen, uiReducer } from '../../src/renderer/src/store/uiState';
import { cellText, cellTitle, groupRows, KERNEL_HELD_KEY, type ViewContext } from '../../src/renderer/src/store/view';
import type { Socket } from '../../src/shared/model';
import { makeProcess, makeSocket } from '../helpers/sockets';

const ctx: ViewContext = { hostName: () => undefined };
const row = (s: Socket, change: Row['change'] = null): Row => ({ socket: s, change, until: 0, firstSeen: 0, seenOpen: false });
const python = (pid: number, script: string) => makeProcess(pid, 'python3', { exe: '/usr/bin/python3.12', cmdline: ['python3', '-u', script, '--port', '0'] });

const listener = (pid: number, port: number, p = makeProcess(pid, `srv${pid}`)): Socket =>
  makeSocket({ id: `tcp|127.0.0.1|${port}|*|*|${pid}`, localPort: port, pid, pids: [pid], process: p });
const client = (pid: number, lport: number, rport: number, p = makeProcess(pid, `cli${pid}`)): Socket =>
  makeSocket({
    id: `tcp|10.0.0.5|${lport}|93.184.216.34|${rport}`,
    localAddress: '10.0.0.5',
    localPort: lport,
    remoteAddress: '93.184.216.34',
    remotePort: rport,
    state: 'ESTABLISHED',
    listening: false,
    pid,
    pids: [pid],
    process: p,
  });
const timeWait = (lport: number, rport: number, lastOwner?: Socket['lastOwner']): Socket =>
  makeSocket({
    id: `tcp|10.0.0.5|${lport}|93.184.216.34|${rport}`,
    localAddress: '10.0.0.5',
    localPort: lport,
    remoteAddress: '93.184.216.34',
    remotePort: rport,
    state: 'TIME_WAIT',
    listening: false,
    noOwner: 'closed',
    uid: null,
    user: null,
    ...(lastOwner ? { lastOwner } : {}),
  });

describe('groups that mean something', () => {
  it('names processes by what they run, with the whole command line as the tooltip', () => {
    const a = listener(10, 8000, python(10, '/srv/app.py'));
    const b = listener(11, 8001, python(11, '/home/u/sneaky.py'));
    const groups = groupRows([row(a), row(b)], 'process', ctx);
    expect(groups.map((g) => g.label)).toEqual(['python3 app.py', 'python3 sneaky.py']);
    expect(groups[1]?.title).toBe('python3 -u /home/u/sneaky.py --port 0');
    expect(cellText('process', row(a), ctx, 0)).toBe('python3 app.py');
    expect(cellTitle('process', row(a), 'python3 app.py')).toBe('python3 -u /srv/app.py --port 0 (pid 10)');
  });

  it('keeps the order of process groups between polls while their sizes change', () => {
    const poll = (extra: number): Row[] => {
      const rows = [row(listener(30, 80, makeProcess(30, 'nginx'))), row(listener(20, 5432, makeProcess(20, 'postgres')))];
      // the clients come and go: a different count each poll
      for (let i = 0; i < extra; i++) rows.push(row(client(40, 50000 + i, 443, makeProcess(40, 'curl'))));
      for (let i = 0; i < 5 - extra; i++) rows.push(row(client(41, 51000 + i, 443, makeProcess(41, 'wget'))));
      return rows;
    };
    // by size (the old order) curl and wget would swap places as their counts cross
    for (const n of [1, 2, 3, 4]) expect(groupRows(poll(n), 'process', ctx).map((g) => g.label)).toEqual(['nginx', 'postgres', 'curl', 'wget']);
  });

  it('two processes of one name are told apart, and ordered by pid', () => {
    const g = groupRows([row(client(9, 50001, 443, makeProcess(9, 'node'))), row(client(3, 50002, 443, makeProcess(3, 'node')))], 'process', ctx);
    expect(g.map((x) => x.process?.pid)).toEqual([3, 9]);
  });

  it('puts kernel-held sockets in one group, folded, after every other', () => {
    const rows = [row(timeWait(50010, 443)), row(client(40, 50000, 443, makeProcess(40, 'zz-last-by-name'))), row(timeWait(50011, 80))];
    const groups = groupRows(rows, 'process', ctx);
    expect(groups.map((g) => [g.key, g.rows.length, g.folded === true])).toEqual([
      ['p:40:1040', 1, false],
      [KERNEL_HELD_KEY, 2, true],
    ]);
    const kernel = groups[1] as (typeof groups)[number];
    expect(isGroupOpen(INITIAL_UI, kernel)).toBe(false);
    const opened = uiReducer(INITIAL_UI, { type: 'toggleGroup', key: kernel.key, folded: true });
    expect(isGroupOpen(opened, kernel)).toBe(true);
    expect(isGroupOpen(uiReducer(opened, { type: 'toggleGroup', key: kernel.key, folded: true }), kernel)).toBe(false);
    // collapse all folds it again, expand all leaves it folded (it is noise)
    const collapsed = uiReducer(opened, { type: 'collapseAll', keys: groups.map((g) => g.key) });
    expect(isGroupOpen(collapsed, kernel)).toBe(false);
    expect(isGroupOpen(uiReducer(collapsed, { type: 'collapseAll', keys: [] }), groups[0] as (typeof groups)[number])).toBe(true);
  });

  it("a closed connection names its last owner, marked as closed, and stays with the kernel's", () => {
    const s = timeWait(50012, 443, python(77, 'app.py'));
    expect(cellText('process', row(s), ctx, 0)).toBe('python3 app.py (closed)');
    expect(cellTitle('process', row(s), '')).toBe('closed; last held by python3 -u app.py --port 0 (pid 77)');
    expect(groupRows([row(s)], 'process', ctx).map((g) => g.key)).toEqual([KERNEL_HELD_KEY]);
    expect(cellText('process', row(timeWait(50013, 443)), ctx, 0)).toBe('no owner (closed)');
  });

  it("a listener its owner let go of (caught in the owner's exit) names it, marked released, and stays in the process's group", () => {
    const owner = python(78, 'srv.py');
    const released = makeSocket({ ...listener(78, 8090, owner), pid: null, pids: [], process: null, noOwner: 'not-found', lastOwner: owner });
    expect(cellText('process', row(released), ctx, 0)).toBe('python3 srv.py (released)');
    expect(cellTitle('process', row(released), '')).toBe('released: no process holds it now; last held by python3 -u srv.py --port 0 (pid 78)');
    // first in its group: the group names the process, and takes the process (its Kill) from a live row after it
    const live = listener(78, 8091, owner);
    const [group, ...others] = groupRows([row(released), row(live)], 'process', ctx);
    expect(others).toEqual([]);
    expect(group).toMatchObject({ label: 'python3 srv.py', process: owner });
    expect(group?.rows).toHaveLength(2);
    const alone = groupRows([row(released)], 'process', ctx)[0];
    expect(alone?.label).toBe('python3 srv.py');
    expect(alone?.process).toBeUndefined();
    // one never seen owned is still "owner not found"
    const never = makeSocket({ ...released, lastOwner: undefined });
    expect(cellText('process', row(never), ctx, 0)).toBe('owner not found');
  });

  it("in Local port grouping, clients' ephemeral ports go under the remote port they use; a server's connections under its port", () => {
    const rows = [
      row(listener(1, 8080)),
      // an accepted connection on the listener's port: the server's, not a client's
      row(makeSocket({ ...client(1, 8080, 50123), id: 'tcp|10.0.0.5|8080|93.184.216.34|50123' })),
      ...[50000, 50001, 50002].map((p) => row(client(2, p, 443))),
      row(client(3, 50003, 80)),
      row(timeWait(50004, 443)),
      // UDP: a DNS client
      row(makeSocket({ ...client(4, 40000, 53), protocol: 'udp', id: 'udp|10.0.0.5|40000|9.9.9.9|53' })),
    ];
    const groups = groupRows(rows, 'local-port', ctx);
    expect(groups.map((g) => [g.label, g.rows.length])).toEqual([
      [':8080', 2],
      ['→ :53 (clients)', 1],
      ['→ :80 (clients)', 1],
      ['→ :443 (clients)', 4],
    ]);
    expect(groups.find((g) => g.label === '→ :443 (clients)')?.detail).toBe('tcp · https');
    expect(groups.length).toBeLessThan(rows.length - 2);
  });

  it('the listener set comes from every row, not only those a filter left', () => {
    const all = [row(listener(1, 8080)), row(makeSocket({ ...client(1, 8080, 50123), id: 'srv-conn' }))];
    const onlyConnections = all.slice(1);
    expect(groupRows(onlyConnections, 'local-port', ctx, all).map((g) => g.label)).toEqual([':8080']);
  });
});

describe('selection: clicks never scroll, keyboard and "show me" do', () => {
  it('a second click deselects; Esc deselects; only a select that asks to reveal counts', () => {
    let s = uiReducer(INITIAL_UI, { type: 'clickRow', id: 'a' });
    expect([s.selectedId, s.detailsOpen, s.reveal]).toEqual(['a', true, 0]);
    s = uiReducer(s, { type: 'clickRow', id: 'b' });
    expect([s.selectedId, s.reveal]).toEqual(['b', 0]);
    s = uiReducer(s, { type: 'clickRow', id: 'b' });
    expect([s.selectedId, s.detailsOpen]).toEqual([null, false]);
    s = uiReducer(s, { type: 'select', id: 'c', reveal: true });
    expect([s.selectedId, s.reveal, s.detailsOpen]).toEqual(['c', 1, false]);
    s = uiReducer(s, { type: 'select', id: 'd' });
    expect(s.reveal).toBe(1);
    s = uiReducer(s, { type: 'escape' });
    expect(s.selectedId).toBeNull();
  });

  it('Esc closes the row menu before anything else', () => {
    let s = uiReducer(INITIAL_UI, { type: 'clickRow', id: 'a' });
    s = uiReducer(s, { type: 'menu', menu: { socket: makeSocket(), x: 1, y: 2 } });
    s = uiReducer(s, { type: 'escape' });
    expect([s.menu, s.selectedId]).toEqual([null, 'a']);
  });
});

describe('row actions', () => {
  const live: RowFacts = { socketGone: false, processGone: false, control: true, canMark: true, expected: false };
  const byId = (s: Socket, f: RowFacts) => Object.fromEntries(rowActions(s, f).map((a) => [a.id, a]));

  it('copies the endpoint, port, pid and command line as the row shows them', () => {
    const s = client(12, 50000, 443, python(12, 'fetch.py'));
    const a = byId(s, live);
    expect(a['copy-endpoint']).toMatchObject({ kind: 'copy', text: '10.0.0.5:50000', disabled: null });
    expect(a['copy-remote']).toMatchObject({ text: '93.184.216.34:443' });
    expect(a['copy-port']).toMatchObject({ text: '50000' });
    expect(a['copy-pid']).toMatchObject({ text: '12' });
    expect(a['copy-cmdline']).toMatchObject({ text: 'python3 -u fetch.py --port 0' });
    expect(a['filter-process']).toMatchObject({ query: 'pid:12' });
    expect(a['filter-port']).toMatchObject({ query: 'port:50000' });
    expect(a.close?.disabled).toBeNull();
    expect(a.kill?.disabled).toBeNull();
    expect(a.mark?.disabled).toBe('only listeners are marked expected');
    expect(byId(makeSocket({ ...s, id: 'v6', localAddress: '::1', remoteAddress: null, remotePort: null }), live)['copy-endpoint']).toMatchObject({
      text: '[::1]:50000',
    });
  });

  it('things already gone are disabled, saying why', () => {
    const s = client(12, 50000, 443);
    const a = byId(s, { ...live, socketGone: true, processGone: true });
    expect(a.close?.disabled).toMatch(/already closed/);
    expect(a.kill?.disabled).toMatch(/cli12 \(pid 12\) has exited/);
    const tw = byId(timeWait(50001, 443, python(5, 'app.py')), live);
    expect(tw.kill?.disabled).toMatch(/no process holds it/);
    expect(tw.close?.disabled).toMatch(/TIME_WAIT/);
    expect(tw['copy-pid']).toMatchObject({ text: '5', disabled: null, label: 'Copy pid 5 (last owner, closed)' });
    expect(tw['filter-process']?.disabled).toBe('no process holds it now');
    const owner = python(6, 'srv.py');
    const released = byId(makeSocket({ ...listener(6, 8080, owner), pid: null, pids: [], process: null, noOwner: 'not-found', lastOwner: owner }), live);
    expect(released['copy-pid']).toMatchObject({ text: '6', disabled: null, label: 'Copy pid 6 (last owner, released)' });
    expect(released.kill?.disabled).toMatch(/no process holds it/);
    const gone = byId(listener(3, 8080), { ...live, socketGone: true });
    expect(gone.mark?.disabled).toMatch(/already closed/);
    expect(byId(listener(3, 8080), live).mark?.disabled).toBeNull();
    expect(byId(listener(3, 8080), { ...live, expected: true }).mark?.disabled).toBe('already expected');
    expect(byId(listener(3, 8080), { ...live, control: false }).kill?.disabled).toMatch(/read-only/);
  });

  it('a process is gone once no live socket is its (same pid and start time)', () => {
    const p = makeProcess(12, 'x');
    expect(processHoldsSockets(p, [client(12, 1, 2, p)])).toBe(true);
    expect(processHoldsSockets(p, [client(13, 1, 2)])).toBe(false);
    // the pid recycled by another process
    expect(processHoldsSockets(p, [client(12, 1, 2, makeProcess(12, 'x', { startTime: 99 }))])).toBe(false);
  });
});

describe('the Age column is honest about what was there before this window looked', () => {
  const started = makeProcess(7, 'sshd', { startTime: 1000 });
  const s = makeSocket({ id: 'a', process: started, pid: 7, pids: [7] });
  it('says the age it saw, or at most its process age, or at least since the first look', () => {
    expect(cellText('age', { ...row(s), firstSeen: 61_000, seenOpen: true }, ctx, 121_000)).toBe('1m 0s');
    expect(cellText('age', { ...row(s), firstSeen: 61_000 }, ctx, 121_000)).toBe('≤ 2m 0s');
    expect(cellText('age', { ...row(makeSocket({ id: 'b' })), firstSeen: 61_000 }, ctx, 121_000)).toBe('≥ 1m 0s');
    expect(cellTitle('age', { ...row(s), firstSeen: 61_000 }, '≤ 2m 0s')).toMatch(/no older/);
  });
});
