import { useState, type ReactElement } from 'react';
import type { BaselineState } from '../../../shared/api';
import { BaselineRuleSchema, describeRule, ruleKey, type BaselineRule } from '../../../shared/baseline';
import { PROTOCOLS, type Protocol } from '../../../shared/model';
import type { Exposure } from '../../../shared/exposure';

/** A rule as the form edits it: text fields, '' for "any". */
interface Draft {
  who: 'process' | 'exe';
  name: string;
  protocol: Protocol | '';
  port: string;
  exposure: Exposure | '';
  note: string;
}

function toDraft(r: BaselineRule): Draft {
  return {
    who: r.exe !== undefined && r.process === undefined ? 'exe' : 'process',
    name: r.process ?? r.exe ?? '',
    protocol: r.protocol ?? '',
    port: r.port !== undefined ? String(r.port) : (r.ports ?? ''),
    exposure: r.exposure ?? '',
    note: r.note ?? '',
  };
}

/** The draft as a rule, checked as the file and the API check it; the error in words otherwise. */
export function draftToRule(d: Draft, keepExe?: string): { ok: true; rule: BaselineRule } | { ok: false; message: string } {
  const r: BaselineRule = {};
  const name = d.name.trim();
  if (name) r[d.who] = name;
  if (d.who === 'process' && keepExe !== undefined) r.exe = keepExe;
  if (d.protocol) r.protocol = d.protocol;
  const port = d.port.trim();
  if (/^\d+$/.test(port)) r.port = Number(port);
  else if (port) r.ports = port;
  if (d.exposure) r.exposure = d.exposure;
  if (d.note.trim()) r.note = d.note.trim();
  const p = BaselineRuleSchema.safeParse(r);
  if (p.success) return { ok: true, rule: r };
  return { ok: false, message: p.error.issues.map((i) => `${i.path.join('.') || 'rule'}: ${i.message}`).join('; ') };
}

function RuleEditor(props: { rule: BaselineRule; onSave: (r: BaselineRule) => void; onCancel: () => void }): ReactElement {
  const [d, setD] = useState<Draft>(() => toDraft(props.rule));
  const keepExe = props.rule.process !== undefined ? props.rule.exe : undefined;
  const checked = draftToRule(d, keepExe);
  const set = (patch: Partial<Draft>): void => setD({ ...d, ...patch });
  return (
    <form
      className="rule-editor"
      data-testid="rule-editor"
      onSubmit={(e) => {
        e.preventDefault();
        if (checked.ok) props.onSave(checked.rule);
      }}
    >
      <select aria-label="Match by" value={d.who} onChange={(e) => set({ who: e.target.value === 'exe' ? 'exe' : 'process' })}>
        <option value="process">Process name</option>
        <option value="exe">Executable</option>
      </select>
      <input data-testid="rule-name" aria-label="Name or path (empty: any)" placeholder="any" value={d.name} onChange={(e) => set({ name: e.target.value })} />
      <select aria-label="Protocol" value={d.protocol} onChange={(e) => set({ protocol: PROTOCOLS.find((p) => p === e.target.value) ?? '' })}>
        <option value="">any protocol</option>
        {PROTOCOLS.map((p) => (
          <option key={p} value={p}>
            {p}
          </option>
        ))}
      </select>
      <input
        data-testid="rule-port"
        className="mono"
        aria-label="Port or range (empty: any)"
        placeholder="any port, 8080 or 8000-8999"
        value={d.port}
        onChange={(e) => set({ port: e.target.value })}
      />
      <select
        data-testid="rule-exposure"
        aria-label="Exposure"
        value={d.exposure}
        onChange={(e) => set({ exposure: e.target.value === 'all' || e.target.value === 'interface' || e.target.value === 'loopback' ? e.target.value : '' })}
      >
        <option value="">any exposure</option>
        <option value="all">all interfaces</option>
        <option value="interface">one interface</option>
        <option value="loopback">loopback</option>
      </select>
      <input aria-label="Note" placeholder="note" value={d.note} onChange={(e) => set({ note: e.target.value })} />
      <button type="submit" data-testid="rule-save" disabled={!checked.ok}>
        Save
      </button>
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
      {!checked.ok && (
        <div className="risk" data-testid="rule-error">
          {checked.message}
        </div>
      )}
    </form>
  );
}

/** The expected-ports rules: each in words, to edit or remove. */
export function BaselineRules(props: {
  baseline: BaselineState | null;
  control: boolean;
  onEdit: (old: BaselineRule, next: BaselineRule) => void;
  onRemove: (old: BaselineRule) => void;
  onClose: () => void;
}): ReactElement {
  const [editing, setEditing] = useState<string | null>(null);
  const b = props.baseline;
  return (
    <div className="modal-backdrop">
      <div className="modal rules-modal" role="dialog" aria-label="Expected ports" data-testid="rules-dialog">
        <h2>Expected ports</h2>
        {!b || (!b.ok && b.path === '') ? (
          <p className="muted">No baseline file in this mode.</p>
        ) : !b.ok ? (
          <p className="risk">{b.message}</p>
        ) : (
          <>
            <p className="muted mono">{b.path}</p>
            {b.rules.length === 0 && <p className="muted">No rules: every listener is unexpected.</p>}
            <ul className="rule-list">
              {b.rules.map((r) => {
                const key = `${ruleKey(r)}|${r.note ?? ''}`;
                return (
                  <li key={key} data-testid="rule">
                    {editing === key ? (
                      <RuleEditor
                        rule={r}
                        onCancel={() => setEditing(null)}
                        onSave={(next) => {
                          props.onEdit(r, next);
                          setEditing(null);
                        }}
                      />
                    ) : (
                      <>
                        <span className="mono">{describeRule(r)}</span>
                        {r.note && <span className="muted"> ({r.note})</span>}
                        {props.control && (
                          <span className="rule-actions">
                            <button data-testid="rule-edit" onClick={() => setEditing(key)}>
                              Edit
                            </button>
                            <button data-testid="rule-remove" onClick={() => props.onRemove(r)}>
                              Remove
                            </button>
                          </span>
                        )}
                      </>
                    )}
                  </li>
                );
              })}
            </ul>
          </>
        )}
        <footer>
          <button data-testid="rules-close" onClick={props.onClose}>
            Close
          </button>
        </footer>
      </div>
    </div>
  );
}
