import type { KillPlan } from '../../../shared/killPlan';
import type { ProcessInfo } from '../../../shared/model';
import { NO_TOGGLES, type Column, type GroupBy, type Toggles } from './view';

/** What this window shows and how: everything the user arranged, none of the engine's data. */
export interface UiState {
  query: string;
  toggles: Toggles;
  groupBy: GroupBy;
  sort: { col: Column; dir: 1 | -1 };
  collapsed: ReadonlySet<string>;
  selectedId: string | null;
  detailsOpen: boolean;
  chartsOpen: boolean;
  tab: 'sockets' | 'exposure';
  alertsOpen: boolean;
  logOpen: boolean;
  /** The kill being confirmed. */
  killPlan: (KillPlan & { process: ProcessInfo }) | null;
  /** The last close attempt's outcome, for the connection it was about (shown only while that one is selected). */
  closeResult: { id: string; text: string } | null;
  /** The newest alert id the user has seen (newer ones are unread). */
  seenAlerts: number;
  /** The listener whose "Mark as expected" choices are open. */
  markId: string | null;
  rulesOpen: boolean;
}

export const INITIAL_UI: UiState = {
  query: '',
  toggles: NO_TOGGLES,
  groupBy: 'process',
  sort: { col: 'state', dir: 1 },
  collapsed: new Set(),
  selectedId: null,
  detailsOpen: false,
  chartsOpen: false,
  tab: 'sockets',
  alertsOpen: false,
  logOpen: false,
  killPlan: null,
  closeResult: null,
  seenAlerts: 0,
  markId: null,
  rulesOpen: false,
};

export type UiAction =
  | { type: 'query'; query: string }
  | { type: 'toggle'; key: keyof Toggles }
  | { type: 'groupBy'; groupBy: GroupBy }
  | { type: 'sort'; col: Column }
  | { type: 'toggleGroup'; key: string }
  | { type: 'collapseAll'; keys: readonly string[] }
  | { type: 'select'; id: string | null; open?: boolean }
  | { type: 'details'; open: boolean }
  | { type: 'charts' }
  | { type: 'tab'; tab: UiState['tab'] }
  | { type: 'alerts'; seen: number }
  | { type: 'log' }
  | { type: 'kill'; plan: UiState['killPlan'] }
  | { type: 'closeResult'; id: string; text: string }
  | { type: 'mark'; id: string | null }
  | { type: 'rules' }
  | { type: 'escape' };

export function uiReducer(s: UiState, a: UiAction): UiState {
  switch (a.type) {
    case 'query':
      return { ...s, query: a.query };
    case 'toggle':
      return { ...s, toggles: { ...s.toggles, [a.key]: !s.toggles[a.key] } };
    case 'groupBy':
      return { ...s, groupBy: a.groupBy };
    case 'sort':
      return { ...s, sort: s.sort.col === a.col ? { col: a.col, dir: s.sort.dir === 1 ? -1 : 1 } : { col: a.col, dir: 1 } };
    case 'toggleGroup': {
      const collapsed = new Set(s.collapsed);
      if (!collapsed.delete(a.key)) collapsed.add(a.key);
      return { ...s, collapsed };
    }
    case 'collapseAll':
      return { ...s, collapsed: s.collapsed.size ? new Set() : new Set(a.keys) };
    case 'select':
      return { ...s, selectedId: a.id, detailsOpen: a.open ?? s.detailsOpen };
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
    case 'escape':
      // the innermost first: the kill dialog, then the details panel
      if (s.killPlan) return { ...s, killPlan: null };
      if (s.markId) return { ...s, markId: null };
      if (s.rulesOpen) return { ...s, rulesOpen: false };
      if (s.detailsOpen) return { ...s, detailsOpen: false };
      return s;
  }
}
