import { describe, expect, it } from 'vitest';
import { formatCsv, formatJson, formatTable } from '../../../src/main/cli/format';
import { auditReport, formatAudit } from '../../../src/main/cli/audit';
import { makeProcess, makeSocket } from '../../helpers/sockets';

/** What another user can put in a process name: erase the line, return, and print a row of their choosing. */
const FAKE_ROW = '\x1b[2K\rtcp     0.0.0.0:22  LISTEN  1  root  sshd';
const HOSTILE = `pwevilprocess12${FAKE_ROW}\u202e\n\t\x9b31m\x7f\x00\\`;
const ESCAPED = 'pwevilprocess12\\e[2K\\rtcp     0.0.0.0:22  LISTEN  1  root  sshd\\u{202e}\\n\\t\\x9b31m\\x7f\\x00\\\\';

/** What a terminal acts on instead of printing: C0, DEL, C1, invisible formatting (bidi), line separators. */
const CONTROLS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

const evil = makeSocket({
  localPort: 4444,
  pid: 4242,
  pids: [4242],
  uid: 65534,
  user: 'nobody\x1b]0;pwned\x07',
  process: makeProcess(4242, HOSTILE, { exe: `/tmp/\x1b[31mexe`, cmdline: [HOSTILE, '-e', '\x1b[2J'], uid: 65534, user: 'nobody' }),
});

describe('text from the system, printed for a terminal', () => {
  it('the table escapes control characters in every cell, as lsof does', () => {
    const out = formatTable([evil, makeSocket({ localPort: 22, pid: 1, pids: [1], process: makeProcess(1, 'sshd') })]);
    const lines = out.split('\n');
    expect(lines).toHaveLength(4); // header, two rows, the final newline: no row of the attacker's making
    expect(out.replace(/\n/g, '')).not.toMatch(CONTROLS);
    expect(out).toContain(ESCAPED);
    expect(out).toContain('nobody\\e]0;pwned\\x07');
    // columns are sized to the escaped text, so the next column still lines up
    expect(lines[1]?.indexOf('PID')).toBe(lines[2]?.indexOf('4242'));
  });

  it('the audit escapes the process and the baseline path', () => {
    const out = formatAudit(auditReport([evil], []), '/root/.config/\x1b[8mportwatch/baseline.json');
    expect(out.replace(/\n/g, '')).not.toMatch(CONTROLS);
    expect(out).toContain(`${ESCAPED} (4242)`);
    expect(out).toContain('baseline: /root/.config/\\e[8mportwatch/baseline.json');
    expect(out.split('\n')).toHaveLength(5); // header, one row, blank, footer, final newline
  });

  it('CSV holds no control characters either: `list --csv` prints to a terminal too', () => {
    const out = formatCsv([evil]);
    expect(out.replace(/\r\n/g, '')).not.toMatch(CONTROLS);
    expect(out).toContain(ESCAPED.replace(/"/g, '""'));
    // the command line stays a JSON array, parseable back to exactly what the process had
    const cmdline = /"(\[.*\])"/.exec(out)?.[1]?.replace(/""/g, '"');
    expect(JSON.parse(cmdline as string)).toEqual([HOSTILE, '-e', '\x1b[2J']);
  });

  it('JSON keeps the exact text, with DEL, C1, bidi and line separators escaped as \\u (JSON.stringify leaves them raw)', () => {
    const name = `a\x7f\x9b\u202e\u2066\u2028\u2029\u{e0041}b`;
    const s = makeSocket({ pid: 7, pids: [7], process: makeProcess(7, name) });
    const out = formatJson({ takenAt: 1, source: 'procfs' }, [s]);
    expect(out.replace(/\n/g, '')).not.toMatch(CONTROLS);
    expect(out).toContain('"name": "a\\u007f\\u009b\\u202e\\u2066\\u2028\\u2029\\udb40\\udc41b"');
    expect((JSON.parse(out) as { sockets: Array<{ process: { name: string } }> }).sockets[0]?.process.name).toBe(name);
  });
});

describe('CSV formulas (OWASP CSV injection)', () => {
  const named = (name: string, user = 'root') => makeSocket({ pid: 9, pids: [9], user, process: makeProcess(9, name, { exe: name, cmdline: [name] }) });
  const row = (csv: string): string => csv.split('\r\n')[1] as string;

  it('a cell that starts with = + - @ tab or CR gets a leading quote, so a spreadsheet shows it as text', () => {
    const out = row(formatCsv([named('=HYPERLINK("http://x","y")')]));
    expect(out).toContain(`,"'=HYPERLINK(""http://x"",""y"")",`);
    expect(out).not.toMatch(/,"?=/);
    for (const name of ['+1+cmd', '-2+3', '@SUM(A1)', '=1+1']) {
      const cells = row(formatCsv([named(name, name)]));
      expect(cells).toContain(`,'${name},`); // user, process, exe
      expect(cells).not.toMatch(new RegExp(`,\\${name[0]}`));
    }
  });

  it('empty cells stay empty, and ordinary cells are untouched', () => {
    const out = row(formatCsv([makeSocket({ user: null, uid: null })]));
    expect(out).toBe('tcp|127.0.0.1|80|*|*|1,tcp,4,127.0.0.1,80,,,LISTEN,true,,,,,false,,,,,,,,,,,');
    expect(row(formatCsv([named('nginx: worker process')]))).toContain(',nginx: worker process,');
  });
});
