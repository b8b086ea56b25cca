/**
 * The history database's schema, by version (PRAGMA user_version). MIGRATIONS[i] takes a database from version
 * i to i + 1, in one transaction; a database newer than SCHEMA_VERSION is refused (a newer Portwatch wrote it:
 * this one would not know what its tables mean). Times are epoch milliseconds, UTC.
 *
 * - events: what happened to a socket (kind: open, close, listen, unlisten, owner), kept 7 days by default;
 * - flows: hourly aggregates per (program, remote host, port, protocol, direction): connections opened and
 *   closed, bytes in and out, first and last sighting in the hour; kept a year by default;
 * - listeners: one row per time a port listened (who, from when, until when), for "when did this start listening
 *   and who"; kept as long as the flows;
 * - meta: key/value (when the database was created, by which version).
 * Version 2 adds an index of outbound flows by (program, remote host, port, protocol): first contacts.
 */

export const SCHEMA_VERSION = 2;

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('open', 'close', 'listen', 'unlisten', 'owner')),
    socket_id TEXT NOT NULL,
    protocol TEXT NOT NULL,
    family INTEGER NOT NULL,
    local_address TEXT NOT NULL,
    local_port INTEGER NOT NULL,
    remote_address TEXT,
    remote_port INTEGER,
    direction TEXT,
    pid INTEGER,
    name TEXT,
    exe TEXT,
    user TEXT,
    uid INTEGER,
    bytes_in INTEGER,
    bytes_out INTEGER,
    duration_ms INTEGER,
    netns TEXT,
    note TEXT
  );
  CREATE INDEX events_at ON events (at);
  CREATE TABLE flows (
    hour INTEGER NOT NULL,
    program TEXT NOT NULL,
    name TEXT NOT NULL,
    remote_address TEXT NOT NULL,
    port INTEGER NOT NULL,
    protocol TEXT NOT NULL,
    direction TEXT NOT NULL,
    opened INTEGER NOT NULL,
    closed INTEGER NOT NULL,
    bytes_in INTEGER NOT NULL,
    bytes_out INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX flows_key ON flows (hour, program, remote_address, port, protocol, direction);
  CREATE TABLE listeners (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    protocol TEXT NOT NULL,
    local_address TEXT NOT NULL,
    local_port INTEGER NOT NULL,
    netns TEXT,
    pid INTEGER,
    name TEXT,
    exe TEXT,
    user TEXT,
    started_at INTEGER NOT NULL,
    stopped_at INTEGER,
    stop_note TEXT
  );
  CREATE INDEX listeners_open ON listeners (key) WHERE stopped_at IS NULL;
  CREATE INDEX listeners_started ON listeners (started_at);
  `,
  // 1 -> 2: what each program has contacted going out, for first-contact alerts (the learned set is read by
  // this index alone, and a candidate is looked up in it)
  `
  CREATE INDEX flows_contacts ON flows (program, remote_address, port, protocol) WHERE direction = 'out';
  `,
];
