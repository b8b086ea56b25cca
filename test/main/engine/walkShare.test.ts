import { describe, expect, it } from 'vitest';
import { WalkShare } from '../../../src/main/engine/fdWalker';

/** The walker thread's side of a WalkShare, as walkerMain takes it: from the back, until it meets the caller. */
function walkerTakes(share: WalkShare, upTo: number): number[] {
  const got: number[] = [];
  for (let i = share.size - 1; i >= 0 && got.length < upTo && Atomics.compareExchange(share.flags, i, 0, 2) === 0; i--) got.push(i);
  return got;
}

describe('WalkShare: a first poll walk split between the caller and the walker thread', () => {
  it('gives every process to exactly one side, the caller from the front, the walker from the back', () => {
    for (const [size, walkerFirst] of [
      [10, 3],
      [10, 0],
      [10, 10],
      [1, 1],
      [7, 4],
    ] as const) {
      const share = new WalkShare(size);
      const walker = walkerTakes(share, walkerFirst);
      const caller: number[] = [];
      // the caller and the walker alternate until both stop
      for (;;) {
        const i = share.next();
        const w = walkerTakes(share, 1);
        if (i >= 0) caller.push(i);
        walker.push(...w);
        if (i < 0 && w.length === 0) break;
      }
      expect([...caller, ...walker].sort((a, b) => a - b)).toEqual(Array.from({ length: size }, (_, k) => k));
      expect(caller).toEqual([...caller].sort((a, b) => a - b));
      if (caller.length > 0) expect(caller[0]).toBe(0);
      if (walker.length > 0) expect(walker[0]).toBe(size - 1);
      expect(share.next()).toBe(-1);
    }
  });

  it('with no processes, has nothing for anyone', () => {
    const share = new WalkShare(0);
    expect(share.next()).toBe(-1);
    expect(walkerTakes(share, 5)).toEqual([]);
  });
});
