import { describe, expect, it } from 'vitest';
import { inert } from '../../../src/shared/inert';
import { describeNoOwner, formatEndpoint, formatLocal, PROTOCOLS, type Socket } from '../../../src/shared/model';
import { compareText, formatTable, inertCell, sortForListing } from '../../../src/main/cli/format';
import { makeProcess, makeSocket } from '../../helpers/sockets';

/**
 * `list`'s order and table, made cheap (no ICU collator, a fast path around inert()) without changing what they
 * print: each is checked against what it replaced, on many made-up sockets and strings.
 */

/** A small deterministic generator (mulberry32): the same cases on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = random(20261201);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const hex = (): string => Math.floor(rand() * 0x10000).toString(16);

function address(): string {
  switch (Math.floor(rand() * 6)) {
    case 0:
      return pick(['0.0.0.0', '127.0.0.1', '::', '::1', '10.0.0.1', '1.2.3.4', '192.168.1.10', 'fe80::1']);
    case 1:
      return [0, 0, 0, 0].map(() => String(Math.floor(rand() * 256))).join('.');
    case 2:
      return `::ffff:${[0, 0, 0, 0].map(() => String(Math.floor(rand() * 256))).join('.')}`;
    case 3:
      return `${hex()}:${hex()}::${hex()}`;
    case 4:
      return `::${hex()}`;
    default:
      return `2001:db8:${hex()}:${rand() < 0.5 ? ':' : `${hex()}:`}${hex()}`;
  }
}

function socket(): Socket {
  const listening = rand() < 0.3;
  const remote = listening || rand() < 0.1 ? null : address();
  return makeSocket({
    id: String(rand()),
    protocol: pick(PROTOCOLS),
    listening,
    localAddress: address(),
    localPort: pick([0, 22, 80, 443, 8080, Math.floor(rand() * 65536)]),
    remoteAddress: remote,
    remotePort: remote === null ? null : pick([80, 443, Math.floor(rand() * 65536)]),
  });
}

/** sortForListing as it was, with localeCompare, in the root locale (what en-US and C.UTF-8 use). */
function sortedBefore(sockets: readonly Socket[]): Socket[] {
  const collator = new Intl.Collator('en-US');
  return [...sockets].sort(
    (a, b) =>
      Number(b.listening) - Number(a.listening) ||
      collator.compare(a.protocol, b.protocol) ||
      a.localPort - b.localPort ||
      collator.compare(a.localAddress, b.localAddress) ||
      collator.compare(a.remoteAddress ?? '', b.remoteAddress ?? '') ||
      (a.remotePort ?? 0) - (b.remotePort ?? 0),
  );
}

