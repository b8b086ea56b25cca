/*
 * "Did you mean": the closest of a few known words to one mistyped, as git and cargo suggest. Pure and small:
 * the CLI's entry bundle answers an unknown command with it, before any engine code loads.
 */

/** Levenshtein distance (insert, delete, substitute; a swap of two neighbours counts one, as typists make it). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const prev = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      // a transposition (lsit -> list)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/**
 * The known word the typed one most likely meant, or null: one it is a prefix of (`--list` for `--listen`),
 * one that is a prefix of it (`--listening` for `--listen`), or the nearest within a third of its length
 * (at least 1, at most 3 edits). Ties go to the earlier word in `known`.
 */
export function didYouMean(typed: string, known: readonly string[]): string | null {
  if (typed === '' || known.includes(typed)) return null;
  const core = (w: string): string => w.replace(/^-+/, '');
  const t = core(typed);
  if (t.length >= 2) {
    const prefixed = known.find((k) => core(k).startsWith(t) || (core(k).length >= 3 && t.startsWith(core(k))));
    if (prefixed !== undefined) return prefixed;
  }
  const limit = Math.min(3, Math.max(1, Math.floor(t.length / 3)));
  let best: string | null = null;
  let bestDistance = limit + 1;
  for (const k of known) {
    const d = editDistance(t, core(k));
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}
