import type { KillPlan } from '../../../shared/killPlan';
import type { ProcessInfo, Socket } from '../../../shared/model';
import type { ExposureColumn } from './exposureRows';
import { NO_TOGGLES, type Column, type GroupBy, type Toggles } from './view';

/** What this window shows and how: everything the user arranged, none of the engine's data. */
export interface UiState {
  query: string;
  toggles: Toggles;
  groupBy: GroupBy;
  sort: { col: Column; dir: 1 | -1 };
  collapsed: ReadonlySet<string>;
  /** Groups folded until opened (kernel-held sockets) that the user opened. */
  unfolded: ReadonlySet<string>;
  selectedId: string | null;
  /**
   * Counts the requests to bring the selected row into view (keyboard navigation, "show me"). The table
   * scrolls only when it changes: a poll, a click or a re-sort never moves the list.
   */
  reveal: number;
  /** The row menu, where it opened, with the socket as it was then (it may close meanwhile). */
  menu: { socket: Socket; x: number; y: number } | null;
  detailsOpen: boolean;
  chartsOpen: boolean;
  tab: 'sockets' | 'exposure' | 'history';
  alertsOpen: boolean;
  logOpen: boolean;
  /** The kill being confirmed. */
  killPlan: (KillPlan & { process: ProcessInfo }) | null;
  /** The last close attempt's outcome, for the connection it was about (shown only while that one is selected). */
  closeResult: { id: string; text: string } | null;
  /** The newest alert id the user has seen (newer ones are unread). */
  seenAlerts: number;
  /** The Exposure view's sort (its own columns). */
  exposureSort: { col: ExposureColumn; dir: 1 | -1 };
  /** The listener whose "Mark as expected" choices are open. */
  markId: string | null;
  rulesOpen: boolean;
  /**
   * The filter "show me" cleared because it hid the socket asked for (null when it did not): the banner offers
   * it back. Typing a query or flipping a toggle drops it (the user moved on).
   */
  clearedFilter: { query: string; toggles: Toggles } | null;
}

export const INITIAL_UI: UiState = {
  query: '',
  toggles: NO_TOGGLES,
  groupBy: 'process',
  sort: { col: 'state', dir: 1 },
  collapsed: new Set(),
  unfolded: new Set(),
  selectedId: null,
  reveal: 0,
  menu: null,
  detailsOpen: false,
  chartsOpen: false,
  tab: 'sockets',
  alertsOpen: false,
  logOpen: false,
  killPlan: null,
  closeResult: null,
  seenAlerts: 0,
  exposureSort: { col: 'exposure', dir: 1 },
  markId: null,
  rulesOpen: false,
  clearedFilter: null,
};

export type UiAction =
  | { type: 'query'; query: string }
  | { type: 'toggle'; key: keyof Toggles }
  | { type: 'groupBy'; groupBy: GroupBy }
  | { type: 'sort'; col: Column }
  | { type: 'toggleGroup'; key: string; folded?: boolean }
  | { type: 'collapseAll'; keys: readonly string[] }
  /** reveal: scroll the row into view once (keyboard navigation, "show me"). */
  | { type: 'select'; id: string | null; open?: boolean; reveal?: boolean }
  /** "Show me" of a socket the filter hides: the filter is cleared (and kept, for restoreFilter), the row selected and brought into view. */
  | { type: 'revealHidden'; id: string }
  | { type: 'restoreFilter' }
  /** A click on a row: selects it and opens its details, or deselects it when it was the selected one. */
  | { type: 'clickRow'; id: string }
  | { type: 'menu'; menu: UiState['menu'] }
  | { type: 'details'; open: boolean }
  | { type: 'charts' }
  | { type: 'tab'; tab: UiState['tab'] }
  | { type: 'alerts'; seen: number }
  | { type: 'log' }
  | { type: 'kill'; plan: UiState['killPlan'] }
  | { type: 'closeResult'; id: string; text: string }
  | { type: 'mark'; id: string | null }
  | { type: 'rules' }
  | { type: 'escape' }
  | { type: 'exposureSort'; col: ExposureColumn };

