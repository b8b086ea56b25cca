import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserDirectory } from '../../../src/main/engine/users';
import { waitFor } from '../../helpers/children';

describe('UserDirectory on a host thread: getent in the background', () => {
  it('answers at once from passwd; a uid it lacks is null until getent has answered, and getent is asked once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-users-'));
    try {
      // a passwd without root: root's name then comes from getent (which reads the real /etc/passwd)
      const passwd = join(dir, 'passwd');
      writeFileSync(passwd, 'alice:x:1000:1000::/home/alice:/bin/sh\n');
      const users = new UserDirectory(passwd, 'background');
      expect(users.name(1000)).toBe('alice');
      // not waited for: the caller (a server's thread) gets null now
      expect(users.name(0)).toBeNull();
      await waitFor(() => users.name(0) ?? undefined, 5000, 'getent answer');
      expect(users.name(0)).toBe('root');
      // a uid nobody knows stays null, without a second getent each call
      const unknown = 2_000_000_001;
      expect(users.name(unknown)).toBeNull();
      expect(users.name(unknown)).toBeNull();
      // the synchronous mode (worker threads, the one-shot CLI) waits for the answer instead
      expect(new UserDirectory(passwd, 'sync').name(0)).toBe('root');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
