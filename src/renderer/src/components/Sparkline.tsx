import { memo, type ReactElement } from 'react';
import { formatRate } from '../../../shared/traffic';
import { sparkPath, type SparkPoint } from '../store/sparkHistory';

import { SPARK_HEIGHT as HEIGHT, SPARK_WIDTH as WIDTH } from '../store/sparkHistory';

/**
 * A process group's traffic over the last 60 s, in and out together: a small inline SVG, one path, no chart
 * library (hundreds of group headings may show one). Memoised on its series, which changes once a poll.
 * `noCounters` says why a process whose sockets have no counters has no line (never a flat fake 0).
 */
export const Sparkline = memo(function Sparkline({
  points,
  noCounters,
}: {
  points: readonly SparkPoint[] | undefined;
  noCounters: string;
}): ReactElement | null {
  if (!points || points.length === 0) return null;
  const last = points[points.length - 1] as SparkPoint;
  const { d, peak } = sparkPath(points);
  if (d === '') {
    return (
      <span className="sparkline sparkline-none" data-testid="sparkline" data-empty="true" title={`No rate for this process: ${noCounters}`}>
        n/a
      </span>
    );
  }
  const title = `In + out over the last 60 s: now ${formatRate(last.v)}, peak ${formatRate(peak)}`;
  return (
    <svg
      className="sparkline"
      data-testid="sparkline"
      data-empty={peak > 0 ? 'false' : 'true'}
      data-peak={peak}
      width={WIDTH}
      height={HEIGHT}
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-label={title}
    >
      <title>{title}</title>
      <path d={d} fill="none" stroke="currentColor" strokeWidth={1.25} strokeLinejoin="round" />
    </svg>
  );
});