export function uiReducer(s: UiState, a: UiAction): UiState {
  switch (a.type) {
    case 'query':
      return { ...s, query: a.query, clearedFilter: null };
    case 'toggle':
      return { ...s, toggles: { ...s.toggles, [a.key]: !s.toggles[a.key] }, clearedFilter: null };
    case 'revealHidden':
      return {
        ...s,
        query: '',
        toggles: NO_TOGGLES,
        // a second one keeps the user's filter, not the empty one the first left
        clearedFilter: s.clearedFilter ?? { query: s.query, toggles: s.toggles },
        selectedId: a.id,
        reveal: s.reveal + 1,
      };
    case 'restoreFilter':
      return s.clearedFilter ? { ...s, ...s.clearedFilter, clearedFilter: null } : s;
    case 'groupBy':
      return { ...s, groupBy: a.groupBy };
    case 'sort':
      return { ...s, sort: s.sort.col === a.col ? { col: a.col, dir: s.sort.dir === 1 ? -1 : 1 } : { col: a.col, dir: 1 } };
    case 'toggleGroup': {
      if (a.folded) {
        const unfolded = new Set(s.unfolded);
        if (!unfolded.delete(a.key)) unfolded.add(a.key);
        return { ...s, unfolded };
      }
      const collapsed = new Set(s.collapsed);
      if (!collapsed.delete(a.key)) collapsed.add(a.key);
      return { ...s, collapsed };
    }
    case 'collapseAll':
      return s.collapsed.size ? { ...s, collapsed: new Set() } : { ...s, collapsed: new Set(a.keys), unfolded: new Set() };
    case 'select':
      return { ...s, selectedId: a.id, detailsOpen: a.open ?? s.detailsOpen, reveal: a.reveal ? s.reveal + 1 : s.reveal };
    case 'clickRow':
      return s.selectedId === a.id ? { ...s, selectedId: null, detailsOpen: false } : { ...s, selectedId: a.id, detailsOpen: true };
    case 'menu':
      return { ...s, menu: a.menu };
    case 'details':
      return { ...s, detailsOpen: a.open };
    case 'charts':
      return { ...s, chartsOpen: !s.chartsOpen };
    case 'tab':
      return { ...s, tab: a.tab };
    case 'alerts':
      return { ...s, alertsOpen: !s.alertsOpen, seenAlerts: a.seen };
    case 'log':
      return { ...s, logOpen: !s.logOpen };
    case 'kill':
      return { ...s, killPlan: a.plan };
    case 'mark':
      return { ...s, markId: a.id };
    case 'rules':
      return { ...s, rulesOpen: !s.rulesOpen };
    case 'closeResult':
      return { ...s, closeResult: { id: a.id, text: a.text } };
    case 'exposureSort':
      return { ...s, exposureSort: s.exposureSort.col === a.col ? { col: a.col, dir: s.exposureSort.dir === 1 ? -1 : 1 } : { col: a.col, dir: 1 } };
    case 'escape':
      // the innermost first: the row menu, the kill dialog, then the selection and its details
      if (s.menu) return { ...s, menu: null };
      if (s.killPlan) return { ...s, killPlan: null };
      if (s.markId) return { ...s, markId: null };
      if (s.rulesOpen) return { ...s, rulesOpen: false };
      if (s.detailsOpen || s.selectedId !== null) return { ...s, detailsOpen: false, selectedId: null };
      return s;
  }
}

/** Is a group open: one folded by default (kernel-held) only once the user opened it, any other until closed. */
export function isGroupOpen(s: Pick<UiState, 'collapsed' | 'unfolded'>, g: { key: string; folded?: boolean }): boolean {
  return g.folded ? s.unfolded.has(g.key) : !s.collapsed.has(g.key);
}
