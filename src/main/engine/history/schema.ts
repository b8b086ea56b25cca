/**
 * The history database's schema, by version (PRAGMA user_version). MIGRATIONS[i] takes a database from version
 * i to i + 1, in one transaction; a database newer than SCHEMA_VERSION is refused (a newer Portwatch wrote it:
 * this one would not know what its tables mean). Times are epoch milliseconds, UTC.
 *
 * - events: what happened to a socket (kind: open, close, listen, unlisten, owner), kept 7 days by default;
 * - flow_keys: one row per (program, remote host, port, protocol, direction) ever seen, with when it was first
 *   and last seen: what a program has contacted (first-contact alerts learn from it); kept while it has hours;
 * - flow_hours: hourly aggregates per flow key (an integer, so that summing a day of hours groups integers, not
 *   five text columns): connections opened and closed, bytes in and out, first and last sighting in the hour;
 *   kept a year by default;
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
  // 2: flows split into their keys and their hours (a day's query summed 120,000 text-keyed rows in about 300 ms;
  // integer keys take about a third of that). The old rows move over; nothing is lost.
  `
  CREATE TABLE flow_keys (
    id INTEGER PRIMARY KEY,
    program TEXT NOT NULL,
    name TEXT NOT NULL,
    remote_address TEXT NOT NULL,
    port INTEGER NOT NULL,
    protocol TEXT NOT NULL,
    direction TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX flow_keys_key ON flow_keys (program, remote_address, port, protocol, direction);
  CREATE INDEX flow_keys_last ON flow_keys (last_seen);
  CREATE TABLE flow_hours (
    hour INTEGER NOT NULL,
    flow INTEGER NOT NULL,
    opened INTEGER NOT NULL,
    closed INTEGER NOT NULL,
    bytes_in INTEGER NOT NULL,
    bytes_out INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (hour, flow)
  ) WITHOUT ROWID;
  INSERT INTO flow_keys (program, name, remote_address, port, protocol, direction, first_seen, last_seen)
    SELECT program, max(name), remote_address, port, protocol, direction, min(first_seen), max(last_seen) FROM flows
    GROUP BY program, remote_address, port, protocol, direction;
  INSERT INTO flow_hours (hour, flow, opened, closed, bytes_in, bytes_out, first_seen, last_seen)
    SELECT f.hour, k.id, f.opened, f.closed, f.bytes_in, f.bytes_out, f.first_seen, f.last_seen FROM flows f
    JOIN flow_keys k ON k.program = f.program AND k.remote_address = f.remote_address AND k.port = f.port
      AND k.protocol = f.protocol AND k.direction = f.direction;
  DROP TABLE flows;
  -- a flow's events (the History view's click) by remote host and time, not by a walk of every event in the range
  CREATE INDEX events_remote ON events (remote_address, at);
  `,
];
