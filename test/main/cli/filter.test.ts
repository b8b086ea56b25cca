import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caretLines } from '../../../src/main/cli/filter';
import type { Socket } from '../../../src/shared/model';
import { runPortwatch } from '../../helpers/cli';

/**
 * `--filter` takes the filter language v2 (the UI's search box), and a query that does not parse is a usage
 * error: on stderr, exit 2, with the query and a caret under where reading stopped. Whole processes
 * (bin/portwatch), real listeners on loopback.
 */
describe('portwatch list --filter', () => {
  let v4: Server;
  let v6: Server;
  let port4: number;
  let port6: number;

  beforeAll(async () => {
    v4 = createServer();
    v6 = createServer();
    await new Promise<void>((r) => v4.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => v6.listen(0, '::1', r));
    port4 = (v4.address() as { port: number }).port;
    port6 = (v6.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((r) => v4.close(r));
    await new Promise((r) => v6.close(r));
  });

  const listed = async (query: string): Promise<Socket[]> => {
    const r = await runPortwatch(['list', '--json', `--filter=${query}`]);
    const sockets = (JSON.parse(r.stdout) as { sockets: Socket[] }).sockets;
    // nothing matching on the whole machine is exit 1 with a note, as lsof does; anything else no word on stderr
    const note = sockets.length === 0 ? /^portwatch list: nothing matches \(\d+ sockets looked at\)\n$/ : /^$/;
    expect(r.stderr.replace(/portwatch: warning: .*\n/g, ''), query).toMatch(note);
    expect(r.code, query).toBe(sockets.length === 0 ? 1 : 0);
    return sockets.filter((s) => s.pid === process.pid);
  };

  it('finds the displayed forms, OR queries and ss syntax', async () => {
    const ports = async (q: string): Promise<number[]> => (await listed(q)).map((s) => s.localPort).sort((a, b) => a - b);
    const both = [port4, port6].sort((a, b) => a - b);
    expect(await ports(`127.0.0.1:${port4}`)).toEqual([port4]);
    expect(await ports(`[::1]:${port6}`)).toEqual([port6]);
    expect(await ports(`:${port6}`)).toEqual([port6]);
    expect(await ports(`tcp6 lport:${port4},${port6}`)).toEqual([port6]);
    expect(await ports(`:${port4} or :${port6}`)).toEqual(both);
    expect(await ports(`state listening '( sport = :${port4} or sport = :${port6} )'`)).toEqual(both);
    expect(await ports(`src 127.0.0.0/8 sport = :${port4}`)).toEqual([port4]);
    expect(await ports(`src [::1]:${port6}`)).toEqual([port6]);
  });

  it('names a service from the registry, which the list bundle loads only then', async () => {
    // nothing of ours listens on ssh's port: the query parses and finds none of our listeners
    expect(await listed('port:ssh or sport = :https')).toEqual([]);
  });

  it('a query that does not parse: the message, the character, the query with a caret, exit 2', async () => {
    const r = await runPortwatch(['list', '--filter', `port:${port4} or`]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const q = `port:${port4} or`;
    expect(r.stderr).toContain(`portwatch list: --filter: expected a term after "or", not the end of the query (at character ${q.length + 1})\n`);
    expect(r.stderr).toContain(`\n  ${q}\n  ${' '.repeat(q.length)}^\n`);
    expect(r.stderr).toContain("Run 'portwatch list --help' for usage.");

    const typo = await runPortwatch(['list', '--filter', 'proc:node porrt:80']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('unknown field "porrt:": did you mean "port:"?');
    expect(typo.stderr).toContain(`\n  proc:node porrt:80\n  ${' '.repeat(10)}^\n`);
  });

  it('unexpected needs the baseline: list says so instead of matching nothing', async () => {
    const r = await runPortwatch(['list', '--filter', 'unexpected']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"unexpected" needs the expected-ports baseline/);
  });

  it('the caret line is inert and shows a window of a long query', () => {
    expect(caretLines('a\u001b[2Kb or', 7)).toBe(`  a\\e[2Kb or\n${' '.repeat(10)}^`);
    const long = `${'x'.repeat(100)} or`;
    const lines = caretLines(long, long.length).split('\n');
    expect(lines[0]).toBe(`  ...${'x'.repeat(37)} or`);
    expect(lines[1]).toBe(`  ${' '.repeat(43)}^`);
  });
});
