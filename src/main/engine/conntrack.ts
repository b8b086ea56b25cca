import { readFileSync } from 'node:fs';
import type { Socket } from '../../shared/model';
import { canonicalAddress } from './address';

/*
 * UDP byte counters from netfilter's connection tracking, where the kernel keeps no per-socket ones. Only where
 * conntrack accounting is on (`net.netfilter.nf_conntrack_acct`, per network namespace; Portwatch never turns it
 * on by itself) and /proc/net/nf_conntrack is readable (root). Its byte counts are whole IP packets, not payload.
 * The table is input like any other: a line that does not parse is skipped and counted, never thrown.
 */

export interface ConntrackTuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  bytes: number;
}

/** One UDP flow: the direction that opened it (`orig`) and the answer (`reply`). */
export interface ConntrackFlow {
  protocol: 'udp' | 'udplite';
  orig: ConntrackTuple;
  reply: ConntrackTuple;
}

/** At most this much of the table is read (about 200,000 flows). */
export const MAX_CONNTRACK_BYTES = 64 << 20;

const FIELD = /(src|dst|sport|dport|bytes)=(\S+)/g;

function tuple(fields: Map<string, string>): ConntrackTuple | null {
  const src = canonicalAddress(fields.get('src') ?? '');
  const dst = canonicalAddress(fields.get('dst') ?? '');
  const sport = Number(fields.get('sport'));
  const dport = Number(fields.get('dport'));
  const bytes = Number(fields.get('bytes'));
  if (!src || !dst || !Number.isInteger(sport) || !Number.isInteger(dport) || sport > 65535 || dport > 65535) return null;
  if (!Number.isSafeInteger(bytes) || bytes < 0) return null;
  return { src: src.address, dst: dst.address, sport, dport, bytes };
}

/**
 * The UDP and UDP-Lite flows of a /proc/net/nf_conntrack text. Lines without byte counts (accounting off) give
 * no flows; `skipped` counts lines of those protocols that did not parse.
 */
export function parseConntrack(text: string): { flows: ConntrackFlow[]; skipped: number } {
  const flows: ConntrackFlow[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    // `ipv4     2 udp      17 30 src=... dst=... sport=... dport=... packets=1 bytes=128 [UNREPLIED] src=...`
    const m = /^ipv[46]\s+\d+\s+(udp|udplite)\s+\d+\s+\d+\s/.exec(line);
    if (!m) continue;
    const halves: Array<Map<string, string>> = [new Map(), new Map()];
    let half = 0;
    for (const f of line.matchAll(FIELD)) {
      const key = f[1] as string;
      const target = halves[half] as Map<string, string>;
      if (key === 'src' && target.has('src')) {
        if (half === 1) break;
        half = 1;
      }
      (halves[half] as Map<string, string>).set(key, f[2] as string);
    }
    if (!(halves[0] as Map<string, string>).has('bytes')) continue; // accounting off: nothing to count
    const orig = tuple(halves[0] as Map<string, string>);
    const reply = tuple(halves[1] as Map<string, string>);
    if (!orig || !reply) {
      skipped++;
      continue;
    }
    flows.push({ protocol: m[1] as 'udp' | 'udplite', orig, reply });
  }
  return { flows, skipped };
}

/** The namespace's accounting switch: true, false, or null when conntrack is not there (module not loaded). */
export function readConntrackAcct(sysRoot = '/proc/sys'): boolean | null {
  try {
    return readFileSync(`${sysRoot}/net/netfilter/nf_conntrack_acct`, 'latin1').trim() === '1';
  } catch {
    return null;
  }
}

/** The table of the calling thread's namespace, bounded; null when it cannot be read (not root, no conntrack). */
export function readConntrackTable(path = '/proc/net/nf_conntrack'): string | null {
  try {
    const text = readFileSync(path, 'latin1');
    return text.length > MAX_CONNTRACK_BYTES ? text.slice(0, text.lastIndexOf('\n', MAX_CONNTRACK_BYTES) + 1) : text;
  } catch {
    return null;
  }
}

const WILDCARD = new Set(['0.0.0.0', '::']);

function flowKey(f: ConntrackFlow): string {
  return `${f.protocol}|${f.orig.src}|${f.orig.sport}|${f.orig.dst}|${f.orig.dport}`;
}

