import { describe, expect, it } from 'vitest';
import { walkerClaims, WalkShare } from '../../../src/main/engine/fdWalker';

/**
 * The walker thread's side of a WalkShare, as walkerMain takes it: walkerClaims from the back, on from where it
 * stopped, until a claim fails. take(k) claims at most k more; [] once it has met the caller.
 */
function walkerSide(share: WalkShare): { take: (k: number) => number[] } {
  let at = share.size - 1;
  let met = false;
  return {
    take(k) {
      const got: number[] = [];
      while (!met && got.length < k && at >= 0) {
        if (!walkerClaims(share.flags, at)) met = true;
        else got.push(at--);
      }
      return got;
    },
  };
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
      const side = walkerSide(share);
      // the walker first takes a few (or none: it has not booted), then the two alternate until both stop
      const walker = side.take(walkerFirst);
      const caller: number[] = [];
      for (;;) {
        const i = share.next();
        const w = side.take(1);
        if (i >= 0) caller.push(i);
        walker.push(...w);
        if (i < 0 && w.length === 0) break;
      }
      expect([...caller, ...walker].sort((a, b) => a - b)).toEqual(Array.from({ length: size }, (_, k) => k));
      // each a run from its own end: the caller 0, 1, 2 ..., the walker size-1, size-2 ...
      expect(caller).toEqual(Array.from({ length: caller.length }, (_, k) => k));
      expect(walker).toEqual(Array.from({ length: walker.length }, (_, k) => size - 1 - k));
      // alternating, both took part where there was room (the walker's head start aside)
      if (size - walkerFirst >= 2) expect(walker.length - walkerFirst).toBeGreaterThan(0);
      expect(share.next()).toBe(-1);
    }
  });

  it('with no processes, has nothing for anyone', () => {
    const share = new WalkShare(0);
    expect(share.next()).toBe(-1);
    expect(walkerSide(share).take(5)).toEqual([]);
  });
});
