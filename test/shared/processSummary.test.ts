import { describe, expect, it } from 'vitest';
import { commandLine, processArgument, processSummary, SUMMARY_MAX } from '../../src/shared/processSummary';

const p = (name: string, cmdline: string[], exe: string | null = null) => ({ name, exe, cmdline });

describe('processSummary', () => {
  it('names an interpreter by the program it runs', () => {
    expect(processSummary(p('python3', ['/usr/bin/python3', '/home/u/sneaky.py', '--port', '80']))).toBe('python3 sneaky.py');
    expect(processSummary(p('node', ['node', '--inspect=9229', 'server.js']))).toBe('node server.js');
    expect(processSummary(p('node', ['node', '-r', 'ts-node/register', 'src/app.ts']))).toBe('node app.ts');
    expect(processSummary(p('java', ['java', '-Xmx1g', '-jar', '/opt/app/app.jar']))).toBe('java -jar app.jar');
    expect(processSummary(p('java', ['java', '-cp', 'lib/*', 'com.example.Main']))).toBe('java com.example.Main');
    expect(processSummary(p('python3', ['python3', '-m', 'http.server', '8000']))).toBe('python3 -m http.server');
    expect(processSummary(p('python3', ['python3', '-c', 'import socket; ...']))).toBe('python3 -c');
    expect(processSummary(p('bash', ['/bin/bash', './serve.sh']))).toBe('bash serve.sh');
  });

  it('recognises the interpreter by its exe when argv[0] was rewritten', () => {
    expect(processArgument(p('python3', ['myworker', 'job.py'], '/usr/bin/python3.11'))).toBe('job.py');
  });

  it('leaves daemons and bare interpreters as their name', () => {
    expect(processSummary(p('nginx', ['nginx: master process /usr/sbin/nginx', '-g', 'daemon off;']))).toBe('nginx');
    expect(processSummary(p('sshd', ['/usr/sbin/sshd', '-D']))).toBe('sshd');
    expect(processSummary(p('python3', ['python3']))).toBe('python3');
    expect(processSummary(p('node', []))).toBe('node');
    expect(processSummary(p('node', ['node', '--inspect']))).toBe('node');
  });

  it('bounds what another user chose to put in argv', () => {
    const long = processSummary(p('python3', ['python3', `${'x'.repeat(500)}.py`]));
    expect([...long].length).toBe(SUMMARY_MAX);
    expect(long.endsWith('…')).toBe(true);
  });

  it('gives the whole command line, or the name', () => {
    expect(commandLine(p('node', ['node', 'a.js', 'b']))).toBe('node a.js b');
    expect(commandLine(p('kworker', []))).toBe('kworker');
  });
});
