import { didYouMean } from '../../shared/didYouMean';
import { inert } from '../../shared/inert';
import { DEFAULT_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS } from '../../shared/polling';

/*
 * The CLI's help texts, apart from the commands (index.ts) so that the entry bundle (main.ts ->
 * out/node/portwatch.cjs) answers --help, <command> --help, --version and unknown commands without loading the
 * engine. test/main/cli/badFlags.test.ts reads every flag from each command's help: keep the format.
 */

export const MAIN_HELP = `portwatch: every TCP and UDP socket on this machine, with the processes that own them.

Usage:
  portwatch list [options]     print the sockets once (table, --json or --csv); ss's flags work: list -tulpn
  portwatch watch [options]    one line per change (+ new, - gone, ~ changed), or NDJSON with --json
  portwatch top [options]      who uses the network, live, busiest first (--once --json for scripts)
  portwatch serve [options]    the live UI in a browser, for machines without a display
  portwatch audit [options]    who can reach each listening port, and whether it was expected
  portwatch kill PID | --port N  end a process (SIGTERM, then --force for SIGKILL), safely
  portwatch record [options]   keep a history of every connection and listener (a headless recorder)
  portwatch history [options]  what the history holds: flows, or with --listeners the listener timeline
  portwatch <command> --help   options of a command
  portwatch --version, -V      the version of Portwatch

Owners of other users' sockets are visible only when run as root (sudo portwatch list).
`;

export const FILTER_HELP = `Filters (combine freely; --tcp --udp or -4 -6 together mean either):
  --listen          listening sockets only (TCP LISTEN, unconnected UDP)
  --exposed         listeners that other machines can reach: on all interfaces or one that is not loopback
  --tcp, --udp      one protocol
  -4, -6            one address family
  --pid N           sockets owned by process N (any of a shared socket's owners)
  --port N          local or remote port N
  --filter QUERY    the search language of the UI, e.g. "state:listen -user:root" or "proc:nginx port:443";
                    a query that starts with - needs the = form: --filter=-user:root
                    (fields: port lport rport proc pid state host user proto family; - negates)
  --source NAME     auto (default: netlink on Linux), netlink, procfs or systeminformation
`;

export const LIST_HELP = `Usage: portwatch list [--json | --csv] [--rates [--interval MS]] [filters] [QUERY WORDS]

Prints the machine's sockets once, listeners first. Exits 0 when something matched, 1 when nothing did
(a note says so on stderr, as lsof does), 2 for a usage error.
  --json            {"takenAt", "source", "sockets": [...]}, every field of the model
  --csv             one row per socket, RFC 4180
  --rates           poll twice, an interval apart, and add each socket's bytes a second (IN/S, OUT/S;
                    rateIn, rateOut in --json); n/a where the kernel keeps no counters (UDP)
  --interval MS     with --rates: the time between the polls (${MIN_POLL_INTERVAL_MS} to ${MAX_POLL_INTERVAL_MS}, default ${DEFAULT_POLL_INTERVAL_MS})
ss's and netstat's short flags, as you type them there, bundled or not (list -tulpn, -tlnp, -uan, -lt):
  -t, -u            TCP, UDP (the short forms follow ss: alone they show sockets that are not listening)
  -l                listening sockets only (--listen)
  -a, --all         every state, listening or not
  -n, -p            accepted and ignored: Portwatch always shows numbers (never names) and the processes
  -4, -6            one address family
Without -t, -u, -l or -a every socket is listed, as the long flags leave it: --tcp is TCP in every state.
Trailing words are a query, as ss takes its filter: portwatch list -t state:established port:443
${FILTER_HELP}`;

