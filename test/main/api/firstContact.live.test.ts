import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server, type Socket as NetSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineApi } from '../../../src/main/api/engineApi';
import { HistoryStore } from '../../../src/main/engine/history/store';
import { HOUR_MS, hourOf } from '../../../src/main/engine/history/tracker';
import { MonitorHost } from '../../../src/main/engine/monitorHost';
import type { Alert } from '../../../src/shared/api';
import type { RecordingStatus } from '../../../src/shared/recording';
import { waitFor } from '../../helpers/children';
import { WORKER } from '../../helpers/paths';

/**
 * First-contact alerts over real parts: the engine's MonitorHost (real netlink polls), its recording into a
 * real libsql history that already holds two days of flows, and real TCP connections from this process to this
 * machine's own non-loopback address (loopback destinations never alert). A destination the history knows is
 * quiet; a new one alerts once, medium, and not again; loopback not at all.
 */

/** This machine's first non-loopback IPv4 address, to reach without leaving it. */
async function ownAddress(): Promise<string | null> {
  const { networkInterfaces } = await import('node:os');
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return null;
}

function listen(host: string): Promise<Server> {
  const server = createServer((sock) => {
    sock.on('error', () => {});
    sock.on('data', () => {});
  });
  return new Promise((resolve) => server.listen(0, host, () => resolve(server)));
}

function connect(host: string, port: number): Promise<NetSocket> {
  return new Promise((resolve, reject) => {
    const c = createConnection({ host, port }, () => resolve(c));
    c.on('error', reject);
  });
}

let dir: string;
let host: MonitorHost;
let api: EngineApi;
const servers: Server[] = [];
const clients: NetSocket[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-first-contact-'));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of servers.splice(0)) s.close();
  await api?.close();
  await host?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A history of two days in which this program (the test's own executable) has reached `addr:port` before. */
function seedHistory(db: string, addr: string, port: number): void {
  const program = readlinkSync('/proc/self/exe');
  const past = Date.now() - 2 * 24 * HOUR_MS;
  const seeded = HistoryStore.open(db, { mode: 'write', command: 'test' });
  if (!seeded.ok) throw new Error(seeded.message);
  seeded.store.write({
    events: [],
    flows: [
      {
        hour: hourOf(past),
        program,
        name: 'node',
        remoteAddress: addr,
        port,
        protocol: 'tcp',
        direction: 'out',
        opened: 1,
        closed: 1,
        bytesIn: 10,
        bytesOut: 10,
        firstSeen: past,
        lastSeen: past,
      },
    ],
  });
  seeded.store.close();
}

/**
 * Starts the engine over `db` once `ready` says its history status is the expected one, turns first contacts
 * on, then connects to a known, a loopback and a fresh destination, and the fresh one again: returns the
 * first-contact alerts raised.
 */
async function contactsAfter(
  db: string,
  ready: (s: RecordingStatus) => boolean,
  what: string,
  before: () => void = () => undefined,
): Promise<{ alerts: Alert[]; addr: string; fresh: number }> {
  const address = await ownAddress();
  expect(address, 'this machine needs a non-loopback IPv4 address').not.toBeNull();
  const addr = address as string;
  const known = await listen(addr);
  const fresh = await listen(addr);
  const local = await listen('127.0.0.1');
  servers.push(known, fresh, local);
  const port = (s: Server): number => (s.address() as AddressInfo).port;
  seedHistory(db, addr, port(known));
  before();
  return { ...(await watch(db, ready, what, addr, port(known), port(local), port(fresh))), addr, fresh: port(fresh) };
}

async function watch(
  db: string,
  ready: (s: RecordingStatus) => boolean,
  what: string,
  addr: string,
  known: number,
  local: number,
  fresh: number,
): Promise<{ alerts: Alert[] }> {
  host = new MonitorHost({ intervalMs: 250, workerPath: WORKER });
  api = new EngineApi(host, { historyPath: db, record: true, historyCommand: 'portwatch test' });
  const alerts: Alert[] = [];
  api.subscribe((m) => {
    if (m.event === 'alert' && m.payload.kind === 'first-contact') alerts.push(m.payload);
  });
  host.start();
  await waitFor(
    async () => {
      const r = await api.call('getHistoryStatus', []);
      return r.ok && ready(r.value as RecordingStatus) ? true : undefined;
    },
    30_000,
    what,
  );
  expect(await api.call('setFirstContact', [true])).toMatchObject({ ok: true, value: { firstContact: true, learningMs: 24 * HOUR_MS } });

  let deltas = 0;
  host.on('delta', () => deltas++);
  const polls = async (n: number): Promise<void> => {
    const from = deltas;
    await waitFor(() => (deltas >= from + n ? true : undefined), 60_000, `${n} polls`);
  };
  await polls(1);
  clients.push(await connect(addr, known), await connect('127.0.0.1', local), await connect(addr, fresh));
  await waitFor(() => (alerts.length > 0 ? true : undefined), 60_000, 'a first-contact alert');
  // the same destination again, from another connection: learned now
  clients.push(await connect(addr, fresh));
  await polls(3);
  return { alerts };
}

function expectOneAlert(alerts: Alert[], addr: string, fresh: number): void {
  expect(alerts).toHaveLength(1);
  expect(alerts[0]).toMatchObject({
    kind: 'first-contact',
    severity: 'medium',
    notify: false,
    remoteAddress: addr,
    remotePort: fresh,
    pid: process.pid,
  });
  expect(alerts[0]?.message).toMatch(new RegExp(`contacted tcp ${addr.replace(/\./g, '\\.')}:${fresh} for the first time`));
}

describe('first-contact alerts (live)', () => {
  it('after learning, a new destination alerts once (medium, not notified); a learned one and loopback never', async () => {
    const db = join(dir, 'history.db');
    const { alerts, addr, fresh } = await contactsAfter(db, (s) => s.state === 'recording', 'recording');
    expectOneAlert(alerts, addr, fresh);
  }, 120_000);

  it('while another process records the history, contacts are learned from it through the reader, and alert the same', async () => {
    const db = join(dir, 'history.db');
    // the other recorder: a writer holding the history's lock from before the engine starts to the end
    let other: HistoryStore | null = null;
    const { alerts, addr, fresh } = await contactsAfter(
      db,
      (s) => s.state === 'paused' && s.reason === 'locked',
      'paused: another process records',
      () => {
        const o = HistoryStore.open(db, { mode: 'write', command: 'portwatch record (the other)' });
        if (!o.ok) throw new Error(o.message);
        other = o.store;
      },
    );
    (other as HistoryStore | null)?.close();
    expectOneAlert(alerts, addr, fresh);
  }, 120_000);
});
