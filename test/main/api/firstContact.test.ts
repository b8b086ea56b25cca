import { describe, expect, it } from 'vitest';
import { Alerts } from '../../../src/main/api/alerts';
import { FirstContacts } from '../../../src/main/api/firstContact';
import type { Alert } from '../../../src/shared/api';
import type { ClosedConnection, Delta, Socket } from '../../../src/shared/model';
import { makeProcess, makeSocket } from '../../helpers/sockets';

const HOUR = 3_600_000;
const curl = makeProcess(4242, 'curl', { exe: '/usr/bin/curl', cmdline: ['curl', 'https://example.org'] });

function out(remote: string, port: number, local = 50000): Socket {
  return makeSocket({
    id: `tcp|10.0.0.2|${local}|${remote}|${port}`,
    localAddress: '10.0.0.2',
    localPort: local,
    remoteAddress: remote,
    remotePort: port,
    state: 'ESTABLISHED',
    listening: false,
    pid: curl.pid,
    pids: [curl.pid],
    uid: 1000,
    process: curl,
    direction: 'out',
  });
}

const added = (seq: number, ...sockets: Socket[]): Delta => ({ seq, takenAt: seq, added: sockets, removed: [], changed: [], closed: [] });

function setup(
  since: number | null,
  keys: string[] = [],
  truncated = false,
): { clock: { t: number }; alerts: Alert[]; service: Alerts; contacts: FirstContacts } {
  const clock = { t: 100 * HOUR };
  const alerts: Alert[] = [];
  const service = new Alerts({ rules: () => [], onAlert: (a) => alerts.push(a), now: () => clock.t });
  service.setFirstContact(true);
  const contacts = new FirstContacts({
    onContact: (s) => service.contact(s),
    enabled: () => service.settings().firstContact,
    learningMs: () => service.settings().learningMs,
    now: () => clock.t,
  });
  contacts.load({ keys, truncated, since }, null);
  return { clock, alerts, service, contacts };
}

describe('FirstContacts: learning mode', () => {
  it('learns silently for the learning period, then a new destination alerts once; a learned one never', () => {
    const { clock, alerts, contacts } = setup(null);
    contacts.delta(added(1, out('93.184.216.34', 443)));
    expect(alerts).toHaveLength(0);
    clock.t += 24 * HOUR;
    contacts.delta(added(2, out('93.184.216.34', 443, 50001), out('198.51.100.7', 443)));
    contacts.delta(added(3, out('198.51.100.7', 443, 50002)));
    expect(alerts.map((a) => [a.kind, a.severity, a.remoteAddress, a.remotePort, a.notify, a.summary])).toEqual([
      ['first-contact', 'medium', '198.51.100.7', 443, false, 'curl'],
    ]);
  });

  it('knows what the history learned: exe, remote host, remote port and protocol, each', () => {
    const { alerts, contacts } = setup(0, ['/usr/bin/curl|93.184.216.34|443|tcp']);
    contacts.delta(added(1, out('93.184.216.34', 443)));
    expect(alerts).toHaveLength(0);
    contacts.delta(added(2, out('93.184.216.34', 80)));
    expect(alerts).toHaveLength(1);
  });

  it('never alerts for loopback destinations, inbound connections or listeners', () => {
    const { alerts, contacts } = setup(0);
    contacts.delta(added(1, out('127.0.0.1', 8080), out('::1', 8080), out('::ffff:127.0.0.1', 8080), { ...out('203.0.113.9', 22), direction: 'in' }));
    contacts.delta(added(2, makeSocket({ localPort: 9999 })));
    expect(alerts).toHaveLength(0);
  });

  it('a muted process or remote port raises nothing; off raises nothing and does not forget to learn', () => {
    const { alerts, contacts, service } = setup(0);
    service.mute({ port: 443 });
    contacts.delta(added(1, out('198.51.100.1', 443)));
    service.unmute({ port: 443 });
    service.mute({ process: 'curl' });
    contacts.delta(added(2, out('198.51.100.2', 443)));
    service.unmute({ process: 'curl' });
    service.setFirstContact(false);
    contacts.delta(added(3, out('198.51.100.3', 443)));
    service.setFirstContact(true);
    contacts.delta(added(4, out('198.51.100.1', 443, 50010), out('198.51.100.3', 443, 50011)));
    expect(alerts).toHaveLength(0);
    contacts.delta(added(5, out('198.51.100.4', 443)));
    expect(alerts.map((a) => a.remoteAddress)).toEqual(['198.51.100.4']);
  });

  it('a learned set the history could not hand over whole says nothing is new, rather than everything', () => {
    const { alerts, contacts } = setup(0, [], true);
    expect(contacts.watching()).toBe(false);
    contacts.delta(added(1, out('198.51.100.1', 443)));
    expect(alerts).toHaveLength(0);
  });

  it('a connection that lived between two polls is a contact too, from its kernel record; one that came in to a listener is not', () => {
    const clock = { t: 100 * HOUR };
    const alerts: Alert[] = [];
    const service = new Alerts({ rules: () => [], onAlert: (a) => alerts.push(a), now: () => clock.t });
    service.setFirstContact(true);
    const listener = makeSocket({ id: 'tcp|0.0.0.0|8443|*|*', localAddress: '0.0.0.0', localPort: 8443 });
    const contacts = new FirstContacts({
      onContact: (s) => service.contact(s),
      enabled: () => true,
      learningMs: () => 0,
      now: () => clock.t,
      current: () => ({ seq: 1, takenAt: 1, source: 'netlink', sockets: [listener, out('93.184.216.34', 443)] }),
    });
    contacts.load({ keys: [], truncated: false, since: 0 }, null);
    const record = (localPort: number, remote: string, remotePort: number, firstSeen: number | null): ClosedConnection => ({
      id: `tcp|10.0.0.2|${localPort}|${remote}|${remotePort}`,
      protocol: 'tcp',
      family: 4,
      localAddress: '10.0.0.2',
      localPort,
      remoteAddress: remote,
      remotePort,
      state: 'CLOSE',
      pid: curl.pid,
      name: 'curl',
      uid: 1000,
      bytesIn: 1,
      bytesOut: 1,
      firstSeen,
      closedAt: clock.t,
      netns: null,
    });
    contacts.delta({
      seq: 2,
      takenAt: 2,
      added: [],
      removed: [],
      changed: [],
      closed: [record(51000, '198.51.100.9', 443, null), record(8443, '203.0.113.5', 40000, null), record(51001, '127.0.0.1', 5432, null)],
    });
    expect(alerts.map((a) => [a.remoteAddress, a.remotePort, a.summary])).toEqual([['198.51.100.9', 443, 'curl']]);
    // its key is the executable's, as the history files it: a later listed connection to the same place is not news
    contacts.delta(added(3, out('198.51.100.9', 443, 52000)));
    expect(alerts).toHaveLength(1);
  });

  it('without a history open, nothing is compared', () => {
    const alerts: Alert[] = [];
    const contacts = new FirstContacts({ onContact: () => alerts.push({} as Alert), enabled: () => true, learningMs: () => 0 });
    contacts.delta(added(1, out('198.51.100.1', 443)));
    expect(alerts).toHaveLength(0);
    expect(contacts.watching()).toBe(false);
  });
});
