import { afterAll, describe, expect, it } from 'vitest';
import { ProcessTable } from '../../../src/main/engine/processes';
import { ProcfsSource } from '../../../src/main/engine/sources/procfs';
import { UserDirectory } from '../../../src/main/engine/users';
import type { Socket } from '../../../src/shared/model';
import { matchesQuery, parseQuery } from '../../../src/shared/query';
import { PYTHON, spawnReady, type Child } from '../../helpers/children';

/**
 * A python child that renames itself with prctl(PR_SET_NAME) to the bytes given in hex (the kernel keeps the
 * first 15), listens on 127.0.0.1 and prints its port.
 */
const RENAMED_LISTENER = `
import ctypes, socket, sys, time
name = bytes.fromhex(sys.argv[1])
if ctypes.CDLL(None).prctl(15, ctypes.c_char_p(name), 0, 0, 0) != 0: raise OSError("prctl")
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(600)
`;

const kids: Child[] = [];
afterAll(async () => {
  await Promise.all(kids.map((k) => k.stop()));
});

async function renamed(name: Buffer, argv0?: string): Promise<{ pid: number; port: number }> {
  const c = await spawnReady(PYTHON, ['-c', RENAMED_LISTENER, name.toString('hex')], { argv0 });
  kids.push(c);
  return { pid: c.pid, port: Number(c.firstLine) };
}

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('process names that are not ASCII, from real processes', () => {
  const table = new ProcessTable(new UserDirectory());
  const nameOf = (pid: number): string | undefined => {
    table.begin();
    const name = table.get(pid)?.name;
    table.end();
    return name;
  };

  it('decodes comm as UTF-8', async () => {
    expect(nameOf((await renamed(utf8('über-srv'))).pid)).toBe('über-srv');
    // 13 bytes: a check mark is three
    expect(nameOf((await renamed(utf8('my server ✓'))).pid)).toBe('my server ✓');
    // parentheses inside a name that is not ASCII: comm still runs to the last ')'
    expect(nameOf((await renamed(utf8('ü) (x'))).pid)).toBe('ü) (x');
  });

  it('shows bytes that are not UTF-8 as U+FFFD, as for exe and cmdline', async () => {
    expect(nameOf((await renamed(Buffer.from([0xff, 0xfe, 0x62, 0x61, 0x64]))).pid)).toBe('\uFFFD\uFFFDbad');
  });

  it('drops the character the kernel cut at 15 bytes instead of showing U+FFFD', async () => {
    // 19 bytes: the kernel keeps "my server ✓" and two of the second check mark's three bytes
    expect(nameOf((await renamed(utf8('my server ✓✓✓'))).pid)).toBe('my server ✓');
  });

  it('replaces a comm cut inside a character with the argv[0] it starts', async () => {
    // "port-wächter-" is 14 bytes: the cut falls inside the "ü"
    const full = 'port-wächter-überall';
    expect(utf8(full).subarray(0, 15).toString('utf8')).toContain('\uFFFD');
    expect(nameOf((await renamed(utf8(full), full)).pid)).toBe(full);
  });

  it('carries the name to the socket, where the proc: filter finds it', async () => {
    const { pid, port } = await renamed(utf8('über-srv'));
    const source = new ProcfsSource({ helperThreads: false });
    const s = source.listSync().sockets.find((x: Socket) => x.localPort === port && x.state === 'LISTEN');
    expect(s).toMatchObject({ pid, pids: [pid], process: { pid, name: 'über-srv' } });
    const q = parseQuery('proc:"über-srv"');
    if (!q.ok) throw new Error(q.message);
    expect(matchesQuery(q.query, s as Socket)).toBe(true);
    const other = parseQuery('proc:"uber-srv"');
    if (!other.ok) throw new Error(other.message);
    expect(matchesQuery(other.query, s as Socket)).toBe(false);
  });
});
