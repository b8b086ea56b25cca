import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatEndpoint, formatLocal, PROTOCOLS, SOCKET_STATES, type Protocol } from '../../../src/shared/model';
import { DiagParser, dumpRequest, type DiagRow } from '../../../src/main/engine/netlink/sockDiag';
import { FIXTURES } from '../../helpers/paths';
import { addBoundRows, mptcpInUse } from '../../../src/main/engine/sources/netlink';

/**
 * The sock_diag parser against dumps recorded on a real kernel (test/fixtures/netlink, see its README), checked
 * field by field against ss's view of the same moment, then against every corruption of those bytes.
 */

const DIR = join(FIXTURES, 'netlink');

/** The datagrams of a recording: each a u32 length (little-endian), then its bytes. */
function datagrams(file: string): Buffer[] {
  const all = readFileSync(join(DIR, file));
  const out: Buffer[] = [];
  for (let off = 0; off + 4 <= all.length;) {
    const n = all.readUInt32LE(off);
    out.push(all.subarray(off + 4, off + 4 + n));
    off += 4 + n;
  }
  return out;
}

function parseFile(file: string, protocol: Protocol, parser = new DiagParser()): { rows: DiagRow[]; done: boolean; errors: number } {
  const rows: DiagRow[] = [];
  let done = false;
  let errors = 0;
  for (const g of datagrams(file)) {
    const c = parser.parse(g, g.length, protocol, null, rows);
    done ||= c.done;
    errors += c.errors.length;
    expect(c.error).toBeNull();
  }
  return { rows, done, errors };
}

const SS_STATE: Record<string, string> = {
  ESTAB: 'ESTABLISHED',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2',
  'TIME-WAIT': 'TIME_WAIT',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECV',
  'LAST-ACK': 'LAST_ACK',
  LISTEN: 'LISTEN',
  UNCONN: 'UNCONN',
};

interface SsLine {
  key: string;
  inode: number;
  bytesIn: number | null;
  bytesOut: number | null;
}

/** `ss -tuanieH` records: the first line of each, plus its tcp_info line when there is one. */
function ssLines(): SsLine[] {
  const lines = readFileSync(join(DIR, 'ss.txt'), 'utf8').split('\n');
  const out: SsLine[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '' || line.startsWith('\t')) continue;
    const f = line.trim().split(/\s+/);
    const [netid, state, , , local, peer] = f as [string, string, string, string, string, string];
    const info = lines[i + 1]?.startsWith('\t') ? (lines[i + 1] as string) : '';
    const num = (name: string): number | null => {
      const m = new RegExp(`\\b${name}:(\\d+)`).exec(info);
      return m ? Number(m[1]) : null;
    };
    const inode = Number(/\bino:(\d+)/.exec(line)?.[1] ?? 'NaN');
    const remote = peer.endsWith(':*') ? '*' : peer;
    out.push({
      key: `${netid}|${SS_STATE[state] ?? state}|${local}|${remote}`,
      inode,
      bytesIn: num('bytes_received'),
      bytesOut: num('bytes_sent'),
    });
  }
  return out;
}

function keyOf(r: DiagRow, iface: (i: number) => string | null): string {
  const local = formatLocal({ localAddress: r.localAddress, localPort: r.localPort, interface: r.ifindex ? iface(r.ifindex) : null, v6only: r.v6only });
  return `${r.protocol}|${r.state}|${local}|${r.remoteAddress === null ? '*' : formatEndpoint(r.remoteAddress, r.remotePort)}`;
}