export const WATCH_HELP = `Usage: portwatch watch [--json] [--interval MS] [filters]

Prints one line per change until interrupted, after a count of the sockets there now (on stderr):
  + tcp 0.0.0.0:8080 LISTEN nginx[123]                           a new socket
  - tcp 10.0.0.2:51000 -> 1.1.1.1:443 ESTABLISHED curl[456]      one gone
  ~ tcp 10.0.0.2:51002 -> 1.1.1.1:443 ESTABLISHED curl[456] (was SYN_SENT)   its state or owner changed
coloured on a terminal as in the UI (green new, red gone, yellow changed; NO_COLOR=1 turns that off).
  --json            NDJSON instead: first {"type":"snapshot",...}, then {"type":"delta","seq","takenAt",
                    "added","removed","changed"} per poll, and {"type":"status",...} when the monitor's
                    state changes (a failing source, recovery)
  --interval MS     poll every MS milliseconds (${MIN_POLL_INTERVAL_MS} to ${MAX_POLL_INTERVAL_MS}, default ${DEFAULT_POLL_INTERVAL_MS})
${FILTER_HELP}`;

export const SERVE_HELP = `Usage: portwatch serve [--port N] [--host H] [--open] [--token-file FILE] [--tls-cert FILE --tls-key FILE]
                      [--read-only] [--interval MS] [--db PATH | --no-record]

Serves the live view to a browser and prints its URL. The URL's fragment (after #) carries a random token
that the page shows the server over its WebSocket: the page itself is public, the live view needs the token.
A browser on this machine must also run as the server's user, the user who ran it through sudo, or root:
another local user is refused, token or not, and named on stderr. Stops on Ctrl-C.
  --port N          TCP port (default 7777; 0 picks a free one)
  --host H          address to bind (default 127.0.0.1: this machine only)
  --allow-remote    required to bind an address other machines can reach (0.0.0.0, ::, a LAN address);
                    their browsers can only view, not kill, close or change anything. Without TLS the
                    traffic, token included, is plain HTTP (a warning says so)
  --remote-control  let browsers on other machines kill, close and change things too
  --read-only       viewing only, for every browser: killing, closing, the baseline and polling are refused
  --allow-user NAME let local user NAME in as well (repeat it, or give a comma list)
  --open            open the UI in the default browser, with a one-time code (good once, for 60 s) in
                    place of the token, since a command line is readable by every local user
  --token-file FILE keep the token in FILE across restarts, so open pages reconnect (created 0600 when
                    missing; refused when it is a symbolic link, not a regular file, another user's, or
                    readable by group or others)
  --tls-cert FILE   serve https and wss with this certificate (PEM; a chain, the server's own first);
  --tls-key FILE    and this private key (PEM, no passphrase). Both or neither. Each must be a regular file
                    (a link is followed once) of at most 1 MiB; the key must match the certificate,
                    be closed to others and not writable by its group (chmod 600)
  --baseline FILE   the expected-ports baseline (default: the user's own, shared with the desktop app and
                    audit; portwatch audit --help says where it is)
  --interval MS     poll every MS milliseconds (${MIN_POLL_INTERVAL_MS} to ${MAX_POLL_INTERVAL_MS}, default ${DEFAULT_POLL_INTERVAL_MS})
  --source NAME     auto (default: netlink on Linux), netlink, procfs or systeminformation
  --db PATH         record the history into PATH while serving (default: the user's history, which
                    portwatch record --help names); when another Portwatch (portwatch record) already
                    records into it, serve does not, and says which process does (on stderr and in the
                    page's status bar). The live view never waits for the history
  --no-record       do not record the history (the page's More menu turns it on and off too)
`;

