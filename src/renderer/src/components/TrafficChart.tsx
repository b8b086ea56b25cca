import { useMemo, useState, type ReactElement } from 'react';
import { Area, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatRate } from '../../../shared/traffic';
import type { RatePoint } from '../store/series';
import { trafficStack, withCeiling, type TrafficPoint } from '../store/trafficSeries';

const COLORS = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#9ca3af'];
/** Stacked series besides `other`: enough to tell the busiest apart, few enough to read. */
const SHOWN = 5;

const time = (t: number): string => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

interface LegendEntry {
  id: string;
  label: string;
  color: string;
  /** the ceiling's dashed line, not a stacked area */
  line: boolean;
}

/** The chart's legend, from the series it draws: one entry per stacked series, then the ceiling. */
function TrafficLegend({ entries }: { entries: readonly LegendEntry[] }): ReactElement {
  return (
    <ul className="recharts-default-legend" style={{ padding: 0, margin: 0, textAlign: 'center' }}>
      {entries.map((e) => (
        <li key={e.id} className="recharts-legend-item" style={{ display: 'inline-block', marginRight: 10 }}>
          <svg width={8} height={8} viewBox="0 0 8 8" style={{ marginRight: 4, verticalAlign: 'middle' }} aria-hidden="true">
            {e.line ? (
              <line x1={0} y1={4} x2={8} y2={4} stroke={e.color} strokeDasharray="2 1" strokeWidth={2} />
            ) : (
              <rect width={8} height={8} fill={e.color} />
            )}
          </svg>
          <span className="recharts-legend-item-text" style={{ color: e.color }}>
            {e.label}
          </span>
        </li>
      ))}
    </ul>
  );
}

/**
 * Traffic over the last ten minutes, stacked by process or by remote host (the busiest five, then `other`),
 * under the interfaces' throughput as the ceiling. From the store's bounded series: opening the panel shows
 * the minutes before it.
 */
export function TrafficChart({
  traffic,
  rates,
  hostName,
}: {
  traffic: readonly TrafficPoint[];
  rates: readonly RatePoint[];
  hostName: (address: string) => string | undefined;
}): ReactElement {
  const [kind, setKind] = useState<'processes' | 'hosts'>('processes');
  const stack = useMemo(
    () => trafficStack(traffic, kind, SHOWN, kind === 'hosts' ? (key, label) => hostName(key) ?? label : undefined),
    [traffic, kind, hostName],
  );
  const data = useMemo(() => withCeiling(stack.data, rates), [stack, rates]);
  const entries = useMemo(
    (): LegendEntry[] => [
      ...stack.series.map((s, i) => ({
        id: s.id,
        label: s.label.length > 28 ? `${s.label.slice(0, 27)}…` : s.label,
        color: COLORS[s.id === 'other' ? COLORS.length - 1 : i % (COLORS.length - 1)] as string,
        line: false,
      })),
      { id: 'ceiling', label: 'all interfaces', color: 'var(--text)', line: true },
    ],
    [stack],
  );
  return (
    <figure data-testid="chart-traffic" data-kind={kind} data-top={stack.series[0]?.label ?? ''} data-series={stack.series.length}>
      <figcaption className="chart-caption">
        <span title="Rates of sockets with byte counters (TCP; UDP where conntrack counts it), stacked; the line: every interface's throughput, loopback included">
          Traffic by {kind === 'processes' ? 'process' : 'remote host'}, last 10 minutes
        </span>
        <span className="segmented" role="group" aria-label="Traffic by">
          <button data-testid="traffic-by-process" aria-pressed={kind === 'processes'} onClick={() => setKind('processes')}>
            Processes
          </button>
          <button data-testid="traffic-by-host" aria-pressed={kind === 'hosts'} onClick={() => setKind('hosts')}>
            Hosts
          </button>
        </span>
      </figcaption>
      <ResponsiveContainer width="100%" height={170}>
        <ComposedChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--line)" />
          <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} tickFormatter={time} minTickGap={40} stroke="var(--muted)" fontSize={11} />
          <YAxis tickFormatter={(v) => formatRate(Number(v))} stroke="var(--muted)" fontSize={11} width={70} />
          <Tooltip labelFormatter={(t) => time(Number(t))} formatter={(v) => formatRate(Number(v))} />
          {/* our own entries: recharts' registered payload was seen listing the ceiling four times on a busy machine */}
          <Legend wrapperStyle={{ fontSize: 11 }} content={() => <TrafficLegend entries={entries} />} />
          {entries.slice(0, -1).map((e) => (
            <Area
              key={e.id}
              type="monotone"
              dataKey={e.id}
              name={e.label}
              stackId="traffic"
              stroke={e.color}
              fill={e.color}
              fillOpacity={0.4}
              isAnimationActive={false}
              dot={false}
            />
          ))}
          <Line type="stepAfter" dataKey="ceiling" name="all interfaces" stroke="var(--text)" strokeDasharray="4 3" dot={false} isAnimationActive={false} />
        </ComposedChart>
      </ResponsiveContainer>
    </figure>
  );
}
