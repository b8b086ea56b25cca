import { useState, type ReactElement } from 'react';
import { describeUdpCounters, type UdpCounters } from '../../../shared/model';

/**
 * The status bar's word on UDP rates: where they come from, or why there are none. As root with conntrack's
 * accounting off, it offers to turn it on, after a confirmation that says what that does; nothing is written
 * without it.
 */
export function UdpCountersNote({
  state,
  canEnable,
  onEnable,
}: {
  state: UdpCounters | undefined;
  /** Root, a client that may change things, and accounting off. */
  canEnable: boolean;
  onEnable: () => Promise<boolean>;
}): ReactElement | null {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  /** Turned on from here: the engine reads the switch again within a few polls, and the status then says so. */
  const [turnedOn, setTurnedOn] = useState(false);
  if (state === undefined) return null;
  const counted = state === 'conntrack';
  return (
    <span data-testid="udp-counters" data-state={state} title={describeUdpCounters(state)}>
      {counted ? 'UDP counted by conntrack' : 'UDP rates n/a'}
      {turnedOn && state === 'acct-off' && (
        <span className="muted" data-testid="conntrack-on">
          {' '}
          (accounting on: UDP counts within a few polls)
        </span>
      )}
      {canEnable && state === 'acct-off' && !turnedOn && (
        <>
          {' '}
          <button className="link-button" data-testid="conntrack-offer" onClick={() => setAsking(true)}>
            Turn on UDP counting…
          </button>
        </>
      )}
      {asking && (
        <div className="modal-backdrop">
          <div className="modal" role="dialog" aria-label="Turn on conntrack accounting" data-testid="conntrack-dialog">
            <h2>Turn on conntrack accounting?</h2>
            <p>
              The kernel keeps no byte counters per UDP socket. Its connection tracking can count bytes per flow, and Portwatch then shows UDP rates from it.
              This sets <code>net.netfilter.nf_conntrack_acct=1</code> in Portwatch&apos;s network namespace, as{' '}
              <code>sysctl -w net.netfilter.nf_conntrack_acct=1</code> would.
            </p>
            <ul className="muted">
              <li>It counts every tracked connection from now on: a small cost per packet, for the whole machine.</li>
              <li>It counts only flows conntrack tracks (where a firewall rule or NAT uses it), whole IP packets.</li>
              <li>
                It stays on until changed back (<code>sysctl -w net.netfilter.nf_conntrack_acct=0</code>) or a reboot; Portwatch never turns it off.
              </li>
            </ul>
            <footer>
              <button data-testid="conntrack-cancel" onClick={() => setAsking(false)}>
                Cancel
              </button>
              <button
                data-testid="conntrack-confirm"
                className="primary"
                disabled={busy}
                onClick={() => {
                  setBusy(true);
                  void onEnable().then((ok) => {
                    setBusy(false);
                    setAsking(false);
                    // a failure is the status bar's command error
                    setTurnedOn(ok);
                  });
                }}
              >
                Turn on accounting
              </button>
            </footer>
          </div>
        </div>
      )}
    </span>
  );
}
