import { useState, type ReactElement } from 'react';
import { describeRule, ruleWith, type BaselineRule, type RuleChoice } from '../../../shared/baseline';
import { exposureOf } from '../../../shared/exposure';
import { formatEndpoint, type Socket } from '../../../shared/model';
import { processSummary } from '../../../shared/processSummary';

const EXPOSURE_TEXT = { all: 'on all interfaces', interface: 'on this one interface', loopback: 'on loopback' } as const;

/**
 * "Mark as expected" with the choices people make: this port, any port for this executable, or a range; on
 * this exposure or any. Shows the rule it will write before it does.
 */
export function MarkExpected(props: { socket: Socket; onMark: (choice: RuleChoice) => void; onClose: () => void }): ReactElement {
  const s = props.socket;
  const [ports, setPorts] = useState<'this' | 'any' | 'range'>('this');
  const [range, setRange] = useState(`${Math.floor(s.localPort / 1000) * 1000}-${Math.floor(s.localPort / 1000) * 1000 + 999}`);
  const [exposure, setExposure] = useState<'this' | 'any'>('this');
  const choice: RuleChoice = { ports: ports === 'range' ? range.trim() : ports, exposure };
  const rule: BaselineRule | null = ruleWith(s, choice);
  const who = s.process ? processSummary(s.process) : 'this listener';
  const where = EXPOSURE_TEXT[exposureOf(s) ?? 'all'];
  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-label="Mark as expected" data-testid="mark-dialog">
        <h2>
          Expect {who} <span className="muted mono">{formatEndpoint(s.localAddress, s.localPort)}</span>
        </h2>
        <fieldset className="choices">
          <legend>Ports</legend>
          <label>
            <input type="radio" name="ports" data-testid="mark-this-port" checked={ports === 'this'} onChange={() => setPorts('this')} /> This port (
            {s.localPort})
          </label>
          <label title={s.process?.exe ?? undefined}>
            <input type="radio" name="ports" data-testid="mark-any-port" checked={ports === 'any'} disabled={!s.process} onChange={() => setPorts('any')} /> Any
            port for this executable{s.process?.exe ? ` (${s.process.exe})` : ''}
          </label>
          <label>
            <input type="radio" name="ports" data-testid="mark-range" checked={ports === 'range'} disabled={!s.process} onChange={() => setPorts('range')} /> A
            range:{' '}
            <input
              className="mono range-input"
              data-testid="mark-range-text"
              value={range}
              aria-label="Range of ports"
              onFocus={() => setPorts('range')}
              onChange={(e) => setRange(e.target.value)}
            />
          </label>
        </fieldset>
        <fieldset className="choices">
          <legend>Exposure</legend>
          <label>
            <input type="radio" name="exposure" data-testid="mark-this-exposure" checked={exposure === 'this'} onChange={() => setExposure('this')} /> Only{' '}
            {where}
          </label>
          <label>
            <input type="radio" name="exposure" data-testid="mark-any-exposure" checked={exposure === 'any'} onChange={() => setExposure('any')} /> Any exposure
          </label>
        </fieldset>
        <p data-testid="mark-rule">
          {rule ? (
            <>
              Rule: <span className="mono">{describeRule(rule)}</span>
            </>
          ) : (
            <span className="risk">
              {ports === 'range' ? `Not a range that holds port ${s.localPort} (low-high, such as 8000-8999).` : 'No rule: the owner is unknown.'}
            </span>
          )}
        </p>
        <footer>
          <button onClick={props.onClose}>Cancel</button>
          <button data-testid="mark-confirm" className="primary" disabled={!rule} onClick={() => props.onMark(choice)}>
            Mark as expected
          </button>
        </footer>
      </div>
    </div>
  );
}
