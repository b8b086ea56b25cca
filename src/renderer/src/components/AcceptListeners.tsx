import { useState, type ReactElement } from 'react';
import { describeRule, type BaselineRule } from '../../../shared/baseline';

/**
 * The first-run offer, confirmed: the button takes the rules for what listens now (at that moment), shows them,
 * and accepting writes exactly those, whatever has started listening since.
 */
export function AcceptListeners(props: {
  listening: number;
  rulesNow: () => BaselineRule[];
  control: boolean;
  onAccept: (rules: BaselineRule[]) => void;
}): ReactElement {
  const [rules, setRules] = useState<BaselineRule[] | null>(null);
  return (
    <div className="banner" data-testid="baseline-offer">
      No expected ports yet: every listener counts as unexpected. Accept the {props.listening} listening now as expected?{' '}
      {props.control && (
        <button data-testid="accept-baseline" onClick={() => setRules(props.rulesNow())}>
          Accept current listeners…
        </button>
      )}
      {rules && (
        <div className="modal-backdrop">
          <div className="modal" role="dialog" aria-label="Accept current listeners" data-testid="accept-dialog">
            <h2>
              Expect these {rules.length} rule{rules.length === 1 ? '' : 's'}?
            </h2>
            <p className="muted">Listeners that start after this list was made are not in it: they stay unexpected.</p>
            <ol className="rule-list" data-testid="accept-rules">
              {rules.map((r) => (
                <li key={JSON.stringify(r)} className="mono" data-testid="accept-rule">
                  {describeRule(r)}
                </li>
              ))}
            </ol>
            <footer>
              <button onClick={() => setRules(null)}>Cancel</button>
              <button
                data-testid="accept-confirm"
                className="primary"
                disabled={rules.length === 0}
                onClick={() => {
                  props.onAccept(rules);
                  setRules(null);
                }}
              >
                Accept {rules.length} rule{rules.length === 1 ? '' : 's'}
              </button>
            </footer>
          </div>
        </div>
      )}
    </div>
  );
}
