import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { clockTicksFromAuxv, fullProcessName, parseStatBytes } from '../../../src/main/engine/processes';

/** A /proc/<pid>/stat line around comm bytes, as the kernel prints it. */
function statLine(comm: Buffer): Buffer {
  return Buffer.concat([Buffer.from('4242 ('), comm, Buffer.from(') S 17 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 0 0\n')]);
}
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('comm bytes from /proc/<pid>/stat', () => {
  it('decodes UTF-8, parentheses and all, and keeps the bytes', () => {
    const st = parseStatBytes(statLine(utf8('ü) (✓')));
    expect(st).toMatchObject({ comm: 'ü) (✓', state: 'S', ppid: 17, startTicks: 987654 });
    expect(st?.commBytes.equals(utf8('ü) (✓'))).toBe(true);
    expect(parseStatBytes(Buffer.from('garbage'))).toBeNull();
  });

  it('shows bytes that are not UTF-8 as U+FFFD', () => {
    expect(parseStatBytes(statLine(Buffer.from([0xff, 0xfe, 0x62, 0x61, 0x64])))?.comm).toBe('\uFFFD\uFFFDbad');
    // a stray continuation byte, and a lead byte not followed by its continuations, inside a short name
    expect(parseStatBytes(statLine(Buffer.from([0x61, 0x9c, 0x62, 0xe2, 0x62])))?.comm).toBe('a\uFFFDb\uFFFDb');
  });

  it('drops only the stub of a character cut at 15 bytes', () => {
    for (const [full, shown] of [
      ['my server ✓✓✓', 'my server ✓'], // two of three bytes kept
      ['abcdefghijklmn✓', 'abcdefghijklmn'], // one of three
      ['abcdefghijklm😀', 'abcdefghijklm'], // two of four
      ['abcdefghijklmnü', 'abcdefghijklmn'], // one of two
      ['abcdefghijk✓x', 'abcdefghijk✓x'], // 15 bytes, whole
    ] as const) {
      const cut = utf8(full).subarray(0, 15);
      expect(parseStatBytes(statLine(cut))?.comm, full).toBe(shown);
    }
    // a broken character inside a cut name is still U+FFFD
    expect(parseStatBytes(statLine(Buffer.concat([utf8('ab'), Buffer.from([0xe2]), utf8('cdefghijklmn')])))?.comm).toBe('ab\uFFFDcdefghijklmn');
  });
});

describe('full names of cut comms that are not ASCII', () => {
  it('compares by bytes, so a cut inside a character still finds the argv[0] or executable that extends it', () => {
    const full = 'port-wächter-überall';
    const comm = utf8(full).subarray(0, 15);
    expect(fullProcessName(comm, '/usr/bin/python3.11', [full, '-c', 'x'])).toBe(full);
    expect(fullProcessName(comm, `/opt/${full} (deleted)`, ['py'])).toBe(full);
    // the kept byte starts "ü" or "ä", not "✓": a name that differs there does not extend it
    expect(fullProcessName(comm, '/usr/bin/python3.11', ['port-wächter-✓'])).toBe('port-wächter-');
    // not cut (14 bytes): comm as it is, even with a longer argv[0]
    expect(fullProcessName(utf8('über-srv-eins'), null, ['über-srv-eins-zwei'])).toBe('über-srv-eins');
  });

  it('takes text as UTF-8, counting bytes, not UTF-16 units', () => {
    // 15 bytes but 14 characters: cut, so the longer argv[0] wins
    expect(fullProcessName('über-srv-eins-', null, ['über-srv-eins-zwei'])).toBe('über-srv-eins-zwei');
    expect(fullProcessName('gnome-shell-cal', '/usr/libexec/gnome-shell-calendar-server', [])).toBe('gnome-shell-calendar-server');
  });
});

describe('USER_HZ from the auxiliary vector', () => {
  it('reads AT_CLKTCK as getconf CLK_TCK does, without starting getconf', () => {
    expect(clockTicksFromAuxv(readFileSync('/proc/self/auxv'))).toBe(Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()));
  });

  it('says nothing for a vector without it, a truncated one, or a nonsense value', () => {
    const words = (...xs: number[]): Buffer => {
      const b = Buffer.alloc(xs.length * 8);
      xs.forEach((x, i) => b.writeBigUInt64LE(BigInt(x), i * 8));
      return b;
    };
    expect(clockTicksFromAuxv(words(6, 4096, 0, 0))).toBeNull();
    expect(clockTicksFromAuxv(words(6, 4096, 17))).toBeNull(); // cut before its value
    expect(clockTicksFromAuxv(words(17, 0, 0, 0))).toBeNull();
    expect(clockTicksFromAuxv(words(17, 250, 0, 0))).toBe(250);
    expect(clockTicksFromAuxv(Buffer.alloc(3))).toBeNull();
    const b32 = Buffer.alloc(16);
    b32.writeUInt32LE(17, 0);
    b32.writeUInt32LE(100, 4);
    expect(clockTicksFromAuxv(b32, 4)).toBe(100);
  });
});
