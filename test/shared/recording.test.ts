import { describe, expect, it } from 'vitest';
import { describeRecording, NO_HISTORY, type RecordingStatus } from '../../src/shared/recording';

const path = '/home/u/.local/state/portwatch/history.db';
const iso = (ms: number): string => new Date(ms).toISOString();

describe('describeRecording: the status bar indicator and its tooltip', () => {
  it('recording, off and starting say where', () => {
    expect(describeRecording({ state: 'recording', path, eventsWritten: 1, since: 0 })).toEqual({
      text: 'Recording',
      title: `Recording the history to ${path}: 1 event written`,
    });
    expect(describeRecording({ state: 'off', path, eventsWritten: 0 }).title).toMatch(
      /off \(More › Record history turns it on\): .*history\.db is not written/,
    );
    expect(describeRecording(NO_HISTORY)).toEqual({ text: 'Not recording', title: 'This Portwatch keeps no history' });
    expect(describeRecording({ state: 'starting', path, eventsWritten: 0 }).text).toBe('History starting…');
  });

  it('locked names the process that records, and says this one takes over when it stops', () => {
    const s: RecordingStatus = {
      state: 'paused',
      path,
      eventsWritten: 0,
      reason: 'locked',
      message: 'another Portwatch is recording into this history',
      holder: { pid: 4321, command: 'portwatch record --db x', since: Date.UTC(2026, 11, 1, 10) },
      since: 0,
    };
    const d = describeRecording(s, iso);
    expect(d.text).toBe('History: pid 4321 records');
    expect(d.title).toBe(
      `Not recording: pid 4321 (portwatch record --db x), since 2026-12-01T10:00:00.000Z is recording into ${path}. This Portwatch records again when it stops; the live view is not affected.`,
    );
    expect(describeRecording({ ...s, holder: null }).text).toBe('History: another process records');
  });

  it('each other pause says why and what brings recording back', () => {
    const paused = (reason: 'corrupt' | 'newer' | 'unsafe' | 'disk-full' | 'failed'): { text: string; title: string } =>
      describeRecording({ state: 'paused', path, eventsWritten: 7, reason, message: `why ${reason}`, holder: null, since: 0 });
    expect(paused('disk-full')).toEqual({
      text: 'History paused: disk full',
      title: 'Not recording: why disk-full. Recording resumes by itself when there is space again. The live view is not affected; 7 events written.',
    });
    expect(paused('corrupt').title).toMatch(/^Not recording: why corrupt\. The file is left as it is; fix it, then turn Record history off and on\./);
    expect(paused('unsafe').text).toBe('History paused: unsafe path');
    expect(paused('newer').text).toBe('History paused: newer database');
    expect(paused('failed').title).toMatch(/Turn Record history off and on to try again/);
  });
});
