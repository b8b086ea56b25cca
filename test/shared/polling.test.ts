import { describe, expect, it } from 'vitest';
import { formatInterval, INTERVAL_PRESETS, intervalChoices } from '../../src/shared/polling';

describe('the Refresh menu always shows the real interval', () => {
  it('adds the engine interval when it is not a preset, in order, and nothing when it is', () => {
    expect(intervalChoices(3000)).toEqual([250, 500, 1000, 2000, 3000, 5000, 10000]);
    expect(intervalChoices(60_000)).toEqual([...INTERVAL_PRESETS, 60_000]);
    expect(intervalChoices(1000)).toEqual([...INTERVAL_PRESETS]);
    expect(intervalChoices(null)).toEqual([...INTERVAL_PRESETS]);
  });

  it('says each interval in the unit a person would', () => {
    expect([250, 1000, 1500, 3000, 59_999, 60_000, 90_000, 120_000, 3_600_000].map(formatInterval)).toEqual([
      '250 ms',
      '1 s',
      '1.5 s',
      '3 s',
      '59.999 s',
      '1 min',
      '90 s',
      '2 min',
      '1 h',
    ]);
  });
});
