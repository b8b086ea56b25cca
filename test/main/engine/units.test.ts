import { describe, expect, it } from 'vitest';
import { canonicalAddress, formatIpv6Bytes } from '../../../src/main/engine/address';
import { applyDelta, diffSockets, indexSockets } from '../../../src/main/engine/diff';
import { fullProcessName, parseStat } from '../../../src/main/engine/processes';
import { socketId, uniqueIds } from '../../../src/main/engine/socketId';
import { parsePasswd } from '../../../src/main/engine/users';
import { DeltaFilter, socketMatcher } from '../../../src/main/cli/filter';
import { csvField } from '../../../src/main/cli/format';
import { formatEndpoint, isIpv4Mapped, unmapIpv4, type Socket } from '../../../src/shared/model';
import { makeSocket } from '../../helpers/sockets';

const base: Socket = makeSocket({ id: 'x', pid: 1, pids: [1] });
const mk = (over: Partial<Socket>): Socket => ({ ...base, ...over });

describe('addresses', () => {
  it('formats IPv6 per RFC 5952 and IPv4-mapped as dotted quads', () => {
    const b = (hex: string): Uint8Array => Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
    expect(formatIpv6Bytes(b('fd00123456789abcdef0123456789abc'))).toBe('fd00:1234:5678:9abc:def0:1234:5678:9abc');
    expect(formatIpv6Bytes(b('20010db8000000000001000000000001'))).toBe('2001:db8::1:0:0:1');
    expect(formatIpv6Bytes(b('00000000000000000000000000000001'))).toBe('::1');
    expect(formatIpv6Bytes(b('00000000000000000000000000000000'))).toBe('::');
    expect(formatIpv6Bytes(b('00000000000000000000ffff7f000001'))).toBe('::ffff:127.0.0.1');
    expect(formatIpv6Bytes(b('20010db8000100000000000000000000'))).toBe('2001:db8:1::');
  });

  it('canonicalizes tool output and refuses what is not an address', () => {
    expect(canonicalAddress('[FD00:1234:0:0:0:0:0:1]')).toEqual({ address: 'fd00:1234::1', family: 6 });
    expect(canonicalAddress('fe80::1%eth0')).toEqual({ address: 'fe80::1%eth0', family: 6 });
    expect(canonicalAddress('10.0.0.1')).toEqual({ address: '10.0.0.1', family: 4 });
    for (const bad of ['fd00:1234:5678:9a', '256.1.1.1', '', '*', 'host', '1.2.3']) expect(canonicalAddress(bad), bad).toBeNull();
  });

  it('recognizes IPv4-mapped addresses and formats endpoints', () => {
    expect(isIpv4Mapped('::ffff:10.1.2.3')).toBe(true);
    expect(isIpv4Mapped('::ffff:a01:203')).toBe(false);
    expect(unmapIpv4('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(unmapIpv4('::1')).toBe('::1');
    expect(formatEndpoint('::1', 80)).toBe('[::1]:80');
    expect(formatEndpoint('1.2.3.4', 80)).toBe('1.2.3.4:80');
    expect(formatEndpoint(null, null)).toBe('*');
  });
});

describe('process names and /proc/<pid>/stat', () => {
  it('takes comm unless the kernel cut it, then the executable or argv[0] name that extends it', () => {
    expect(fullProcessName('nginx', '/usr/sbin/nginx', ['nginx: worker process'])).toBe('nginx');
    expect(fullProcessName('portwatch-long-', '/usr/bin/node', ['/tmp/portwatch-long-node-listener'])).toBe('portwatch-long-node-listener');
    expect(fullProcessName('portwatch-long-', '/tmp/portwatch-long-python-listener (deleted)', ['py'])).toBe('portwatch-long-python-listener');
    expect(fullProcessName('gnome-shell-cal', '/usr/libexec/gnome-shell-calendar-server', [])).toBe('gnome-shell-calendar-server');
    // an unrelated argv[0] never replaces comm
    expect(fullProcessName('abcdefghijklmno', '/bin/other', ['zzz'])).toBe('abcdefghijklmno');
  });

  it('parses stat lines whose comm holds spaces and parentheses', () => {
    const line = '4242 (my (odd) name) S 17 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 0 0 18446744073709551615';
    expect(parseStat(line)).toEqual({ comm: 'my (odd) name', state: 'S', ppid: 17, startTicks: 987654 });
    expect(parseStat('garbage')).toBeNull();
    expect(parseStat('1 (x) S')).toBeNull();
  });

  it('parses passwd and skips malformed lines', () => {
    const m = parsePasswd('root:x:0:0:root:/root:/bin/bash\n# c\nbroken\nbad:x:notnum:0::/:/bin/sh\nnobody:x:65534:65534::/:/usr/sbin/nologin\n');
    expect([...m]).toEqual([
      [0, 'root'],
      [65534, 'nobody'],
    ]);
  });
});

describe('ids, diffs and filtered streams', () => {
  it('keeps a connection id across states and separates listeners sharing an address', () => {
    const est = socketId('tcp', '10.0.0.1', 5000, '10.0.0.2', 80, 'ESTABLISHED', 111);
    const tw = socketId('tcp', '10.0.0.1', 5000, '10.0.0.2', 80, 'TIME_WAIT', 0);
    expect(est).toBe(tw);
    expect(socketId('tcp', '0.0.0.0', 80, null, null, 'LISTEN', 1)).not.toBe(socketId('tcp', '0.0.0.0', 80, null, null, 'LISTEN', 2));
    const dup = uniqueIds([mk({ id: 'a' }), mk({ id: 'a' }), mk({ id: 'a' })]);
    expect(dup.map((s) => s.id)).toEqual(['a', 'a#2', 'a#3']);
  });

  it('diffs and applies: state, owner and process changes count, identical sockets do not', () => {
    const prev = indexSockets([
      mk({ id: 'a' }),
      mk({ id: 'b' }),
      mk({ id: 'c' }),
      mk({ id: 'p', process: { pid: 1, ppid: 0, name: 'n', exe: null, cmdline: ['n'], uid: 0, user: 'root', startTime: 5 } }),
    ]);
    const next = indexSockets([
      mk({ id: 'a' }),
      mk({ id: 'b', state: 'CLOSE_WAIT' }),
      mk({ id: 'd' }),
      mk({ id: 'p', process: { pid: 1, ppid: 0, name: 'n', exe: null, cmdline: ['n', '-x'], uid: 0, user: 'root', startTime: 5 } }),
    ]);
    const d = diffSockets(prev, next, 7, 123);
    expect(d.seq).toBe(7);
    expect(d.added.map((s) => s.id)).toEqual(['d']);
    expect(d.removed).toEqual(['c']);
    expect(d.changed.map((s) => s.id).sort()).toEqual(['b', 'p']);
    applyDelta(prev, d);
    expect([...prev.keys()].sort()).toEqual([...next.keys()].sort());
  });

  it('a filtered stream turns owner changes into adds and removes', () => {
    const f = new DeltaFilter(socketMatcher({ pid: 5 }));
    const snap = f.snapshot({ seq: 1, takenAt: 1, source: 'procfs', sockets: [mk({ id: 'a', pid: 5, pids: [5] }), mk({ id: 'b', pid: 6, pids: [6] })] });
    expect(snap.sockets.map((s) => s.id)).toEqual(['a']);
    const d = f.delta({
      seq: 2,
      takenAt: 2,
      added: [mk({ id: 'c', pids: [5] })],
      removed: ['b'],
      changed: [mk({ id: 'a', pids: [7] }), mk({ id: 'b2', pids: [5] })],
      closed: [],
    });
    expect(d).toEqual({ seq: 2, takenAt: 2, added: [mk({ id: 'c', pids: [5] }), mk({ id: 'b2', pids: [5] })], removed: ['a'], changed: [], closed: [] });
  });

  it('quotes CSV fields only when needed', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });
});
