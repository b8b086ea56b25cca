import { useEffect, useMemo, useState, type ReactElement } from 'react';
import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
  type YAxisTickContentProps,
} from 'recharts';
import { describeNoOwner, type Socket } from '../../../shared/model';
import type { RatePoint, StatePoint, TrafficPoint } from '../store/socketStore';
import { TrafficChart } from './TrafficChart';

const STATES: Array<[string, string]> = [
  ['LISTEN', '#1f8f5f'],
  ['UNCONN', '#6cc5a0'],
  ['ESTABLISHED', '#3b82f6'],
  ['TIME_WAIT', '#9ca3af'],
  ['CLOSE_WAIT', '#f59e0b'],
  ['other', '#a855f7'],
];

const time = (t: number): string => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
function bytes(n: number): string {
  if (n < 1024) return `${n.toFixed(0)} B/s`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB/s`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB/s`;
}

/** How many characters of a process name a bar label shows; the whole name is its tooltip. */
const LABEL_CHARS = 22;
const TOP_BARS = 10;

/** Shortens a bar's name to fit the axis, with an ellipsis; the full one goes in a tooltip. */
export function barLabel(name: string, max = LABEL_CHARS): string {
  return name.length > max ? `${name.slice(0, max - 1)}…` : name;
}

/** One label per bar (recharts drops ticks it finds crowded: interval={0} keeps them), shortened, with its full name as tooltip. */
function NameTick({ x, y, payload }: YAxisTickContentProps): ReactElement {
  const full = String(payload.value);
  return (
    <text x={Number(x)} y={Number(y)} dy={4} textAnchor="end" fill="var(--muted)" fontSize={11} data-testid="bar-label">
      <title>{full}</title>
      {barLabel(full)}
    </text>
  );
}

/** Below this width four charts do not fit in a row: the panel shows them two at a time (NARROW_CHARTS). */
const NARROW_CHARTS = '(max-width: 1279px)';

/** Whether a media query matches, following it as the window is resized. */
function useMedia(query: string): boolean {
  const [matches, setMatches] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const m = window.matchMedia(query);
    const change = (): void => setMatches(m.matches);
    change();
    m.addEventListener('change', change);
    return () => m.removeEventListener('change', change);
  }, [query]);
  return matches;
}

/**
 * Sockets by state (10 minutes), interface throughput, traffic by process or remote host under it, and the
 * processes with the most sockets. The series are the store's, recorded from start-up: opening the panel shows
 * the minutes before it. Four in a row from 1280 px; below that, two at a time in one row (two rows of two
 * left the table a few rows at 1024x700), with tabs to choose the pair.
 */
