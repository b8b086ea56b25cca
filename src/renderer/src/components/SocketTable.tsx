import { createContext, memo, useCallback, useContext, useEffect, useRef, type MouseEvent, type ReactElement } from 'react';
import { lastOwnerOf, type Socket } from '../../../shared/model';
import type { Row } from '../store/socketStore';
import { cellText, cellTitle, COLUMN_TITLES, COLUMNS, type Column, type Group, type ViewContext } from '../store/view';
import type { SparkPoint } from '../store/sparkHistory';
import type { TreeItem } from '../store/tree';
import { useBlockVirtualizer } from './blockVirtualizer';
import { Sparkline } from './Sparkline';
import { TreeNodeRow } from './TreeNodeRow';

/** A group heading (with its process's sparkline, in process grouping), a heading of tree mode, or a socket. */
export type Item = { kind: 'group'; key: string; group: Group; open: boolean } | Extract<TreeItem, { kind: 'node' }> | { kind: 'row'; key: string; row: Row };

const ROW_HEIGHT = 26;
/** Items rendered beyond each edge of the view, before blockRange widens them to whole blocks. */
const OVERSCAN = 5;

/**
 * The clock the Age cells read (it moves every second): through a context, so that a tick renders the Age
 * cells on screen and not every cell of every row.
 */
const NowContext = createContext(0);

/** The Age cell: the only one that follows the clock. */
function AgeCell({ row, ctx, className }: { row: Row; ctx: ViewContext; className: string }): ReactElement {
  const text = cellText('age', row, ctx, useContext(NowContext));
  return (
    <span role="cell" className={className} title={text || undefined}>
      {text}
    </span>
  );
}

/** A socket's row: rendered again only when its row, its selection or the context changes (never by the clock). */
const SocketRow = memo(function SocketRow({
  row,
  ctx,
  selected,
  onSelect,
  onMenu,
}: {
  row: Row;
  ctx: ViewContext;
  selected: boolean;
  onSelect: (id: string) => void;
  onMenu: (s: Socket, x: number, y: number) => void;
}): ReactElement {
  const s = row.socket;
  const unexpected = ctx.expected?.(s) === false;
  const menuAt = (e: MouseEvent<HTMLElement>, x: number, y: number): void => {
    e.preventDefault();
    e.stopPropagation();
    onMenu(s, x, y);
  };
  const lastOwner = lastOwnerOf(s) !== null;
  return (
    <div
      role="row"
      className={`row${selected ? ' selected' : ''}${row.change ? ` change-${row.change}` : ''}${s.listening ? ' listening' : ''}${unexpected ? ' unexpected' : ''}`}
      data-unexpected={unexpected ? 'true' : undefined}
      data-testid="socket-row"
      data-socket-id={s.id}
      data-change={row.change ?? undefined}
      aria-selected={selected}
      onClick={() => onSelect(s.id)}
      onContextMenu={(e) => menuAt(e, e.clientX, e.clientY)}
    >
      {COLUMNS.map((c) => {
        const cls = `cell c-${c}${c === 'state' ? ` state-${s.state.toLowerCase()}` : ''}${c === 'process' && !s.process && s.ownerHidden ? ' hidden-owner' : ''}${c === 'process' && lastOwner ? ' last-owner' : ''}`;
        if (c === 'age') return <AgeCell key={c} row={row} ctx={ctx} className={cls} />;
        const text = cellText(c, row, ctx, 0);
        // the process cell: the badge keeps its own space, the name truncates beside it
        return c === 'process' ? (
          <span key={c} role="cell" className={`${cls} with-badge`} title={cellTitle(c, row, text)}>
            {unexpected && (
              // a narrow column shows the short form: the name keeps its room
              <span className="unexpected-badge" title="Unexpected listener: no rule of the expected ports covers it">
                <span className="badge-long">unexpected</span>
                <span className="badge-short">!</span>
              </span>
            )}
            <span className="cell-text" data-testid="process-text">
              {text}
            </span>
          </span>
        ) : (
          <span key={c} role="cell" className={cls} title={cellTitle(c, row, text, ctx) || undefined}>
            {text}
          </span>
        );
      })}
      <button
        className="row-menu-button"
        data-testid="row-menu-button"
        aria-label="Row actions"
        title="Actions (right-click, or the Menu key)"
        onClick={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          menuAt(e, r.left, r.bottom);
        }}
      >
        ⋯
      </button>
    </div>
  );
});