/** formatTable as it was: a row of cells per socket, each through inert(), lines joined and trimmed. */
function tableBefore(sockets: readonly Socket[]): string {
  const owner = (s: Socket): string =>
    s.process ? s.process.name : s.noOwner !== null ? `(${describeNoOwner(s.noOwner)})` : s.ownerHidden ? `(${describeNoOwner('hidden')})` : '-';
  const namespaces = sockets.some((s) => s.netns !== null);
  const header = ['PROTO', 'LOCAL', 'REMOTE', 'STATE', 'PID', 'USER', ...(namespaces ? ['NETNS'] : []), 'PROCESS'];
  const rows = sockets.map((s) =>
    [
      `${s.protocol}${s.family === 6 ? '6' : ''}`,
      formatLocal(s) + (s.incomplete ? ' (cut)' : ''),
      formatEndpoint(s.remoteAddress, s.remotePort),
      s.state,
      s.pid === null ? '-' : s.pids.length > 1 ? `${s.pid} +${s.pids.length - 1}` : String(s.pid),
      s.user ?? (s.uid === null ? '-' : String(s.uid)),
      ...(namespaces ? [s.netns === null ? '-' : (s.container ?? s.netns)] : []),
      owner(s),
    ].map(inert),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

describe('list: order', () => {
  it('is the order localeCompare gave, for every kind of address, protocol and port', () => {
    for (let round = 0; round < 20; round++) {
      const sockets = Array.from({ length: 500 }, socket);
      // many equal ports and addresses, so that every key of the order is reached
      for (const s of sockets.slice(0, 200)) s.localPort = 80;
      expect(sortForListing(sockets).map((s) => s.id)).toEqual(sortedBefore(sockets).map((s) => s.id));
    }
  });

  it('orders addresses as the collator does: :: and ::1 before 0.0.0.0, 1.2.3.4 before 10.0.0.1, hex after digits', () => {
    const addresses = ['fe80::1', '10.0.0.1', '0.0.0.0', '::1', '1.2.3.4', '::', '2001:db8::1', '::ffff:127.0.0.1', '1::', '1.', ''];
    const expected = [...addresses].sort(new Intl.Collator('en-US').compare);
    expect([...addresses].sort(compareText)).toEqual(expected);
    expect(expected.slice(0, 5)).toEqual(['', '::', '::1', '::ffff:127.0.0.1', '0.0.0.0']);
  });

  it('compareText agrees with the collator on printable ASCII, case and punctuation included', () => {
    const collator = new Intl.Collator('en-US');
    const alphabet = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~';
    const text = (): string => Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick([...alphabet])).join('');
    for (let i = 0; i < 20000; i++) {
      const a = text();
      const b = rand() < 0.2 ? a.toUpperCase() : text();
      expect(Math.sign(compareText(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(Math.sign(collator.compare(a, b)));
    }
  });

  it('keeps the protocols in alphabetical order and listeners first', () => {
    const sockets = PROTOCOLS.map((protocol, i) => makeSocket({ id: protocol, protocol, listening: i % 2 === 0 }));
    const ids = sortForListing(sockets).map((s) => s.id);
    const listeners = PROTOCOLS.filter((_, i) => i % 2 === 0).sort();
    const others = PROTOCOLS.filter((_, i) => i % 2 === 1).sort();
    expect(ids).toEqual([...listeners, ...others]);
  });
});

describe('list: table', () => {
  it('inertCell is inert(), for plain text and for text with anything to escape', () => {
    const samples = ['', 'nginx', 'a\\b', 'tab\there', '\x1b[2J', 'café', '\u202eevil', 'x\x7f', 'ok ', '~', ' [::1]:80', '\ud800'];
    for (let i = 0; i < 2000; i++) samples.push(Array.from({ length: Math.floor(rand() * 6) }, () => String.fromCharCode(Math.floor(rand() * 0x100))).join(''));
    for (const s of samples) expect(inertCell(s), JSON.stringify(s)).toBe(inert(s));
  });

  it('prints what the table printed before, for any sockets, owners, users and namespaces', () => {
    const names = ['nginx', '', 'trailing  ', 'tab\tname', '\x1b[2Jevil', 'café', 'node', 'a\u3000', '-'];
    for (let round = 0; round < 30; round++) {
      const sockets = Array.from({ length: 60 }, () => {
        const s = socket();
        const pid = rand() < 0.3 ? null : Math.floor(rand() * 99999) + 1;
        return {
          ...s,
          pid,
          pids: pid === null ? [] : rand() < 0.2 ? [pid, pid + 1] : [pid],
          user: rand() < 0.2 ? null : pick(['root', 'nobody', 'us\x07er']),
          uid: rand() < 0.5 ? null : 1000,
          family: pick([4, 6] as const),
          v6only: pick([null, true, false]),
          interface: rand() < 0.1 ? 'eth0' : null,
          incomplete: rand() < 0.05 ? (true as const) : undefined,
          noOwner: pid === null && rand() < 0.5 ? pick(['closed', 'hidden', 'pid-namespace', 'not-found'] as const) : null,
          ownerHidden: rand() < 0.2,
          netns: round % 3 === 0 && rand() < 0.3 ? 'net:[4026532281]' : null,
          container: rand() < 0.5 ? 'abc123' : null,
          process: pid !== null && rand() < 0.8 ? makeProcess(pid, pick(names)) : null,
        };
      });
      expect(formatTable(sockets)).toBe(tableBefore(sockets));
    }
    expect(formatTable([])).toBe('PROTO  LOCAL  REMOTE  STATE  PID  USER  PROCESS\n');
  });
});
