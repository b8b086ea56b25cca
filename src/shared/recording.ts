/*
 * Whether this engine is recording the history (the desktop app and `serve` record while they run), and how
 * the status bar says it: pure, shared by the engine (what it reports) and the UI (the indicator and its
 * tooltip).
 */

/** Who holds a history's lock (the engine's LockHolder, as the API carries it). */
export interface RecordingHolder {
  pid: number;
  /** The holder's own description (`portwatch record --db x`): untrusted text, shown as text only. */
  command: string;
  /** Epoch ms when it took the lock. */
  since: number;
}

/**
 * Why recording is paused: another process holds the lock (`locked`, naming it), the database cannot be read
 * (`corrupt`, left as it is) or is from a newer Portwatch (`newer`), its path is not safe to write (`unsafe`),
 * the disk is full (`disk-full`: recording resumes by itself when a write succeeds again), or another failure
 * of the writer (`failed`).
 */
export type RecordingPause = 'locked' | 'corrupt' | 'newer' | 'unsafe' | 'disk-full' | 'failed';

interface RecordingBase {
  /** The history database ('' when this engine keeps none: embedded use, tests). */
  path: string;
  /** Events this engine wrote since it started (connections opened and closed, listeners, owners). */
  eventsWritten: number;
}

/**
 * The recording's state: `off` by the setting (`serve --no-record`, the menu's Record history), `starting`
 * while the database opens, `recording`, or `paused` with why. The live view never waits for any of them.
 */
export type RecordingStatus =
  | (RecordingBase & { state: 'off' | 'starting' })
  | (RecordingBase & { state: 'recording'; since: number })
  | (RecordingBase & { state: 'paused'; reason: RecordingPause; message: string; holder: RecordingHolder | null; since: number });

/** The recording status of an engine that keeps no history. */
export const NO_HISTORY: RecordingStatus = { state: 'off', path: '', eventsWritten: 0 };

const PAUSE_TEXT: Record<RecordingPause, string> = {
  locked: 'History: another process records',
  corrupt: 'History paused: database unreadable',
  newer: 'History paused: newer database',
  unsafe: 'History paused: unsafe path',
  'disk-full': 'History paused: disk full',
  failed: 'History paused: write failed',
};

/** `pid 1234 (portwatch record), since 10:00:00`: a lock's holder, for people. */
export function describeRecordingHolder(h: RecordingHolder, time: (ms: number) => string = (ms) => new Date(ms).toISOString()): string {
  return `pid ${h.pid} (${h.command}), since ${time(h.since)}`;
}

/**
 * The status bar's words for a recording status: a short `text`, and a `title` (its tooltip) that says the
 * path, why, and what brings recording back.
 */
export function describeRecording(s: RecordingStatus, time?: (ms: number) => string): { text: string; title: string } {
  const n = `${s.eventsWritten} event${s.eventsWritten === 1 ? '' : 's'} written`;
  switch (s.state) {
    case 'off':
      return s.path === ''
        ? { text: 'Not recording', title: 'This Portwatch keeps no history' }
        : { text: 'Not recording', title: `Recording the history is off (More › Record history turns it on): ${s.path} is not written; ${n}` };
    case 'starting':
      return { text: 'History starting…', title: `Opening the history ${s.path}` };
    case 'recording':
      return { text: 'Recording', title: `Recording the history to ${s.path}: ${n}` };
    case 'paused': {
      if (s.reason === 'locked') {
        const who = s.holder ? describeRecordingHolder(s.holder, time) : 'a process that did not say who it is';
        return {
          text: s.holder ? `History: pid ${s.holder.pid} records` : PAUSE_TEXT.locked,
          title: `Not recording: ${who} is recording into ${s.path}. This Portwatch records again when it stops; the live view is not affected.`,
        };
      }
      const after =
        s.reason === 'disk-full'
          ? 'Recording resumes by itself when there is space again.'
          : s.reason === 'failed'
            ? 'Turn Record history off and on to try again.'
            : 'The file is left as it is; fix it, then turn Record history off and on.';
      return { text: PAUSE_TEXT[s.reason], title: `Not recording: ${s.message}. ${after} The live view is not affected; ${n}.` };
    }
  }
}