function GroupRow({
  group,
  open,
  spark,
  noCounters,
  onToggle,
  onKill,
}: {
  group: Group;
  open: boolean;
  spark: readonly SparkPoint[] | undefined;
  noCounters: string;
  onToggle: (g: Group) => void;
  onKill: ((g: Group) => void) | null;
}): ReactElement {
  return (
    <div
      role="row"
      className={group.folded ? 'group-head kernel-held' : 'group-head'}
      data-testid="group"
      data-group-key={group.key}
      aria-expanded={open}
      onClick={() => onToggle(group)}
    >
      <span className="chevron">{open ? '▾' : '▸'}</span>
      <span className={group.hidden ? 'group-name hidden-owner' : 'group-name'} data-testid="group-name" title={group.title ?? group.label}>
        {group.label}
      </span>
      {group.detail && (
        <span className="muted group-detail" title={group.detail}>
          {group.detail}
        </span>
      )}
      {group.unexpected ? (
        <span className="unexpected-badge" data-testid="group-unexpected">
          {group.unexpected} unexpected
        </span>
      ) : null}
      <span className="ports">
        {group.ports.slice(0, 10).map((p) => (
          <span key={p} className="port-chip" data-testid="port-chip">
            :{p}
          </span>
        ))}
        {group.ports.length > 10 && <span className="muted">+{group.ports.length - 10}</span>}
      </span>
      {spark && <Sparkline points={spark} noCounters={noCounters} />}
      {group.process && onKill && (
        <button
          className="kill-small"
          data-testid="kill"
          disabled={group.gone === true}
          title={
            group.gone
              ? `${group.process.name} (pid ${group.process.pid}) has exited: every socket of it has closed`
              : `Kill ${group.process.name} (pid ${group.process.pid})`
          }
          onClick={(e) => {
            e.stopPropagation();
            onKill(group);
          }}
        >
          Kill…
        </button>
      )}
      <span className="count" data-testid="group-count">
        {group.rows.length}
      </span>
    </div>
  );
}

/**
 * One positioned item of the list: memoized, so that a scroll step, which renders the table again, leaves the
 * slots already on screen alone.
 */
const Slot = memo(function Slot({
  item: it,
  start,
  size,
  selected,
  spark,
  ctx,
  noCounters,
  onSelect,
  onMenu,
  onToggle,
  onToggleNode,
  onKill,
}: {
  item: Item;
  start: number;
  size: number;
  selected: boolean;
  spark: readonly SparkPoint[] | undefined;
  ctx: ViewContext;
  noCounters: string;
  onSelect: (id: string) => void;
  onMenu: (s: Socket, x: number, y: number) => void;
  onToggle: (g: Group) => void;
  onToggleNode: (key: string, folded: boolean) => void;
  onKill: ((g: Group) => void) | null;
}): ReactElement {
  return (
    <div className="slot" style={{ top: start, height: size }}>
      {it.kind === 'group' ? (
        <GroupRow group={it.group} open={it.open} spark={spark} noCounters={noCounters} onToggle={onToggle} onKill={onKill} />
      ) : it.kind === 'node' ? (
        <TreeNodeRow node={it.node} open={it.open} spark={spark} noCounters={noCounters} onToggle={onToggleNode} onKill={onKill} />
      ) : (
        <SocketRow row={it.row} ctx={ctx} selected={selected} onSelect={onSelect} onMenu={onMenu} />
      )}
    </div>
  );
});

/**
 * The socket list: a header with sortable columns, then group headings and rows, virtualized (only the rows
 * on screen exist in the DOM) and keyed by socket id, so ten thousand sockets scroll smoothly. Memoized: the
 * window renders for each alert and status change, which leave the table's props as they were.
 */