export const AUDIT_HELP = `Usage: portwatch audit [--json] [--baseline FILE | --write-baseline FILE]

Lists every listening socket (TCP LISTEN, unconnected UDP) with its exposure (all: every interface;
interface: one address; loopback: this machine only), service, port range, risk, and whether a rule of the
expected-ports baseline matches it. It judges this network namespace's listeners (run it with
ip netns exec, or nsenter, to audit another).
  --baseline FILE        compare against FILE: exit 1 when some listener is unexpected (they are listed),
                         0 when all are expected, 2 when FILE is missing, unreadable or not a baseline
  --write-baseline FILE  save the current listeners as expected in FILE (atomically), then exit 0
  --json                 {"listeners": [{protocol, localAddress, localPort, exposure, service, risk,
                         expected, pid, process}]}
  --source NAME          auto (default: netlink on Linux), netlink, procfs or systeminformation
Without --baseline the user's own baseline is used when it exists: the one the desktop app's "Mark as
expected" writes and serve uses, ${'$'}XDG_CONFIG_HOME/portwatch/baseline.json (default ~/.config/portwatch) on
Linux, ~/Library/Application Support/Portwatch/baseline.json on macOS, %APPDATA%\\Portwatch\\baseline.json on
Windows. Through sudo it is the target user's (root's), never the invoking user's. Baselines that earlier
versions kept elsewhere (the app's userData, ~/.config/portwatch on macOS and Windows) are merged into it once.
`;

export const KILL_HELP = `Usage: portwatch kill PID [--force] [--yes]
       portwatch kill --port N [--tcp | --udp] [--force] [--yes]

Ends a process: SIGTERM, then watches up to 3 s; with --force, SIGKILL. --port N ends the process that
listens on port N (the owner that holds the socket, never its clients). Before asking, it says what the
process is (its command line) and everything it would close: every port it listens on, not only N, and
its connections. Without --yes it asks in a terminal, and refuses when there is none to ask. Refuses pid 1,
Portwatch itself and its parents, and a pid that changed owner meanwhile; a pid with no process is an
error before any question. Exits 0 only when the target is gone, 1 otherwise, 2 for a usage error.
`;

const HISTORY_DB = `${'$'}XDG_STATE_HOME/portwatch/history.db (default ~/.local/state/portwatch/history.db; through
                    sudo, the target user's: root's)`;

export const RECORD_HELP = `Usage: portwatch record [--db PATH] [--interval MS] [--keep-events DAYS] [--keep-flows DAYS] [--max-size MIB]

Records every connection and listener into the history until SIGINT or SIGTERM (then it writes what is
left, closes the database and exits 0): connections opened and closed with their bytes, even ones that lived
between two polls (the kernel's closed records), listeners up and down, owners changed, and hourly flows per
program, remote host, port, protocol and direction. One recorder per database: a second one is refused and
told which process records. Run it as root to see every user's processes.
  --db PATH         the database (default ${HISTORY_DB})
  --interval MS     poll every MS milliseconds (${MIN_POLL_INTERVAL_MS} to ${MAX_POLL_INTERVAL_MS}, default ${DEFAULT_POLL_INTERVAL_MS})
  --keep-events DAYS  keep raw events this many days (default 7)
  --keep-flows DAYS   keep hourly flows and the listener timeline this many days (default 365)
  --max-size MIB    above this size the oldest events go first, then the oldest flows (default 1024)
  --source NAME     auto (default: netlink on Linux), netlink, procfs or systeminformation
`;

export const HISTORY_HELP = `Usage: portwatch history [--since TIME] [--until TIME] [--filter QUERY] [--listeners] [--json | --csv] [--db PATH]

Prints what the history holds (portwatch record writes it): flows, summed per program, remote host, port
(the remote one going out, the local one coming in), protocol and direction, busiest first; or with
--listeners, when each port started listening, who held it, and when it stopped. Reads while a recorder
writes, and says which process records.
  --since TIME      from TIME (default 24h): a span back from now (30m, 1h, 7d, 2w), or a date and time
                    (2026-12-01T10:00, local; Z or +01:00 for an offset). Flows count by the hour
  --until TIME      until TIME (default now), in the same forms
  --filter QUERY    the search language, on what the history keeps: free text, proc, port, lport, rport,
                    host, proto, family (e.g. "proc:curl port:443", "-host:127.0.0.1")
  --listeners       the listener timeline instead of flows
  --json            {"db", "since", "until", "recording", "flows" | "listeners": [...]}
  --csv             one row per flow or listener, RFC 4180, times in ISO 8601 (UTC)
  --db PATH         the database (default ${HISTORY_DB})
`;

