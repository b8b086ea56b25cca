import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance } from '../../src/shared/didYouMean';

describe('didYouMean', () => {
  it('counts edits, a swap of neighbours as one', () => {
    expect(editDistance('list', 'list')).toBe(0);
    expect(editDistance('lsit', 'list')).toBe(1);
    expect(editDistance('listn', 'listen')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('finds the command or flag meant: typos, swaps, prefixes', () => {
    const commands = ['list', 'watch', 'serve', 'audit', 'kill', 'help'];
    expect(didYouMean('lsit', commands)).toBe('list');
    expect(didYouMean('wacth', commands)).toBe('watch');
    expect(didYouMean('kil', commands)).toBe('kill');
    expect(didYouMean('serv', commands)).toBe('serve');
    expect(didYouMean('--listn', ['--listen', '--tcp'])).toBe('--listen');
    expect(didYouMean('--listening', ['--listen', '--tcp'])).toBe('--listen');
  });

  it('says nothing when nothing is near, or the word is known', () => {
    const commands = ['list', 'watch', 'serve', 'audit', 'kill'];
    expect(didYouMean('frobnicate', commands)).toBeNull();
    expect(didYouMean('x', commands)).toBeNull();
    expect(didYouMean('', commands)).toBeNull();
    expect(didYouMean('list', commands)).toBeNull();
  });
});
