import { describe, expect, it } from 'vitest';
import { describeAction, describeKill } from '../../src/shared/api';

describe('describeAction: the action log in one wording', () => {
  it('a kill: the target, then its outcome once', () => {
    const exited = describeKill({ result: 'exited', pid: 7, signal: 'SIGTERM', afterMs: 12 });
    expect(describeAction({ kind: 'kill', target: 'nginx (pid 7)', signal: 'SIGTERM', result: 'exited', detail: exited })).toBe(
      'Kill nginx (pid 7): exited 12 ms after SIGTERM',
    );
    const refused = describeKill({ result: 'refused', pid: 1, code: 'protected', reason: 'pid 1 is init: ending it ends the machine' });
    expect(describeAction({ kind: 'kill', target: 'systemd (pid 1)', signal: 'SIGKILL', result: 'refused', detail: refused })).toBe(
      'Kill systemd (pid 1) with SIGKILL: refused: pid 1 is init: ending it ends the machine',
    );
  });

  it('a close', () => {
    expect(
      describeAction({
        kind: 'close',
        target: 'tcp 10.0.0.2:51000 -> 1.1.1.1:443 (curl)',
        signal: null,
        result: 'closed',
        detail: 'closed, and gone from the kernel table',
      }),
    ).toBe('Close tcp 10.0.0.2:51000 -> 1.1.1.1:443 (curl): closed, and gone from the kernel table');
  });
});