export const TOP_HELP = `Usage: portwatch top [--interval MS] [--filter QUERY] [--source NAME]
       portwatch top --once [--json] [--interval MS] [--filter QUERY] [--source NAME]

A live view of who uses the network, in the terminal: processes busiest first (bytes a second in and out,
bytes so far, sockets), and under each, when opened, its connections. n/a: the kernel keeps no byte counters
for that socket (UDP): its traffic is not in the numbers. Keys: s sort (rate, in, out, total, name, pid),
/ filter (the --filter language; esc cancels), space freeze, up/down move, enter open a process or a
connection's details, k kill the process (asks first, as portwatch kill does), q or Ctrl-C quit.
  --interval MS     poll every MS milliseconds (${MIN_POLL_INTERVAL_MS} to ${MAX_POLL_INTERVAL_MS}, default ${DEFAULT_POLL_INTERVAL_MS})
  --filter QUERY    show only the sockets that match, e.g. "proc:nginx" or "-proto:udp"
  --source NAME     auto (default: netlink on Linux), netlink, procfs or systeminformation
  --once            poll twice, an interval apart, print the processes once and exit
  --json            with --once: {"takenAt", "source", "intervalMs", "totals", "processes": [...]} for scripts
`;

/** Each command's --help, by command name. */
export const COMMAND_HELP = {
  list: LIST_HELP,
  watch: WATCH_HELP,
  top: TOP_HELP,
  serve: SERVE_HELP,
  audit: AUDIT_HELP,
  kill: KILL_HELP,
  record: RECORD_HELP,
  history: HISTORY_HELP,
} as const;

/** What the entry prints by itself, and the exit code. */
export interface QuickAnswer {
  code: number;
  out: string;
  err: string;
}

/**
 * Answers what needs no engine, exactly as runCli (index.ts) would: the main help, `<command> --help` alone,
 * `--version`, an unknown command. Null when a command has to run; then runCli decides everything, a
 * `--help` among other flags included (a bad flag beside it is still a usage error).
 */
export function quickAnswer(argv: readonly string[], version: () => string): QuickAnswer | null {
  const [command, ...rest] = argv;
  if (command === undefined) return { code: 2, out: MAIN_HELP, err: '' };
  if (command === 'help' || command === '--help' || command === '-h') return { code: 0, out: MAIN_HELP, err: '' };
  if (command === '--version' || command === '-V') return { code: 0, out: `${version()}\n`, err: '' };
  if (Object.hasOwn(COMMAND_HELP, command)) {
    const alone = rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h');
    return alone ? { code: 0, out: COMMAND_HELP[command as keyof typeof COMMAND_HELP], err: '' } : null;
  }
  return { code: 2, out: '', err: `${unknownCommand(command)}\nRun 'portwatch --help' for usage.\n` };
}

/** The commands, and the words the entry answers itself, for "did you mean". */
const WORDS = ['list', 'watch', 'serve', 'audit', 'kill', 'help', '--help', '--version'];

/**
 * What `portwatch <command>` says of a command it does not know, with the one it most likely meant
 * (`lsit`: list), or, for flags given without a command (`portwatch -tulpn`), where they go.
 * `command` is the user's text (pasted, perhaps): shown through inert().
 */
export function unknownCommand(command: string): string {
  const shown = inert(command);
  if (/^-[a-zA-Z46]/.test(command) && !command.startsWith('--'))
    return `portwatch: '${shown}' is not a command; flags go after one, as in: portwatch list ${shown}`;
  const near = didYouMean(command, WORDS);
  return `portwatch: unknown command '${shown}'${near === null ? '' : ` (did you mean '${near}'?)`}`;
}