/**
 * Per-socket UDP counters that only go up, from flows that come and go (a UDP flow expires after 30 s to 3 min
 * of silence, and its bytes with it): each poll adds what each flow grew by, a new flow all its bytes. A
 * connected socket takes the flows of its four-tuple; an unconnected one (a server, or a client using sendto)
 * every flow to or from its local port and address.
 */
export class ConntrackCounters {
  private lastFlows = new Map<string, { orig: number; reply: number }>();
  private readonly totals = new Map<string, { bytesIn: number; bytesOut: number }>();
  /** Last poll's patched socket per id, and the source object it was made from: unchanged, it is handed out again. */
  private patched = new Map<string, { raw: Socket; out: Socket }>();

  /**
   * Sockets with bytesIn/bytesOut set from conntrack where the kernel gave none (new objects where they
   * changed); only those of namespace `netns` (null: Portwatch's own) are looked at.
   */
  apply(sockets: readonly Socket[], flows: readonly ConntrackFlow[], netns: string | null = null): Socket[] {
    const byLocal = new Map<string, Socket>();
    const byTuple = new Map<string, Socket>();
    for (const s of sockets) {
      if ((s.protocol !== 'udp' && s.protocol !== 'udplite') || s.bytesIn !== null || s.netns !== netns) continue;
      if (s.remoteAddress !== null && s.remotePort !== null)
        byTuple.set(`${s.protocol}|${s.localAddress}|${s.localPort}|${s.remoteAddress}|${s.remotePort}`, s);
      else byLocal.set(`${s.protocol}|${s.localAddress}|${s.localPort}`, s);
    }
    if (byLocal.size === 0 && byTuple.size === 0) return sockets as Socket[];
    const find = (protocol: string, address: string, port: number, peer: string, peerPort: number): Socket | undefined => {
      const mapped = address.includes('.') ? `::ffff:${address}` : null;
      return (
        byTuple.get(`${protocol}|${address}|${port}|${peer}|${peerPort}`) ??
        (mapped ? byTuple.get(`${protocol}|${mapped}|${port}|::ffff:${peer}|${peerPort}`) : undefined) ??
        byLocal.get(`${protocol}|${address}|${port}`) ??
        (mapped ? byLocal.get(`${protocol}|${mapped}|${port}`) : undefined) ??
        byLocal.get(`${protocol}|${address.includes(':') ? '::' : '0.0.0.0'}|${port}`) ??
        (address.includes('.') ? byLocal.get(`${protocol}|::|${port}`) : undefined)
      );
    };
    const flowsNow = new Map<string, { orig: number; reply: number }>();
    for (const f of flows) {
      const key = flowKey(f);
      const before = this.lastFlows.get(key);
      flowsNow.set(key, { orig: f.orig.bytes, reply: f.reply.bytes });
      const grewOrig = before && f.orig.bytes >= before.orig ? f.orig.bytes - before.orig : f.orig.bytes;
      const grewReply = before && f.reply.bytes >= before.reply ? f.reply.bytes - before.reply : f.reply.bytes;
      // the sender of the first packet, and the end it went to: each may be a socket of this namespace
      const sender = find(f.protocol, f.orig.src, f.orig.sport, f.orig.dst, f.orig.dport);
      const receiver = WILDCARD.has(f.orig.dst) ? undefined : find(f.protocol, f.orig.dst, f.orig.dport, f.orig.src, f.orig.sport);
      if (sender) this.add(sender.id, grewReply, grewOrig);
      if (receiver && receiver !== sender) this.add(receiver.id, grewOrig, grewReply);
    }
    this.lastFlows = flowsNow;
    const live = new Set<string>();
    const patched = new Map<string, { raw: Socket; out: Socket }>();
    const out = sockets.map((s) => {
      const t = s.netns === netns ? this.totals.get(s.id) : undefined;
      if (!t) return s;
      live.add(s.id);
      const last = this.patched.get(s.id);
      const next =
        last && last.raw === s && last.out.bytesIn === t.bytesIn && last.out.bytesOut === t.bytesOut
          ? last.out
          : { ...s, bytesIn: t.bytesIn, bytesOut: t.bytesOut };
      patched.set(s.id, { raw: s, out: next });
      return next;
    });
    this.patched = patched;
    for (const id of this.totals.keys()) if (!live.has(id)) this.totals.delete(id);
    return out;
  }

  private add(id: string, bytesIn: number, bytesOut: number): void {
    const t = this.totals.get(id);
    if (t) {
      t.bytesIn += bytesIn;
      t.bytesOut += bytesOut;
    } else this.totals.set(id, { bytesIn, bytesOut });
  }
}
