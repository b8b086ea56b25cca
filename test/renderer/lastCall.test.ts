import { describe, expect, it } from 'vitest';
import { lastCall } from '../../src/renderer/src/store/lastCall';

describe('lastCall: a derivation remembered past a thrown-away render', () => {
  it('answers the same arguments with the last result, without calling again', () => {
    let calls = 0;
    const sorted = lastCall((xs: readonly number[], dir: 1 | -1) => {
      calls++;
      return [...xs].sort((a, b) => dir * (a - b));
    });
    const xs = [3, 1, 2];
    const a = sorted(xs, 1);
    expect(sorted(xs, 1)).toBe(a);
    expect(calls).toBe(1);
    // another argument (by identity, not by content) computes again
    expect(sorted([3, 1, 2], 1)).toEqual([1, 2, 3]);
    expect(sorted(xs, -1)).toEqual([3, 2, 1]);
    expect(calls).toBe(3);
  });
});