describe('sock_diag parser on recorded dumps', () => {
  const ss = ssLines();
  // the recording's interface indexes (ss names them): lo is 1, the two veths the next two
  const names = new Map<number, string>();
  const tcp = [...parseFile('tcp4.bin', 'tcp').rows, ...parseFile('tcp6.bin', 'tcp').rows];
  const udp = [...parseFile('udp4.bin', 'udp').rows, ...parseFile('udp6.bin', 'udp').rows];
  for (const r of [...tcp, ...udp]) {
    if (r.ifindex === 0) continue;
    const inode = r.inode;
    const line = ss.find((l) => l.inode === inode && inode !== 0);
    const m = line && /%([\w.-]+)/.exec(line.key);
    if (m) names.set(r.ifindex, m[1] as string);
  }
  const iface = (i: number): string | null => names.get(i) ?? null;

  it('reads every dump whole: done, no parse errors', () => {
    for (const f of ['tcp4', 'tcp6', 'tcp46', 'udp4', 'udp6', 'udplite4', 'udplite6']) {
      const p = parseFile(`${f}.bin`, f.startsWith('udplite') ? 'udplite' : f.startsWith('udp') ? 'udp' : 'tcp');
      expect(p.done, f).toBe(true);
      expect(p.errors, f).toBe(0);
    }
  });

  it('lists what ss lists, field by field: state, endpoints with interface and v6-only, inode', () => {
    const ours = [...tcp, ...udp].filter((r) => r.state !== 'BOUND');
    const mine = new Map(ours.map((r) => [keyOf(r, iface), r]));
    expect(mine.size).toBe(ours.length); // one dump: no row twice
    expect([...mine.keys()].sort()).toEqual(ss.map((l) => l.key).sort());
    for (const l of ss) {
      const r = mine.get(l.key) as DiagRow;
      expect(r.inode, l.key).toBe(Number.isNaN(l.inode) ? 0 : l.inode);
    }
  });

  it('tells device-bound, link-local, v6-only and dual-stack listeners apart', () => {
    const keys = tcp.filter((r) => r.state === 'LISTEN').map((r) => keyOf(r, iface));
    expect(keys).toContain('tcp|LISTEN|0.0.0.0%lo:41001|*');
    expect(keys).toContain('tcp|LISTEN|[fe80::1]%rva:41004|*');
    expect(keys.filter((k) => k.includes(':41004')).length).toBe(2);
    expect(keys).toContain('tcp|LISTEN|[::]:41002|*');
    expect(keys).toContain('tcp|LISTEN|*:41003|*');
  });

  it('lists the bound-only socket that ss 6.1 does not, and UDP-Lite', () => {
    expect(tcp.find((r) => r.localPort === 41005)?.state).toBe('BOUND');
    const lite = parseFile('udplite4.bin', 'udplite').rows;
    expect(lite.map((r) => [r.protocol, r.localAddress, r.localPort, r.state])).toEqual([['udplite', '127.0.0.1', 41007, 'UNCONN']]);
  });

  it('counts the bytes of each connection as the traffic that made them, and as ss does', () => {
    const world = JSON.parse(readFileSync(join(DIR, 'world.json'), 'utf8')) as { connections: Record<string, { clientSent: number; serverSent: number }> };
    for (const [port, c] of Object.entries(world.connections)) {
      const client = tcp.find((r) => r.localPort === Number(port)) as DiagRow;
      const server = tcp.find((r) => r.remotePort === Number(port)) as DiagRow;
      expect([client.bytesOut, client.bytesIn]).toEqual([c.clientSent, c.serverSent]);
      expect([server.bytesIn, server.bytesOut]).toEqual([c.clientSent, c.serverSent]);
      expect(client.rttMs).toBeGreaterThan(0);
    }
    for (const l of ss) {
      if (l.bytesOut === null || !l.key.includes('ESTABLISHED')) continue;
      const r = tcp.find((x) => x.inode === l.inode) as DiagRow;
      expect([r.bytesIn, r.bytesOut], l.key).toEqual([l.bytesIn ?? 0, l.bytesOut]);
    }
    // listeners carry no counters: zeroes there mean nothing
    for (const r of tcp.filter((x) => x.state === 'LISTEN')) expect([r.bytesIn, r.bytesOut, r.rttMs]).toEqual([null, null, null]);
  });

  it('reads destroy events with each closed connection final bytes', () => {
    const world = JSON.parse(readFileSync(join(DIR, 'world.json'), 'utf8')) as { closed: Record<string, number> };
    const ev = parseFile('destroy.bin', 'tcp', new DiagParser(true, false)).rows;
    for (const [port, n] of Object.entries(world.closed)) {
      const client = ev.find((r) => r.localPort === Number(port)) as DiagRow;
      const server = ev.find((r) => r.remotePort === Number(port)) as DiagRow;
      expect(client.bytesOut).toBe(n);
      expect(server.bytesIn).toBe(n);
      expect(client.inode).toBe(0);
    }
  });

  it('reads one TCPDIAG_GETSOCK dump of both families as the two per-family dumps', () => {
    const both = parseFile('tcp46.bin', 'tcp');
    expect([both.done, both.errors]).toEqual([true, 0]);
    const fields = (r: DiagRow): string => [keyOf(r, iface), r.family, r.inode, r.uid, r.ifindex, r.v6only, r.bytesIn, r.bytesOut].join(' ');
    expect(both.rows.map(fields).sort()).toEqual(tcp.map(fields).sort());
    expect(new Set(both.rows.map((r) => r.family))).toEqual(new Set([4, 6]));
  });

  it('adds a dump of bound-only sockets to a dump of the other states without listing any socket twice', () => {
    const all = parseFile('tcp46.bin', 'tcp').rows;
    const bound = all.filter((r) => r.state === 'BOUND');
    const rest = all.filter((r) => r.state !== 'BOUND');
    expect(bound.length).toBe(1);
    const got = [...rest];
    addBoundRows(got, rest, bound);
    expect(got.map((r) => r.inode).sort()).toEqual(all.map((r) => r.inode).sort());
    // it listened between the two walks: the rest's dump has it as a listener, and that row alone is kept
    const listening = { ...(bound[0] as DiagRow), state: 'LISTEN' as const };
    const moved = [...rest, listening];
    const after = [...moved];
    addBoundRows(after, moved, bound);
    expect(after.filter((r) => r.inode === listening.inode)).toEqual([listening]);
    expect(after.length).toBe(all.length);
  });

  it('hands back last poll rows for unchanged sockets, new ones for changed', () => {
    const parser = new DiagParser();
    const first = parseFile('tcp4.bin', 'tcp', parser).rows;
    parser.rotate();
    const again = parseFile('tcp4.bin', 'tcp', parser).rows;
    expect(again.length).toBe(first.length);
    // TIME_WAIT and request sockets have cookies too: every row is the same object
    again.forEach((r, i) => expect(r).toBe(first[i]));
    // a changed byte count makes a new row
    const g = datagrams('tcp4.bin').map((d) => Buffer.from(d));
    parser.rotate();
    const changed = parseDatagramsMutating(parser, g, (buf, at) => {
      const info = findInfo(buf, at);
      if (info >= 0) buf.writeUInt32LE(buf.readUInt32LE(info + 128) + 5, info + 128);
    });
    const est = changed.find((r) => r.state === 'ESTABLISHED') as DiagRow;
    expect(first.includes(est)).toBe(false);
  });

  it('forgets a socket that a whole poll did not list: it comes back as a new row', () => {
    const parser = new DiagParser();
    const first = parseFile('tcp4.bin', 'tcp', parser).rows;
    parser.rotate();
    parseFile('tcp6.bin', 'tcp', parser); // a poll without the IPv4 sockets
    parser.rotate();
    const again = parseFile('tcp4.bin', 'tcp', parser).rows;
    expect(again.length).toBe(first.length);
    again.forEach((r, i) => {
      expect(r).not.toBe(first[i]);
      expect(r).toEqual(first[i]);
    });
  });
});

