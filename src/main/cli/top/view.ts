import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { createElement as h, useEffect, useMemo, useState, useSyncExternalStore, type ReactElement } from 'react';
import type { KillPlan } from '../../../shared/killPlan';
import type { ClosedConnection, Socket } from '../../../shared/model';
import { parseQuery, type QueryTerm } from '../../../shared/query';
import { inert } from '../../../shared/inert';
import {
  buildRows,
  clip,
  detailLines,
  filterEditLines,
  fitColumns,
  headerLine,
  itemLine,
  killPromptLines,
  legendLine,
  nextSort,
  reselect,
  scrollTop,
  summaryLines,
  visibleItems,
  type ConnectionRow,
  type SortKey,
} from './model';

/*
 * The Ink components of `portwatch top`: thin. What a line says is model.ts's; here are the keys, the modes
 * (list, filter, details, kill) and the layout, which never draws more lines than the terminal has less one
 * (Ink clears the whole screen when its output reaches the terminal's height: a flicker at every poll).
 */

/** One poll as the view sees it. */
export interface TopData {
  sockets: readonly Socket[];
  closed: readonly ClosedConnection[];
  intervalMs: number;
  source: string | null;
  /** A warning or error line from the monitor; null when all is well. */
  status: string | null;
}

/** The polls, as an external store (useSyncExternalStore). */
export interface TopFeed {
  subscribe(listener: () => void): () => void;
  get(): TopData;
}

/** What killing needs from outside: a plan over the sockets in view, and the CLI's pinned, guarded kill. */
export interface TopKiller {
  /** The plan, and why the kill is refused (pid 1, Portwatch itself, ...) or null; pins the process. */
  prepare(pid: number, sockets: readonly Socket[]): { plan: KillPlan; guard: string | null; release: () => void; kill: () => Promise<string> };
}

type Mode =
  | { kind: 'list' }
  | { kind: 'filter'; text: string }
  | { kind: 'details'; row: ConnectionRow }
  | { kind: 'kill'; lines: string[]; guard: boolean; kill: () => Promise<string>; release: () => void };

export interface TopProps {
  feed: TopFeed;
  killer: TopKiller;
  initialFilter: string;
  initialQuery: QueryTerm[] | null;
}

function useSize(): { width: number; height: number } {
  const { stdout } = useStdout();
  const read = (): { width: number; height: number } => ({ width: stdout.columns || 80, height: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const on = (): void => setSize(read());
    stdout.on('resize', on);
    return () => {
      stdout.off('resize', on);
    };
  });
  return size;
}