export const SocketTable = memo(function SocketTable(props: {
  items: readonly Item[];
  ctx: ViewContext;
  now: number;
  sort: { col: Column; dir: 1 | -1 };
  onSort: (col: Column) => void;
  selectedId: string | null;
  onSelect: (id: string) => void;
  onToggle: (g: Group) => void;
  /** Opens or closes a heading of tree mode. */
  onToggleNode: (key: string, folded: boolean) => void;
  /** The source reads no byte counters (procfs, systeminformation): the traffic columns give way. */
  noRates: boolean;
  /** A row's menu, opened at a point of the window. */
  onMenu: (s: Socket, x: number, y: number) => void;
  /** null: this client may not kill (a read-only web client); no Kill buttons. */
  onKill: ((g: Group) => void) | null;
  /**
   * Brings the selected row into view each time this changes (keyboard navigation, "show me"), and only
   * then: a poll, a click or a re-sort leaves the scroll position where the user put it.
   */
  reveal: number;
  /** Each process's traffic over the last 60 s, by process key (a process group's key), for the sparklines. */
  sparks?: ReadonlyMap<string, readonly SparkPoint[]>;
}): ReactElement {
  const parent = useRef<HTMLDivElement>(null);
  const { items } = props;
  const noCounters = props.ctx.noCounters ?? 'no byte counters';
  // the same function until the items change: a new one makes the virtualizer measure every item again, on
  // each render of a scroll step (ten thousand keys a frame)
  const getItemKey = useCallback((i: number) => (items[i] as Item).key, [items]);
  const virtualizer = useBlockVirtualizer({
    count: items.length,
    getScrollElement: () => parent.current,
    rowHeight: ROW_HEIGHT,
    overscan: OVERSCAN,
    getItemKey,
  });
  // A reveal is done once, when its row is in the list (at once, or once its group has opened); new items
  // alone (a poll) never scroll, and a reveal whose row never came is dropped when the selection moves on.
  const pending = useRef<{ reveal: number; id: string | null; done: boolean }>({ reveal: 0, id: null, done: true });
  useEffect(() => {
    const p = pending.current;
    // a new request is for the row selected with it
    if (props.reveal !== p.reveal) pending.current = { reveal: props.reveal, id: props.selectedId, done: false };
    const r = pending.current;
    if (r.done) return;
    if (r.id === null || r.id !== props.selectedId) {
      r.done = true;
      return;
    }
    const i = items.findIndex((it) => it.key === r.id);
    if (i < 0) return;
    r.done = true;
    virtualizer.scrollToIndex(i, { align: 'auto' });
  }, [props.reveal, props.selectedId, items, virtualizer]);
  const table = (
    <div className={props.noRates ? 'table no-rates' : 'table'} role="table" data-rates={props.noRates ? 'none' : 'shown'}>
      <div className="row header" role="row">
        {COLUMNS.map((c) => (
          <button
            key={c}
            role="columnheader"
            className={`cell c-${c}`}
            data-testid={`sort-${c}`}
            onClick={() => props.onSort(c)}
            aria-sort={props.sort.col === c ? (props.sort.dir === 1 ? 'ascending' : 'descending') : 'none'}
          >
            {COLUMN_TITLES[c]}
            {props.sort.col === c ? (props.sort.dir === 1 ? ' ▲' : ' ▼') : ''}
          </button>
        ))}
      </div>
      <div className="scroller" ref={parent} data-testid="scroller">
        {items.length === 0 && <p className="empty">No sockets match.</p>}
        <div className="spacer" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((vi) => {
            const it = items[vi.index] as Item;
            const key = it.kind === 'group' ? it.group.key : it.kind === 'node' && it.node.depth === 0 ? it.node.key : null;
            return (
              <Slot
                key={vi.key}
                item={it}
                start={vi.start}
                size={vi.size}
                selected={it.kind === 'row' && it.row.socket.id === props.selectedId}
                spark={key === null ? undefined : props.sparks?.get(key)}
                ctx={props.ctx}
                noCounters={noCounters}
                onSelect={props.onSelect}
                onMenu={props.onMenu}
                onToggle={props.onToggle}
                onToggleNode={props.onToggleNode}
                onKill={props.onKill}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
  // the clock reaches the Age cells alone, through a context (NowContext)
  return <NowContext value={props.now}>{table}</NowContext>;
});
