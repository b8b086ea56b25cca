import { memo, type KeyboardEvent, type ReactElement } from 'react';
import { describeRateSum, formatRateSum } from '../../../shared/traffic';
import type { SparkPoint } from '../store/sparkHistory';
import type { TreeNode } from '../store/tree';
import type { Group } from '../store/view';
import { Sparkline } from './Sparkline';

/** Moves the keyboard focus to the next (1) or previous (-1) heading of the tree on screen. */
function focusSibling(from: HTMLElement, step: 1 | -1): void {
  const all = [...document.querySelectorAll<HTMLElement>('[data-testid=tree-node]')];
  all[all.indexOf(from) + step]?.focus();
}

/**
 * One heading of tree mode (process, remote host or remote port) with its traffic summed. Keyboard: Tab
 * reaches it, Enter or Space opens and closes it, → opens, ← closes, ↑ ↓ move between headings.
 */
export const TreeNodeRow = memo(function TreeNodeRow({
  node,
  open,
  spark,
  noCounters,
  onToggle,
  onKill,
}: {
  node: TreeNode;
  open: boolean;
  spark: readonly SparkPoint[] | undefined;
  noCounters: string;
  onToggle: (key: string, folded: boolean) => void;
  onKill: ((g: Group) => void) | null;
}): ReactElement {
  const toggle = (): void => onToggle(node.key, node.folded);
  const onKey = (e: KeyboardEvent<HTMLDivElement>): void => {
    if (e.target !== e.currentTarget) return;
    const k = e.key;
    if (k === 'Enter' || k === ' ' || (k === 'ArrowRight' && !open) || (k === 'ArrowLeft' && open)) toggle();
    else if (k === 'ArrowDown' || k === 'ArrowUp') focusSibling(e.currentTarget, k === 'ArrowDown' ? 1 : -1);
    else return;
    // the window's keys (row selection, details) stay out of it
    e.preventDefault();
    e.stopPropagation();
  };
  const g = node.group;
  const sum = formatRateSum(node.rates);
  return (
    <div
      role="row"
      tabIndex={0}
      className={`group-head tree-node depth-${node.depth}${g?.folded ? ' kernel-held' : ''}`}
      data-testid="tree-node"
      data-depth={node.depth}
      data-node-key={node.key}
      data-rate={node.rates.counted > 0 ? node.rates.rateIn + node.rates.rateOut : undefined}
      aria-level={node.depth + 1}
      aria-expanded={open}
      onClick={toggle}
      onKeyDown={onKey}
    >
      <span className="chevron">{open ? '▾' : '▸'}</span>
      <span className={g?.hidden ? 'group-name hidden-owner' : 'group-name'} data-testid="tree-label" title={node.title ?? node.label}>
        {node.label}
      </span>
      {node.detail && (
        <span className="muted group-detail" title={node.detail}>
          {node.detail}
        </span>
      )}
      <span className="spacer-flex" />
      {node.depth === 0 && g?.process && <Sparkline points={spark} noCounters={noCounters} />}
      <span className="tree-rate" data-testid="tree-rate" title={describeRateSum(node.rates, noCounters) || undefined}>
        {sum}
      </span>
      {g?.process && onKill && (
        <button
          className="kill-small"
          data-testid="kill"
          disabled={g.gone === true}
          title={g.gone ? `${g.process.name} (pid ${g.process.pid}) has exited` : `Kill ${g.process.name} (pid ${g.process.pid})`}
          onClick={(e) => {
            e.stopPropagation();
            onKill(g);
          }}
        >
          Kill…
        </button>
      )}
      <span className="count" data-testid="group-count">
        {node.count}
      </span>
    </div>
  );
});