/** Offset of the tcp_info payload of the message at `at`, or -1. */
function findInfo(b: Buffer, at: number): number {
  const end = at + b.readUInt32LE(at);
  for (let a = at + 16 + 72; a + 4 <= end;) {
    const len = b.readUInt16LE(a);
    if (len < 4) return -1;
    if (b.readUInt16LE(a + 2) === 2 && len >= 140) return a + 4;
    a += (len + 3) & ~3;
  }
  return -1;
}

function parseDatagramsMutating(parser: DiagParser, grams: Buffer[], mutate: (b: Buffer, at: number) => void): DiagRow[] {
  const rows: DiagRow[] = [];
  for (const g of grams) {
    for (let off = 0; off + 16 <= g.length; off += (g.readUInt32LE(off) + 3) & ~3) {
      if (g.readUInt16LE(off + 4) === 20) mutate(g, off);
      if (g.readUInt32LE(off) < 16) break;
    }
    parser.parse(g, g.length, 'tcp', null, rows);
  }
  return rows;
}

/** A tiny deterministic PRNG, so that a failing case can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('sock_diag parser on corrupted input', () => {
  const grams = ['tcp4.bin', 'tcp6.bin', 'tcp46.bin', 'udp6.bin', 'destroy.bin'].flatMap(datagrams);
  const valid = (r: DiagRow): boolean =>
    PROTOCOLS.includes(r.protocol) &&
    SOCKET_STATES.includes(r.state) &&
    Number.isInteger(r.localPort) &&
    r.localPort >= 0 &&
    r.localPort <= 65535 &&
    (r.remotePort === null || (r.remotePort >= 0 && r.remotePort <= 65535)) &&
    typeof r.localAddress === 'string' &&
    (r.bytesIn === null || r.bytesIn >= 0);

  it('never throws, and yields only well-formed rows, on 20,000 corruptions', () => {
    const rand = rng(20261201);
    let parsed = 0;
    let reported = 0;
    for (let k = 0; k < 20_000; k++) {
      const src = grams[Math.floor(rand() * grams.length)] as Buffer;
      const b = Buffer.from(src);
      const kind = k % 5;
      let len = b.length;
      if (kind === 0)
        len = Math.floor(rand() * b.length); // truncated
      else if (kind === 1)
        for (let i = 0; i < 1 + rand() * 8; i++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256); // bit rot
      else if (kind === 2)
        b.writeUInt32LE(Math.floor(rand() * 2 ** 32), 0); // message length anything
      else if (kind === 3) {
        // an attribute length anything
        const at = 16 + 72 + Math.floor(rand() * Math.max(1, b.length - 92));
        if (at + 2 <= b.length) b.writeUInt16LE(Math.floor(rand() * 65536), at);
      } else len = Math.floor(rand() * 200); // a short buffer
      const rows: DiagRow[] = [];
      const parser = new DiagParser(true, k % 2 === 0);
      const c = parser.parse(b, len, 'tcp', null, rows);
      parsed += rows.length;
      reported += c.errors.length;
      for (const r of rows) expect(valid(r)).toBe(true);
    }
    // the corruptions were found, and most rows still came through
    expect(reported).toBeGreaterThan(2000);
    expect(parsed).toBeGreaterThan(10_000);
  });

  it('reports a message length past the buffer and an attribute past its message, by offset', () => {
    const b = Buffer.from(datagrams('tcp4.bin')[0] as Buffer);
    b.writeUInt32LE(b.length + 100, 0);
    const c = new DiagParser().parse(b, b.length, 'tcp', null, []);
    expect(c.errors[0]).toEqual({ offset: 0, reason: expect.stringMatching(/does not fit/) });
    const d = Buffer.from(datagrams('tcp4.bin')[0] as Buffer);
    d.writeUInt16LE(60000, 16 + 72);
    const rows: DiagRow[] = [];
    const e = new DiagParser().parse(d, d.length, 'tcp', null, rows);
    expect(e.errors[0]?.reason).toMatch(/attribute .* does not fit/);
    // the other messages of the datagram still count
    expect(rows.length).toBeGreaterThan(0);
  });

  it('ignores a buffer length beyond the buffer', () => {
    const b = datagrams('tcp4.bin')[0] as Buffer;
    expect(() => new DiagParser().parse(b, b.length * 4, 'tcp', null, [])).not.toThrow();
  });
});

describe("/proc/net/protocols' MPTCP count", () => {
  it('sums the sockets column of MPTCP and MPTCPv6 (recorded with one listener of each)', () => {
    expect(mptcpInUse(readFileSync(join(DIR, 'protocols.txt'), 'utf8'))).toBe(2);
  });
  it('is unknown (null) without MPTCP lines or with a column that is not a number', () => {
    expect(mptcpInUse('protocol  size sockets\nTCP 2304 5\n')).toBeNull();
    expect(mptcpInUse('MPTCP 1936 x\n')).toBeNull();
    expect(mptcpInUse('MPTCP 1936\n')).toBeNull();
    expect(mptcpInUse('')).toBeNull();
  });
});

describe('sock_diag failures', () => {
  it('reads the errno a failed dump ends with (no raw_diag in this kernel: ENOENT)', () => {
    const g = datagrams('raw4.bin');
    expect(g.length).toBe(1);
    const c = new DiagParser().parse(g[0] as Buffer, (g[0] as Buffer).length, 'raw', null, []);
    expect([c.done, c.error]).toEqual([true, -2]);
  });
});

describe('sock_diag requests', () => {
  it('asks for tcp_info on TCP, every state, and carries MPTCP in an attribute', () => {
    const tcp = dumpRequest(9, { family: 6, protocol: 'tcp', states: 0xffffffff });
    expect(tcp.length).toBe(72);
    expect([tcp.readUInt32LE(0), tcp.readUInt16LE(4), tcp.readUInt16LE(6), tcp.readUInt32LE(8)]).toEqual([72, 20, 0x301, 9]);
    expect([tcp[16], tcp[17], tcp[18], tcp.readUInt32LE(20)]).toEqual([10, 6, 2, 0xffffffff]);
    const mptcp = dumpRequest(1, { family: 4, protocol: 'mptcp', states: 1 << 10 });
    expect(mptcp.length).toBe(80);
    expect([mptcp.readUInt16LE(72), mptcp.readUInt16LE(74), mptcp.readUInt32LE(76)]).toEqual([8, 3, 262]);
    expect(() => dumpRequest(1, { family: 4, protocol: 'icmp', states: 1 })).toThrow(/no dump of ICMP/);
  });

  it('asks for TCP of both families with the original request (TCPDIAG_GETSOCK, struct inet_diag_req)', () => {
    const both = dumpRequest(5, { family: 'both', protocol: 'tcp', states: 0xffffffff });
    expect(both.length).toBe(76);
    expect([both.readUInt32LE(0), both.readUInt16LE(4), both.readUInt16LE(6), both.readUInt32LE(8)]).toEqual([76, 18, 0x301, 5]);
    // idiag_ext asks for tcp_info; idiag_states follows the 48-byte inet_diag_sockid
    expect([both[19], both.readUInt32LE(68), both.readUInt32LE(72)]).toEqual([2, 0xffffffff, 0]);
    expect(dumpRequest(5, { family: 'both', protocol: 'tcp', states: 1 << 10, info: false })[19]).toBe(0);
    expect(() => dumpRequest(1, { family: 'both', protocol: 'udp', states: 1 })).toThrow(/TCP's alone/);
  });
});
