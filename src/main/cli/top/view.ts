import { Box, Text, useApp, useInput, useStdout, type Key } from 'ink';
import { createElement as h, useEffect, useMemo, useReducer, useRef, useState, useSyncExternalStore, type ReactElement } from 'react';
import type { KillPlan } from '../../../shared/killPlan';
import type { ClosedConnection, Socket } from '../../../shared/model';
import { parseQuery, type Query } from '../../../shared/query';
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
  /** The poll interval asked for (--interval), shown in the header. */
  pollMs: number;
  source: string | null;
  /** Polls so far (a frozen view says how far behind it is). */
  polls: number;
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

/** What the keys change (see TopApp). */
interface Ui {
  sort: SortKey;
  filter: { text: string; query: Query | null };
  expanded: ReadonlySet<string>;
  selected: { id: string | null; index: number };
  mode: Mode;
}

export interface TopProps {
  feed: TopFeed;
  killer: TopKiller;
  initialFilter: string;
  initialQuery: Query | null;
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
  // What the keys act on lives in a ref, written at once by each key and read by the next: keys that arrive
  // together (a paste, tmux send-keys) each see what the one before did, and a render for a poll (React may run
  // it before the key's update) cannot hand a key stale state. bump() redraws.
  const ui = useRef<Ui>({
    sort: 'rate',
    filter: { text: initialFilter, query: initialQuery },
    expanded: new Set(),
    selected: { id: null, index: 0 },
    mode: { kind: 'list' },
  }).current;
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const { sort, filter, expanded, selected, mode } = ui;
  const [top, setTop] = useState(0);
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

  const toMode = (m: Mode): void => {
    ui.mode = m;
    bump();
  };
  const select = (i: number): void => {
    const it = items[i];
    if (!it) return;
    ui.selected = { id: it.id, index: i };
    bump();
  };

  const onKey = (input: string, key: Key): void => {
    const { mode: m, sort: k, expanded: open } = ui;
    const at = reselect(items, ui.selected.id, ui.selected.index);
    if (m.kind === 'filter') {
      if (key.escape) toMode({ kind: 'list' });
      else if (key.return) {
        const q = parseQuery(m.text);
        if (q.ok) {
          ui.filter = { text: m.text, query: m.text.trim() === '' ? null : q.query };
          toMode({ kind: 'list' });
        }
      } else if (key.backspace || key.delete) toMode({ kind: 'filter', text: [...m.text].slice(0, -1).join('') });
      else if (input && !key.ctrl && !key.meta) toMode({ kind: 'filter', text: m.text + input.replace(/[\p{Cc}]/gu, '') });
      return;
    }
    if (m.kind === 'details') {
      if (key.escape || key.return || input === 'q') toMode({ kind: 'list' });
      return;
    }
    if (m.kind === 'kill') {
      toMode({ kind: 'list' });
      if (!m.guard && (input === 'y' || input === 'Y')) {
        setMessage('killing...');
        void m
          .kill()
          .then(setMessage, (e: unknown) => setMessage(`kill failed: ${e instanceof Error ? e.message : String(e)}`))
          .finally(m.release);
      } else {
        m.release();
        if (!m.guard) setMessage('not killed');
      }
      return;
    }
    if (input === 'q') exit();
    else if (input === 's') {
      ui.sort = nextSort(k);
      bump();
    } else if (input === '/') toMode({ kind: 'filter', text: ui.filter.text });
    else if (input === ' ') setFrozen((f) => (f ? null : live));
    else if (key.upArrow) select(Math.max(0, at - 1));
    else if (key.downArrow) select(Math.min(items.length - 1, at + 1));
    else if (key.pageUp) select(Math.max(0, at - listHeight));
    else if (key.pageDown) select(Math.min(items.length - 1, at + listHeight));
    else if (key.return) {
      const it = items[at];
      if (it?.kind === 'process') {
        const next = new Set(open);
        if (!next.delete(it.id)) next.add(it.id);
        ui.expanded = next;
        bump();
      } else if (it) toMode({ kind: 'details', row: it });
    } else if (input === 'k') {
      const it = items[at];
      const pid = it?.kind === 'process' ? it.pid : (it?.socket.pid ?? null);
      if (pid === null || pid === undefined) {
        setMessage('no process to kill here');
        return;
      }
      const prepared = killer.prepare(pid, data.sockets);
      toMode({
        kind: 'kill',
        lines: killPromptLines(prepared.plan, width, prepared.guard),
        guard: prepared.guard !== null,
        kill: prepared.kill,
        release: prepared.release,
      });
    }
  };
  // keys typed faster than a read (a paste, tmux send-keys, a loaded machine) arrive as one string, and Ink
  // then flags none of them: each character is a key of its own, backspaces and Enter included (an escape
  // sequence, an arrow key, stays whole)
  useInput((input, key) => {
    const plain = [...input];
    if (plain.length <= 1 || input.startsWith('\x1b')) return onKey(input, key);
    for (const c of plain) {
      if (c === '\x7f' || c === '\b') onKey('', { ...key, backspace: true });
      else if (c === '\r' || c === '\n') onKey('', { ...key, return: true });
      else onKey(c, key);
    }
  });

  const lines: ReactElement[] = [];
  const text = (key: string, t: string, o: { inverse?: boolean; bold?: boolean; color?: string } = {}): ReactElement =>
    h(Text, { key, wrap: 'truncate', ...o }, t);
  summaryLines(rows, {
    width,
    sort,
    filter: filter.text,
    frozen: frozen === null ? null : live.polls - frozen.polls,
    intervalMs: data.pollMs,
    source: data.source,
  }).forEach((l, i) => lines.push(text(`s${i}`, l, { bold: i === 0 })));
  if (mode.kind === 'details') detailLines(mode.row, width).forEach((l, i) => lines.push(text(`d${i}`, l)));
  else if (mode.kind === 'kill')
    mode.lines.slice(0, height - 3).forEach((l, i) => lines.push(text(`k${i}`, l, { bold: i === 0, color: mode.guard ? 'red' : 'yellow' })));
  else {
    lines.push(text('head', headerLine(cols, sort), { inverse: true }));
    for (let i = first; i < Math.min(items.length, first + listHeight); i++) {
      const it = items[i];
      if (it) lines.push(text(it.id, itemLine(it, cols, expanded.has(it.id)), { inverse: i === index }));
    }
    for (let i = items.length - first; i < listHeight; i++) lines.push(text(`e${i}`, ' '));
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
