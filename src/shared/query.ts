import { parseQueryWith, type QueryParse } from './query/core';
import { registryServicePorts } from './query/registry';

/**
 * The filter language (v2), one parser for the UI's search box and the CLI's --filter. Modules: query/lexer
 * (tokens), query/parser (grammar, limits), query/fields (field terms, displayed forms, free text), query/ss (ss's
 * predicates), query/terms (the tree), query/matcher (the tree compiled to one predicate), query/core (the API).
 *
 * Terms
 *   nginx                free text: a substring of what the table shows (process, command line, local and
 *                        remote endpoints, state, user, pid, protocol like tcp6, host name, service name)
 *   127.0.0.1:19002      an endpoint exactly as the table shows it, local or remote: [::1]:19005, *:53,
 *   [::1]                0.0.0.0%lo:80; an address alone in brackets is that address at either end
 *   :3000  :ssh          a port at either end (number or service name)
 *   tcp6  udp4           protocol and family, as netstat prints them
 *   port:443             local or remote port; also a range (port:8000-8999), a service (port:ssh, port:https)
 *   lport:22 rport:443   local / remote port only (sport: and dport: too)
 *   proc:nginx           process name (substring); pid:123 exact pid (any owner of a shared socket)
 *   state:listen         a state or an ss group (listen, established, time-wait, unconn, connected, bucket, ...);
 *                        listen is every listener, TCP LISTEN and unconnected UDP, as `ss -l` lists them
 *   host:github          remote address or its host name (substring; a whole address exactly; a block:
 *                        host:10.0.0.0/8, host:fd00::/8)
 *   user:root  proto:udp  family:6  iface:lo  netns:docker   as before
 *   exposure:all         listeners by who can reach them: all, interface, loopback
 *   unexpected  risk     listeners the baseline does not expect; listeners on a port risky to expose
 *   dir:in  dir:out      which way a connection goes (Socket.direction, a guess included)
 *   rate>10k  in>=1M  out<500  bytes>1G   bytes a second (rate: in + out) or so far; k M G T in thousands;
 *                        a socket without the number (UDP without counters, first sight) never matches
 * Every field takes a list: port:80,443 state:listen,established (any of them).
 *
 * Combining: juxtaposition or `and` / `&&`; `or` / `|` / `||`; `not` / `!` / a leading `-`; parentheses
 * (`(a b) or -c`, `-(a or b)`). `or` binds loosest, then `and`, then `not`, as in ss. "double quotes" keep spaces
 * and make a word plain text (`"or"`).
 *
 * ss's own syntax, as its users type it (pasted from a shell line: single quotes and `\(` `\)` are taken as the
 * shell would have left them): `state established '( dport = :smtp or sport = :smtp )'`, `sport = :22`,
 * `dport != :443`, `dport > :1024`, `sport ge :1024`, `dst 10.0.0.1`, `src 192.168.0.0/16`, `dst [::1]:443`,
 * `dst 10.0.0.1:https`, `dev lo`, `exclude time-wait`. Operators = == != > < >= <= and eq ne neq gt lt ge le.
 * The two syntaxes mix freely: the ss keywords (sport dport src dst dev state exclude) are words of their own,
 * and `state:` (with a colon) is the field; quote a keyword to search for it as text (`"state"`).
 *
 * Bad input yields a message saying what was expected and a character index, never an exception. Limits: 2,000
 * characters and 64 levels of parentheses and negations (a hostile query cannot exhaust the stack or hang).
 */

export { matchesQuery, parseQueryWith, type Query, type QueryParse } from './query/core';
export type { MatchContext } from './query/matcher';
export type { QueryNode, QueryTerm } from './query/terms';
export { MAX_DEPTH, MAX_LENGTH } from './query/parser';

/** Parses a query; service names come from the port registry. */
export function parseQuery(input: string): QueryParse {
  return parseQueryWith(input, { servicePorts: registryServicePorts });
}
