import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useRef, type ReactElement } from 'react';
import type { Row } from '../store/socketStore';
import { cellText, COLUMN_TITLES, COLUMNS, type Column, type Group, type ViewContext } from '../store/view';

export type Item = { kind: 'group'; key: string; group: Group; open: boolean } | { kind: 'row'; key: string; row: Row };

const ROW_HEIGHT = 26;

const SocketRow = memo(function SocketRow({
  row,
  ctx,
  now,
  selected,
  onSelect,
}: {
  row: Row;
  ctx: ViewContext;
  now: number;
  selected: boolean;
  onSelect: (id: string) => void;
}): ReactElement {
  const s = row.socket;
  const unexpected = ctx.expected?.(s) === false;
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
    >
      {COLUMNS.map((c) => (
        <span
          key={c}
          role="cell"
          className={`cell c-${c}${c === 'state' ? ` state-${s.state.toLowerCase()}` : ''}${c === 'process' && !s.process && s.ownerHidden ? ' hidden-owner' : ''}`}
        >
          {c === 'process' && unexpected && <span className="unexpected-badge">unexpected</span>}
          {cellText(c, row, ctx, now)}
        </span>
      ))}
    </div>
  );
});

function GroupRow({
  group,
  open,
  onToggle,
  onKill,
}: {
  group: Group;
  open: boolean;
  onToggle: (key: string) => void;
  onKill: ((g: Group) => void) | null;
}): ReactElement {
  return (
    <div role="row" className="group-head" data-testid="group" data-group-key={group.key} aria-expanded={open} onClick={() => onToggle(group.key)}>
      <span className="chevron">{open ? '▾' : '▸'}</span>
      <span className={group.hidden ? 'group-name hidden-owner' : 'group-name'} data-testid="group-name">
        {group.label}
      </span>
      {group.detail && <span className="muted">{group.detail}</span>}
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
      {group.process && onKill && (
        <button
          className="kill-small"
          data-testid="kill"
          title={`Kill ${group.process.name} (pid ${group.process.pid})`}
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
 * The socket list: a header with sortable columns, then group headings and rows, virtualized (only the rows
 * on screen exist in the DOM) and keyed by socket id, so ten thousand sockets scroll smoothly.
 */
export function SocketTable(props: {
  items: readonly Item[];
  ctx: ViewContext;
  now: number;
  sort: { col: Column; dir: 1 | -1 };
  onSort: (col: Column) => void;
  selectedId: string | null;
  onSelect: (id: string) => void;
  onToggle: (key: string) => void;
  /** null: this client may not kill (a read-only web client); no Kill buttons. */
  onKill: ((g: Group) => void) | null;
  scrollToKey: string | null;
}): ReactElement {
  const parent = useRef<HTMLDivElement>(null);
  const { items } = props;
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => parent.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 15,
    getItemKey: (i) => (items[i] as Item).key,
  });
  useEffect(() => {
    if (props.scrollToKey === null) return;
    const i = items.findIndex((it) => it.key === props.scrollToKey);
    if (i >= 0) virtualizer.scrollToIndex(i, { align: 'auto' });
  }, [props.scrollToKey, items, virtualizer]);
  return (
    <div className="table" role="table">
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
            return (
              <div key={vi.key} className="slot" style={{ transform: `translateY(${vi.start}px)`, height: vi.size }}>
                {it.kind === 'group' ? (
                  <GroupRow group={it.group} open={it.open} onToggle={props.onToggle} onKill={props.onKill} />
                ) : (
                  <SocketRow row={it.row} ctx={props.ctx} now={props.now} selected={it.row.socket.id === props.selectedId} onSelect={props.onSelect} />
                )}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
