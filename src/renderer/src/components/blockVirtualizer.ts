import { elementScroll, observeElementOffset, observeElementRect, Virtualizer, type Range } from '@tanstack/react-virtual';
import { useLayoutEffect, useReducer, useRef, useState } from 'react';
import { flushSync } from 'react-dom';

/** Rows are mounted and unmounted this many at a time (see blockRange). */
export const BLOCK = 10;

type ListVirtualizer = Virtualizer<HTMLDivElement, Element>;

/**
 * The items to render: from the block (of `block` items) that holds the first one in view less the overscan,
 * enough for a view of `viewRows` rows, the overscan at both ends and a block. The rendered set then changes only
 * when a block boundary is crossed (every second step of a fast scroll at 120 px a step), at both ends at once;
 * the steps in between scroll what is already there: no render, no DOM change, no style, layout or paint.
 */
export function blockRange(r: Range, viewRows: number, block = BLOCK): number[] {
  if (r.count === 0) return [];
  const start = Math.max(0, Math.floor((r.startIndex - r.overscan) / block) * block);
  // the first item in view is before start + block + overscan, so the last one is before that + the view's rows
  const rows = Math.max(viewRows, r.endIndex - r.startIndex + 1);
  const end = Math.min(r.count - 1, start + block + rows + 2 * r.overscan - 1);
  const out: number[] = [];
  for (let i = start; i <= end; i++) out.push(i);
  return out;
}

/** What a render of the list shows: which items, where, and the list's height. */
function shown(v: ListVirtualizer): string {
  const items = v.getVirtualItems();
  const first = items[0];
  return first ? `${first.index}:${items.length}:${first.start}:${v.getTotalSize()}` : `-:${v.getTotalSize()}`;
}

/**
 * `useVirtualizer` of @tanstack/react-virtual for a scrolling element and items of one fixed height (nothing is
 * measured), rendering the list again only when what it shows changes (blockRange's blocks): the library's hook
 * renders on every change of the visible range or of isScrolling, which is every step of a scroll.
 */
export function useBlockVirtualizer(opts: {
  count: number;
  getScrollElement: () => HTMLDivElement | null;
  rowHeight: number;
  getItemKey: (index: number) => string;
  overscan: number;
}): ListVirtualizer {
  const { rowHeight, ...rest } = opts;
  const rerender = useReducer((x: number) => x + 1, 0)[1];
  // what the last commit showed, so that a scroll within the blocks on screen renders nothing
  const rendered = useRef('');
  // one function for the virtualizer's life (a new one computes the range again), reading the view's height
  const [extract] = useState(() => {
    const list: { v: ListVirtualizer | null } = { v: null };
    // the rows of the view: a partly shown one at each edge
    const rangeExtractor = (r: Range): number[] => blockRange(r, Math.ceil((list.v?.scrollRect?.height ?? 0) / rowHeight) + 1);
    return { list, rangeExtractor };
  });
  const options = {
    ...rest,
    estimateSize: () => rowHeight,
    observeElementRect,
    observeElementOffset,
    scrollToFn: elementScroll,
    rangeExtractor: extract.rangeExtractor,
    // isScrolling ends with the scrollend event, not with a timer set again on every scroll event
    useScrollendEvent: true,
    onChange: (v: ListVirtualizer, sync: boolean): void => {
      if (shown(v) === rendered.current) return;
      if (sync) flushSync(rerender);
      else rerender();
    },
  };
  const [virtualizer] = useState(() => (extract.list.v = new Virtualizer<HTMLDivElement, Element>(options)));
  virtualizer.setOptions(options);
  useLayoutEffect(() => virtualizer._didMount(), [virtualizer]);
  useLayoutEffect(() => {
    rendered.current = shown(virtualizer);
    virtualizer._willUpdate();
  });
  return virtualizer;
}