export function TopApp({ feed, killer, initialFilter, initialQuery }: TopProps): ReactElement {
  const { exit } = useApp();
  const live = useSyncExternalStore(feed.subscribe, feed.get);
  const [frozen, setFrozen] = useState<typeof live | null>(null);
  const data = frozen ?? live;
  const [sort, setSort] = useState<SortKey>('rate');
  const [filter, setFilter] = useState({ text: initialFilter, query: initialQuery });
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const [selected, setSelected] = useState<{ id: string | null; index: number }>({ id: null, index: 0 });
  const [top, setTop] = useState(0);
  const [mode, setMode] = useState<Mode>({ kind: 'list' });
  const [message, setMessage] = useState<string | null>(null);
  const { width, height } = useSize();

  const rows = useMemo(() => buildRows(data.sockets, data.closed, data.intervalMs, sort, filter.query), [data, sort, filter]);
  const items = useMemo(() => visibleItems(rows.processes, expanded), [rows, expanded]);
  const index = reselect(items, selected.id, selected.index);
  const cols = fitColumns(width);
  // two summary lines, the column heading, the status or message line, the legend; one line spare (see above)
  const listHeight = Math.max(1, height - 6);
  const first = scrollTop(top, index, listHeight, items.length);
  useEffect(() => {
    if (first !== top) setTop(first);
  }, [first, top]);

  const select = (i: number): void => {
    const it = items[i];
    if (it) setSelected({ id: it.id, index: i });
  };

  useInput((input, key) => {
    if (mode.kind === 'filter') {
      if (key.escape) setMode({ kind: 'list' });
      else if (key.return) {
        const q = parseQuery(mode.text);
        if (q.ok) {
          setFilter({ text: mode.text, query: mode.text.trim() === '' ? null : q.terms });
          setMode({ kind: 'list' });
        }
      } else if (key.backspace || key.delete) setMode({ kind: 'filter', text: [...mode.text].slice(0, -1).join('') });
      else if (input && !key.ctrl && !key.meta) setMode({ kind: 'filter', text: mode.text + input.replace(/[\p{Cc}]/gu, '') });
      return;
    }
    if (mode.kind === 'details') {
      if (key.escape || key.return || input === 'q') setMode({ kind: 'list' });
      return;
    }
    if (mode.kind === 'kill') {
      setMode({ kind: 'list' });
      if (!mode.guard && (input === 'y' || input === 'Y')) {
        setMessage('killing...');
        void mode
          .kill()
          .then(setMessage, (e: unknown) => setMessage(`kill failed: ${e instanceof Error ? e.message : String(e)}`))
          .finally(mode.release);
      } else {
        mode.release();
        if (!mode.guard) setMessage('not killed');
      }
      return;
    }
    if (input === 'q' || key.escape) exit();
    else if (input === 's') setSort(nextSort(sort));
    else if (input === '/') setMode({ kind: 'filter', text: filter.text });
    else if (input === ' ') setFrozen(frozen ? null : live);
    else if (key.upArrow) select(Math.max(0, index - 1));
    else if (key.downArrow) select(Math.min(items.length - 1, index + 1));
    else if (key.pageUp) select(Math.max(0, index - listHeight));
    else if (key.pageDown) select(Math.min(items.length - 1, index + listHeight));
    else if (key.return) {
      const it = items[index];
      if (it?.kind === 'process') {
        const next = new Set(expanded);
        if (!next.delete(it.id)) next.add(it.id);
        setExpanded(next);
      } else if (it) setMode({ kind: 'details', row: it });
    } else if (input === 'k') {
      const it = items[index];
      const pid = it?.kind === 'process' ? it.pid : (it?.socket.pid ?? null);
      if (pid === null || pid === undefined) {
        setMessage('no process to kill here');
        return;
      }
      const k = killer.prepare(pid, data.sockets);
      setMode({ kind: 'kill', lines: killPromptLines(k.plan, width, k.guard), guard: k.guard !== null, kill: k.kill, release: k.release });
    }
  });

  const lines: ReactElement[] = [];
  const text = (key: string, t: string, o: { inverse?: boolean; bold?: boolean; color?: string } = {}): ReactElement => h(Text, { key, wrap: 'truncate', ...o }, t);
  summaryLines(rows, { width, sort, filter: filter.text, frozen: frozen !== null, intervalMs: data.intervalMs, source: data.source }).forEach((l, i) =>
    lines.push(text(`s${i}`, l, { bold: i === 0 })),
  );
  if (mode.kind === 'details') detailLines(mode.row, width).forEach((l, i) => lines.push(text(`d${i}`, l)));
  else if (mode.kind === 'kill') mode.lines.slice(0, height - 3).forEach((l, i) => lines.push(text(`k${i}`, l, { bold: i === 0, color: mode.guard ? 'red' : 'yellow' })));
  else {
    lines.push(text('head', headerLine(cols, sort), { inverse: true }));
    for (let i = first; i < Math.min(items.length, first + listHeight); i++) {
      const it = items[i];
      if (it) lines.push(text(it.id, itemLine(it, cols, expanded.has(it.id)), { inverse: i === index }));
    }
    for (let i = items.length - first; i < listHeight; i++) lines.push(text(`e${i}`, ''));
    if (mode.kind === 'filter') {
      const q = parseQuery(mode.text);
      filterEditLines(mode.text, q.ok ? null : q, width).forEach((l, i) => lines.push(text(`f${i}`, l, { color: !q.ok && i === 1 ? 'red' : undefined })));
    } else {
      lines.push(text('msg', clip(inert(message ?? data.status ?? ''), width)));
      lines.push(text('legend', legendLine(width), { color: 'gray' }));
    }
  }
  return h(Box, { flexDirection: 'column', width }, ...lines);
}