export function Charts({
  history,
  rates,
  ratesError: error,
  sockets,
  traffic,
  hostName,
}: {
  history: readonly StatePoint[];
  rates: readonly RatePoint[];
  ratesError: string | null;
  sockets: () => Iterable<Socket>;
  /** null: the source reads no byte counters, so there is no traffic to chart. */
  traffic: readonly TrafficPoint[] | null;
  hostName: (address: string) => string | undefined;
}): ReactElement {
  const stateData = useMemo(
    () =>
      history.map((p) => {
        const row: Record<string, number> = { t: p.t, other: 0 };
        for (const [state, n] of Object.entries(p.counts)) {
          if (STATES.some(([s]) => s === state)) row[state] = n ?? 0;
          else row.other = (row.other ?? 0) + (n ?? 0);
        }
        return row;
      }),
    [history],
  );
  const last = history[history.length - 1];
  const top = useMemo(() => {
    const by = new Map<string, number>();
    for (const s of sockets()) {
      const name = s.process ? `${s.process.name} (${s.process.pid})` : s.noOwner ? describeNoOwner(s.noOwner) : 'no process';
      by.set(name, (by.get(name) ?? 0) + 1);
    }
    return [...by]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP_BARS)
      .map(([name, count]) => ({ name, count }));
    // recomputed when the history moves (one point a second), not on every delta: `last` is that version
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [last, sockets]);

  const narrow = useMedia(NARROW_CHARTS);
  const [pair, setPair] = useState(0);
  const figures: Array<{ key: string; title: string; node: ReactElement }> = [];
  figures.push({
    key: 'states',
    title: 'Sockets',
    node: (
      <figure key="states" data-testid="chart-states" data-since={history[0]?.t}>
        <figcaption>Sockets by state, last 10 minutes</figcaption>
        <ResponsiveContainer width="100%" height={170}>
          <AreaChart data={stateData} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--line)" />
            <XAxis dataKey="t" tickFormatter={time} minTickGap={40} stroke="var(--muted)" fontSize={11} />
            <YAxis stroke="var(--muted)" fontSize={11} width={44} />
            <Tooltip labelFormatter={(t) => time(Number(t))} />
            <Legend iconSize={8} wrapperStyle={{ fontSize: 11 }} />
            {STATES.map(([s, color]) => (
              <Area key={s} type="monotone" dataKey={s} stackId="1" stroke={color} fill={color} fillOpacity={0.35} isAnimationActive={false} dot={false} />
            ))}
          </AreaChart>
        </ResponsiveContainer>
      </figure>
    ),
  });
  figures.push({
    key: 'rates',
    title: 'Throughput',
    node: (
      <figure key="rates" data-testid="chart-rates" data-since={rates[0]?.t}>
        <figcaption title={error ?? undefined}>Throughput, all interfaces but loopback{error ? ` — ${error}` : ''}</figcaption>
        <ResponsiveContainer width="100%" height={170}>
          <LineChart data={rates} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--line)" />
            <XAxis dataKey="t" tickFormatter={time} minTickGap={40} stroke="var(--muted)" fontSize={11} />
            <YAxis tickFormatter={bytes} stroke="var(--muted)" fontSize={11} width={70} />
            <Tooltip labelFormatter={(t) => time(Number(t))} formatter={(v) => bytes(Number(v))} />
            <Legend iconSize={8} wrapperStyle={{ fontSize: 11 }} />
            <Line type="monotone" dataKey="rx" name="in" stroke="#3b82f6" dot={false} isAnimationActive={false} />
            <Line type="monotone" dataKey="tx" name="out" stroke="#f59e0b" dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </figure>
    ),
  });
  if (traffic) figures.push({ key: 'traffic', title: 'Traffic', node: <TrafficChart key="traffic" traffic={traffic} rates={rates} hostName={hostName} /> });
  figures.push({
    key: 'top',
    title: 'Top processes',
    node: (
      <figure key="top" data-testid="chart-top" data-bars={top.length}>
        <figcaption>Processes with the most sockets</figcaption>
        <ResponsiveContainer width="100%" height={170}>
          <BarChart data={top} layout="vertical" margin={{ top: 4, right: 8, bottom: 0, left: 0 }} barCategoryGap={2}>
            <XAxis type="number" stroke="var(--muted)" fontSize={11} allowDecimals={false} />
            <YAxis type="category" dataKey="name" width={150} stroke="var(--muted)" fontSize={11} interval={0} tick={NameTick} />
            <Tooltip />
            <Bar dataKey="count" fill="#1f8f5f" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </figure>
    ),
  });
  const pairs = narrow ? Math.ceil(figures.length / 2) : 1;
  const shown = Math.min(pair, pairs - 1);
  return (
    <section className={`charts${narrow ? ' charts-narrow' : ''}`} data-testid="charts" data-pair={narrow ? shown : undefined}>
      {narrow && (
        <div className="charts-pairs tabs" role="tablist" aria-label="Charts shown">
          {Array.from({ length: pairs }, (_, i) => (
            <button key={i} role="tab" aria-selected={i === shown} data-testid={`charts-pair-${i}`} onClick={() => setPair(i)}>
              {figures
                .slice(2 * i, 2 * i + 2)
                .map((f) => f.title)
                .join(' · ')}
            </button>
          ))}
        </div>
      )}
      {(narrow ? figures.slice(2 * shown, 2 * shown + 2) : figures).map((f) => f.node)}
    </section>
  );
}
