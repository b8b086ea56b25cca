import { describe, expect, it } from 'vitest';
import { currentPlace, type ProcessFacts, type UserPlace } from '../../../src/main/engine/configDir';
import { defaultHistoryPath } from '../../../src/main/engine/history/files';
import { HistoryTracker } from '../../../src/main/engine/history/tracker';
import { makeProcess, makeSocket } from '../../helpers/sockets';

const at = (platform: NodeJS.Platform, env: Record<string, string> = {}, home = '/home/u'): UserPlace => ({ platform, env, homedir: home });

describe('where the history lives', () => {
  it('$XDG_STATE_HOME/portwatch/history.db, default ~/.local/state; a relative XDG_STATE_HOME is ignored', () => {
    expect(defaultHistoryPath(at('linux'))).toBe('/home/u/.local/state/portwatch/history.db');
    expect(defaultHistoryPath(at('linux', { XDG_STATE_HOME: '/x/state' }))).toBe('/x/state/portwatch/history.db');
    expect(defaultHistoryPath(at('linux', { XDG_STATE_HOME: 'state' }))).toBe('/home/u/.local/state/portwatch/history.db');
    expect(defaultHistoryPath(at('linux', {}, '/root'))).toBe('/root/.local/state/portwatch/history.db');
    expect(defaultHistoryPath(at('darwin', {}, '/Users/u'))).toBe('/Users/u/Library/Application Support/Portwatch/history.db');
    expect(defaultHistoryPath(at('win32', { LOCALAPPDATA: 'D:\\Local' }, 'C:\\Users\\u'))).toBe('D:\\Local\\Portwatch\\history.db');
  });

  it("through sudo it is the target user's (root's), never the invoking user's XDG_STATE_HOME", () => {
    const facts: ProcessFacts = {
      platform: 'linux',
      env: { SUDO_UID: '1000', HOME: '/home/alice', XDG_STATE_HOME: '/home/alice/.local/state' },
      euid: 0,
      homedir: () => '/home/alice',
      passwdHome: () => '/root',
    };
    expect(defaultHistoryPath(currentPlace(facts))).toBe('/root/.local/state/portwatch/history.db');
  });
});

describe('HistoryTracker: owners', () => {
  it("an owner change is an event naming the pid before; losing the owner (TIME_WAIT) is not one, and the flow stays the first owner's", () => {
    const a = makeProcess(10, 'worker-a', { exe: '/usr/bin/a' });
    const b = makeProcess(11, 'worker-b', { exe: '/usr/bin/b' });
    const conn = (over: Parameters<typeof makeSocket>[0]) =>
      makeSocket({
        id: 'c',
        localPort: 5000,
        remoteAddress: '10.0.0.9',
        remotePort: 443,
        state: 'ESTABLISHED',
        listening: false,
        direction: 'out',
        bytesIn: 0,
        bytesOut: 0,
        ...over,
      });
    const t = new HistoryTracker();
    t.snapshot({ seq: 1, takenAt: 1000, source: 'netlink', sockets: [] });
    const opened = t.delta({ seq: 2, takenAt: 2000, added: [conn({ pid: 10, pids: [10], process: a })], removed: [], changed: [], closed: [] });
    expect(opened.events.map((e) => [e.kind, e.name])).toEqual([['open', 'worker-a']]);
    const moved = t.delta({ seq: 3, takenAt: 3000, added: [], removed: [], changed: [conn({ pid: 11, pids: [11], process: b, bytesOut: 10 })], closed: [] });
    expect(moved.events.map((e) => [e.kind, e.pid, e.note])).toEqual([['owner', 11, '10']]);
    expect(moved.flows.map((f) => [f.program, f.bytesOut])).toEqual([['/usr/bin/b', 10]]);
    const orphan = t.delta({
      seq: 4,
      takenAt: 4000,
      added: [],
      removed: [],
      changed: [conn({ state: 'TIME_WAIT', pid: null, pids: [], noOwner: 'closed', process: null, lastOwner: b, bytesIn: null, bytesOut: null })],
      closed: [],
    });
    expect(orphan.events).toEqual([]);
    expect(orphan.flows).toEqual([]);
  });
});
