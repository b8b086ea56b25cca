import type { KeyboardEvent, ReactElement, RefObject } from 'react';
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

/** What the search box's placeholder and tooltip teach: the forms people paste and type (see shared/query.ts). */
const PLACEHOLDER = 'Search (/)  e.g. 127.0.0.1:8080  :3000  tcp6  port:80,443 or proc:nginx  sport = :22';
const HELP = [
  'Free text, or what the table shows: 127.0.0.1:8080  [::1]:5173  *:53  :3000  tcp6  udp4',
  'Fields: port:80,443  port:ssh  lport:22  rport:443  proc:nginx  pid:123  state:listen,established',
  '  host:github  host:10.0.0.0/8  user:root  proto:udp  family:6  iface:lo  netns:self  exposure:all',
  'Keywords: unexpected (not in the baseline)  risk (a port risky to expose)',
  'Combine: a b (and)  a or b  a | b  -a  not a  !a  (a b) or -c',
  "ss syntax: state established '( dport = :smtp or sport = :smtp )'  sport = :22  dport > :1024  dst 10.0.0.1  src 192.168.0.0/16",
  'Esc leaves the box and keeps the query.',
].join('\n');

/** Esc leaves the box and keeps what it holds (a search input would clear itself, and the window would act on it). */
function onSearchKey(e: KeyboardEvent<HTMLInputElement>): void {
  if (e.key !== 'Escape') return;
  e.preventDefault();
  e.stopPropagation();
  e.currentTarget.blur();
}

export function FilterBar(props: {
  toggles: Toggles;
  onToggle: (k: keyof Toggles) => void;
  query: string;
  onQuery: (q: string) => void;
  /** Why the query does not parse, and where (a character index), or null. */
  error: { message: string; position: number } | null;
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
        placeholder={PLACEHOLDER}
        title={HELP}
        value={props.query}
        onChange={(e) => props.onQuery(e.target.value)}
        onKeyDown={onSearchKey}
        aria-invalid={props.error !== null}
        spellCheck={false}
      />
      <span className="muted" data-testid="shown-count">
        {props.shown === props.total ? `${props.total}` : `${props.shown} of ${props.total}`}
      </span>
      {props.error && <QueryError query={props.query} error={props.error} />}
    </div>
  );
}

/**
 * Why the query shows nothing: the message, its column, and the query with a caret under that column (the text
 * is the user's own, rendered as text).
 */
function QueryError({ query, error }: { query: string; error: { message: string; position: number } }): ReactElement {
  const at = Math.max(0, Math.min(error.position, query.length));
  // a window of the query around the position, so that a long one still shows where
  const from = Math.max(0, at - 30);
  const shown = query.slice(from, at + 30);
  return (
    <span className="query-error" data-testid="search-error" data-position={error.position} role="alert">
      <span>
        No rows: {error.message} (at column {error.position + 1})
      </span>
      <code className="query-error-where" aria-hidden="true">
        <span>{(from > 0 ? '…' : '') + shown}</span>
        <span className="query-error-caret">{`${' '.repeat(at - from + (from > 0 ? 1 : 0))}^`}</span>
      </code>
    </span>
  );
}
