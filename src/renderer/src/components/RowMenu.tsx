import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactElement } from 'react';
import type { RowAction } from '../store/rowActions';

/**
 * A row's menu (right-click, the row's ⋯ button, or the Menu key): copies, filters and the row's commands.
 * An action that cannot apply (a closed row, an exited process) is disabled and says why, in its tooltip and
 * in its text. Keyboard: arrows move, Enter runs, Esc closes; a click outside closes.
 */
export function RowMenu(props: { actions: readonly RowAction[]; x: number; y: number; onRun: (a: RowAction) => void; onClose: () => void }): ReactElement {
  const ref = useRef<HTMLDivElement>(null);
  const [pos, setPos] = useState({ left: props.x, top: props.y });
  const [error, setError] = useState<string | null>(null);

  // inside the window, whatever the point it opened at
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const r = el.getBoundingClientRect();
    setPos({ left: Math.max(4, Math.min(props.x, window.innerWidth - r.width - 4)), top: Math.max(4, Math.min(props.y, window.innerHeight - r.height - 4)) });
    el.querySelector<HTMLButtonElement>('button:not(:disabled)')?.focus();
  }, [props.x, props.y]);

  useEffect(() => {
    const away = (e: MouseEvent): void => {
      if (ref.current && e.target instanceof Node && !ref.current.contains(e.target)) props.onClose();
    };
    window.addEventListener('mousedown', away, true);
    return () => window.removeEventListener('mousedown', away, true);
  }, [props]);

  const onKey = (e: KeyboardEvent<HTMLDivElement>): void => {
    // the menu's keys are its own: the window's (arrows move the selection, Esc deselects) wait until it closes
    e.stopPropagation();
    const buttons = [...(ref.current?.querySelectorAll<HTMLButtonElement>('button:not(:disabled)') ?? [])];
    const i = buttons.findIndex((b) => b === document.activeElement);
    if (e.key === 'Escape') {
      e.preventDefault();
      props.onClose();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = e.key === 'ArrowDown' ? (i + 1) % buttons.length : (i - 1 + buttons.length) % buttons.length;
      buttons[next]?.focus();
    } else if (e.key === 'Tab') {
      e.preventDefault();
    }
  };

  const run = (a: RowAction): void => {
    if (a.kind !== 'copy') return props.onRun(a);
    navigator.clipboard.writeText(a.text).then(
      () => props.onRun(a),
      (err: unknown) => setError(`Not copied: ${err instanceof Error ? err.message : String(err)}`),
    );
  };

  return (
    <div className="row-menu" role="menu" data-testid="row-menu" ref={ref} style={pos} onKeyDown={onKey} onContextMenu={(e) => e.preventDefault()}>
      {props.actions.map((a, i) => (
        <div key={a.id} className={i > 0 && a.kind !== props.actions[i - 1]?.kind ? 'menu-item sep' : 'menu-item'}>
          <button role="menuitem" data-testid={`menu-${a.id}`} disabled={a.disabled !== null} title={a.disabled ?? undefined} onClick={() => run(a)}>
            <span className="menu-label">{a.label}</span>
            {a.disabled !== null && <span className="menu-why">{a.disabled}</span>}
          </button>
        </div>
      ))}
      {error && (
        <p className="menu-error" data-testid="menu-error">
          {error}
        </p>
      )}
    </div>
  );
}
