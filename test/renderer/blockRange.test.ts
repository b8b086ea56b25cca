import { describe, expect, it } from 'vitest';
import { blockRange } from '../../src/renderer/src/components/blockVirtualizer';

const range = (startIndex: number, endIndex: number, count = 10_000, overscan = 5) => ({ startIndex, endIndex, count, overscan });

describe('blockRange: rows mounted a block at a time', () => {
  it('covers the view and the overscan at both ends, wherever the view is', () => {
    for (let first = 0; first < 200; first++) {
      const r = range(first, first + 31);
      const out = blockRange(r, 33, 10);
      expect(out[0]).toBeLessThanOrEqual(Math.max(0, first - 5));
      expect(out.at(-1)).toBeGreaterThanOrEqual(first + 31 + 5);
      expect(out).toEqual(Array.from({ length: out.length }, (_, i) => (out[0] as number) + i));
    }
  });
  it('changes only when a block boundary is crossed, and then at both ends at once', () => {
    const seen = new Set<string>();
    for (let first = 5; first < 105; first++) {
      const out = blockRange(range(first, first + 32), 33, 10);
      seen.add(`${out[0]}-${out.at(-1)}`);
    }
    // 100 rows of scrolling: 10 rendered sets, each as long as the others
    expect(seen.size).toBe(10);
    expect(new Set([...seen].map((k) => k.split('-').map(Number)).map(([a, b]) => (b as number) - (a as number))).size).toBe(1);
  });
  it('stays within the list', () => {
    expect(blockRange(range(0, 3, 4), 33, 10)).toEqual([0, 1, 2, 3]);
    expect(blockRange(range(9990, 9999), 33, 10).at(-1)).toBe(9999);
    expect(blockRange({ startIndex: 0, endIndex: 0, count: 0, overscan: 5 }, 33)).toEqual([]);
  });
});
