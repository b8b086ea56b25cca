import type { ReactElement, RefObject } from 'react';
import type { Toggles } from '../store/view';

const TOGGLES: Array<[keyof Toggles, string]> = [
  ['listening', 'Listening'],
  ['established', 'Established'],
  ['tcp', 'TCP'],
  ['udp', 'UDP'],
  ['ipv4', 'IPv4'],
  ['ipv6', 'IPv6'],
  ['hideLoopback', 'Hide loopback'],
  ['hideTimeWait', 'Hide TIME_WAIT'],
];

export function FilterBar(props: {
  toggles: Toggles;
  onToggle: (k: keyof Toggles) => void;
  query: string;
  onQuery: (q: string) => void;
  error: string | null;
  searchRef: RefObject<HTMLInputElement | null>;
  shown: number;
  total: number;
}): ReactElement {
  return (
    <div className="filterbar">
      {TOGGLES.map(([k, label]) => (
        <button key={k} className="toggle" data-testid={`toggle-${k}`} aria-pressed={props.toggles[k]} onClick={() => props.onToggle(k)}>
          {label}
        </button>
      ))}
      <input
        ref={props.searchRef}
        className={props.error ? 'search invalid' : 'search'}
        data-testid="search"
        type="search"
        placeholder="Search  (/)   e.g. port:443 proc:nginx state:listen -user:root"
        value={props.query}
        onChange={(e) => props.onQuery(e.target.value)}
        aria-invalid={props.error !== null}
        spellCheck={false}
      />
      <span className="muted" data-testid="shown-count">
        {props.shown === props.total ? `${props.total}` : `${props.shown} of ${props.total}`}
      </span>
      {props.error && (
        <span className="query-error" data-testid="search-error">
          {props.error}
        </span>
      )}
    </div>
  );
}
