import { describe, expect, it } from 'vitest';
import { killTree, runCommand } from '../../../src/main/engine/runCommand';
import { isRunning, waitFor } from '../../helpers/children';

describe('runCommand', () => {
  it('returns output and exit code', async () => {
    expect(await runCommand('sh', ['-c', 'echo out; echo err >&2; exit 3'], 5000)).toEqual({
      code: 3,
      spawnError: null,
      stdout: 'out\n',
      stderr: 'err\n',
      timedOut: false,
    });
    expect(await runCommand('/nonexistent/tool', [], 5000)).toMatchObject({ spawnError: 'ENOENT' });
  });

  it('a hanging tool and the child it started are both killed at the timeout', async () => {
    // the tool starts a grandchild, prints its pid, and hangs
    const r = await runCommand('sh', ['-c', 'sleep 600 & echo $!; sleep 600'], 300);
    expect(r.timedOut).toBe(true);
    const grandchild = Number(r.stdout.trim());
    expect(grandchild).toBeGreaterThan(1);
    await waitFor(() => (isRunning(grandchild) ? undefined : true), 3000, 'the grandchild gone');
  });

  it('on Windows, where there are no process groups to signal, ends the tree with taskkill', () => {
    const calls: Array<[string, string[]]> = [];
    killTree(4242, 'win32', (cmd, args) => calls.push([cmd, args]));
    expect(calls).toEqual([['taskkill', ['/pid', '4242', '/T', '/F']]]);
  });
});
