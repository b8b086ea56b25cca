import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AddressDecoder, parseProcNet, RowCache, type ProcNetRow } from '../../../src/main/engine/sources/procNet';
import { TCP_STATES, type Family, type Protocol } from '../../../src/shared/model';
import { FIXTURES } from '../../helpers/paths';
import { parseSs, sameAddress } from '../../helpers/ss';

const TABLES: Array<[string, Protocol, Family]> = [
  ['tcp', 'tcp', 4],
  ['tcp6', 'tcp', 6],
  ['udp', 'udp', 4],
  ['udp6', 'udp', 6],
];
const NAMESPACES = ['pwfx-a', 'pwfx-b'];
const le = new AddressDecoder(true);
const read = (ns: string, file: string): string => readFileSync(join(FIXTURES, 'procfs', ns, file), 'latin1');

function parseNamespace(ns: string): ProcNetRow[] {
  return TABLES.flatMap(([file, protocol, family]) => {
    const { rows, errors } = parseProcNet(read(ns, file), protocol, family, le, file);
    expect(errors).toEqual([]);
    expect(rows).toHaveLength(read(ns, file).trim().split('\n').length - 1);
    return rows;
  });
}

describe('parseProcNet on real recorded tables', () => {
  for (const ns of NAMESPACES) {
    it(`${ns}: every socket ss decoded from the same kernel appears, field for field`, () => {
      const ours = parseNamespace(ns);
      const ss = parseSs(read(ns, 'ss.txt'));
      expect(ss.length).toBe(ours.length);
      for (const s of ss) {
        const matches = ours.filter(
          (o) =>
            o.protocol === s.protocol &&
            o.localPort === s.localPort &&
            o.remotePort === s.remotePort &&
            o.state === s.state &&
            o.inode === s.inode &&
            sameAddress(s.localAddress, o.localAddress) &&
            sameAddress(s.remoteAddress, o.remoteAddress),
        );
        expect(matches, `ss row ${JSON.stringify(s)}`).toHaveLength(1);
        if (s.uid) expect(matches[0]?.uid).toBe(s.uid);
      }
    });
  }

  it('covers every TCP state the kernel prints, both UDP states, and uids', () => {
    const all = NAMESPACES.flatMap(parseNamespace);
    const tcpStates = new Set(all.filter((r) => r.protocol === 'tcp').map((r) => r.state));
    // The kernel never lists a TCP socket in CLOSE (bound-only sockets are in no table): see fixtures README.
    for (const s of TCP_STATES.filter((x) => x !== 'CLOSE' && x !== 'BOUND')) expect(tcpStates, s).toContain(s);
    expect(new Set(all.filter((r) => r.protocol === 'udp').map((r) => r.state))).toEqual(new Set(['UNCONN', 'ESTABLISHED']));
    expect(all.some((r) => r.uid === 65534)).toBe(true);
    for (const r of all) {
      if (r.state === 'LISTEN' || r.state === 'UNCONN') expect([r.remoteAddress, r.remotePort]).toEqual([null, null]);
      else expect(r.remotePort).not.toBeNull();
    }
  });

  it('gives complete RFC 5952 IPv6 and recognizable IPv4-mapped addresses', () => {
    const all = NAMESPACES.flatMap(parseNamespace);
    const addrs = new Set(all.flatMap((r) => [r.localAddress, r.remoteAddress]));
    expect(addrs).toContain('fd00:1234:5678:9abc:def0:1234:5678:9abc');
    expect(addrs).toContain('fd00:1234:5678:9abc::1');
    expect(addrs).toContain('::1');
    expect(addrs).toContain('::');
    expect(addrs).toContain('::ffff:127.0.0.1');
    for (const a of addrs) if (a && a.includes(':')) expect(a).toBe(a.toLowerCase());
  });

  it('reads a TCP CLOSE row and big-endian tables', () => {
    const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    const close = `${header}   0: 0100007F:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0\n`;
    const r = parseProcNet(close, 'tcp', 4, le);
    expect(r.errors).toEqual([]);
    expect(r.rows[0]).toMatchObject({ state: 'CLOSE', localAddress: '127.0.0.1', localPort: 8080, remoteAddress: null, uid: 1000, inode: 4242 });
    const be = parseProcNet(close.replace('0100007F', '7F000001'), 'tcp', 4, new AddressDecoder(false));
    expect(be.rows[0]?.localAddress).toBe('127.0.0.1');
    const v6be = new AddressDecoder(false).decode('FD00123456789ABCDEF0123456789ABC');
    expect(v6be).toBe('fd00:1234:5678:9abc:def0:1234:5678:9abc');
  });
});

describe('parseProcNet fuzz: never throws, reports bad lines, keeps good ones', () => {
  // A small deterministic PRNG: failures reproduce.
  let seed = 0x2545f491;
  const rand = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const good = NAMESPACES.flatMap((ns) => TABLES.map(([file, protocol, family]) => ({ protocol, family, lines: read(ns, file).trim().split('\n') })));

  it("survives 5000 mutated tables, and parsing with the last poll's rows in hand changes no result", () => {
    const cache = new RowCache();
    const alphabet = '0123456789ABCDEF: \t\n\u0000xyz-()';
    for (let i = 0; i < 5000; i++) {
      const t = good[rand(good.length)]!;
      const [header, ...body] = t.lines;
      const lines = [header as string];
      const expectedGood: string[] = [];
      for (const line of body) {
        const mode = rand(5);
        if (mode === 0)
          lines.push(line.slice(0, rand(line.length))); // truncated
        else if (mode === 1) {
          const chars = [...line];
          for (let k = 0; k < 3; k++) chars[rand(chars.length)] = alphabet[rand(alphabet.length)] as string;
          lines.push(chars.join(''));
        } else if (mode === 2) lines.push(Array.from({ length: rand(120) }, () => alphabet[rand(alphabet.length)]).join(''));
        else {
          lines.push(line);
          expectedGood.push(line);
        }
      }
      const text = lines.join('\n');
      let result!: ReturnType<typeof parseProcNet>;
      expect(() => (result = parseProcNet(text, t.protocol, t.family, le))).not.toThrow();
      // the same inodes keep coming back with mutated fields: a reused row must never hide a change
      cache.rotate();
      expect(parseProcNet(text, t.protocol, t.family, le, undefined, cache)).toEqual(result);
      // every untouched line is kept
      const kept = parseProcNet([header, ...expectedGood].join('\n'), t.protocol, t.family, le).rows;
      for (const row of kept) expect(result.rows).toContainEqual(row);
      for (const e of result.errors) {
        expect(e.line).toBeGreaterThan(1);
        expect(e.reason.length).toBeGreaterThan(0);
      }
      expect(result.rows.length + result.errors.length).toBeLessThanOrEqual(text.split('\n').length);
    }
  });

  it('reports a garbage file with line numbers and reasons', () => {
    const r = parseProcNet('not a header\n 0: zz\n\n 1: 0100007F:1F90 00000000:0000 0A\n', 'tcp', 4, le);
    expect(r.rows).toEqual([]);
    expect(r.errors.map((e) => e.line)).toEqual([1, 2, 4]);
    expect(r.errors[0]?.reason).toMatch(/header/);
    expect(r.errors[1]?.reason).toMatch(/at least 10 fields/);
  });
});
