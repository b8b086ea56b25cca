import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { quickAnswer } from '../../../src/main/cli/help';
import { runCli } from '../../../src/main/cli/index';
import { runPortwatch, type CliRun } from '../../helpers/cli';
import { BIN, ROOT } from '../../helpers/paths';

/**
 * The launcher and the small entry bundle: bin/portwatch runs what was built and never builds; the entry
 * (out/node/portwatch.cjs) answers help, --version and unknown commands without loading the commands' bundle
 * (out/node/cli-impl.cjs), and answers them as runCli would.
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
      expect(quickAnswer(args, () => 'unused'), args.join(' ')).toBeNull();
    }
  });

  it('loads the commands bundle only to run a command', async () => {
    const dir = join(scratch, 'stub');
    const bin = installAt(dir);
    mkdirSync(join(dir, 'out', 'node'), { recursive: true });
    copyFileSync(join(ROOT, 'out', 'node', 'portwatch.cjs'), join(dir, 'out', 'node', 'portwatch.cjs'));
    writeFileSync(join(dir, 'out', 'node', 'cli-impl.cjs'), "throw new Error('cli-impl.cjs was loaded');\n");
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'portwatch', version: '9.8.7-test' }));

    expect(await run(bin, ['--version'])).toEqual({ code: 0, stdout: '9.8.7-test\n', stderr: '' });
    for (const args of [['--help'], ['list', '--help'], ['kill', '-h']]) expect(await run(bin, args), args.join(' ')).toMatchObject({ code: 0, stderr: '' });
    expect(await run(bin, ['frobnicate'])).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/unknown command 'frobnicate'/) });
    expect((await run(bin, ['list'])).stderr).toMatch(/cli-impl\.cjs was loaded/);
    // small: the engine (megabytes) is not in it
    expect(statSync(join(ROOT, 'out', 'node', 'portwatch.cjs')).size).toBeLessThan(64 * 1024);
  });

  it('without a built CLI says how to build it and exits 1, building nothing', async () => {
    const dir = join(scratch, 'unbuilt');
    const bin = installAt(dir);
    const r = await run(bin, ['list']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('portwatch: the CLI is not built');
    expect(r.stderr).toContain('run `npm run build:cli` (or npm ci)');
    expect(() => statSync(join(dir, 'out'))).toThrow();
  });
});
