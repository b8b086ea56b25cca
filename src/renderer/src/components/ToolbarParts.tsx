import { useEffect, useRef, useState, type ReactElement, type ReactNode } from 'react';

/**
 * The toolbar's "More" menu: the controls used less often, so that the toolbar fits one line from 1024 px.
 * Its items stay in the page while it is closed (hidden), so each keeps its state and test id. A click on an
 * item, outside the menu, or Esc closes it.
 */
export function OverflowMenu({ children }: { children: ReactNode }): ReactElement {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const onDown = (e: PointerEvent): void => {
      if (e.target instanceof Node && !ref.current?.contains(e.target)) setOpen(false);
    };
    window.addEventListener('pointerdown', onDown);
    return () => window.removeEventListener('pointerdown', onDown);
  }, [open]);
  return (
    <div
      className="more"
      ref={ref}
      onKeyDown={(e) => {
        if (e.key !== 'Escape' || !open) return;
        e.stopPropagation(); // Esc closes this menu, not the details panel behind it
        setOpen(false);
      }}
    >
      <button data-testid="more" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen(!open)} title="More: names, grouping, export, notifications">
        ⋯ More
      </button>
      <div
        className="more-menu"
        role="menu"
        data-testid="more-menu"
        hidden={!open}
        onClick={(e) => {
          if (e.target instanceof Element && e.target.closest('button')) setOpen(false);
        }}
      >
        {children}
      </div>
    </div>
  );
}

/**
 * A button label that takes the width of the longest of its labels, whichever shows: a toggle that says
 * "Pause polling" or "Resume polling" never moves the controls after it.
 */
export function SteadyLabel({ labels, shown }: { labels: readonly string[]; shown: string }): ReactElement {
  return (
    <span className="steady">
      {labels.map((l) => (
        <span key={l} aria-hidden={l !== shown} className={l === shown ? undefined : 'steady-other'}>
          {l}
        </span>
      ))}
    </span>
  );
}
