import { memo, useMemo, useState, type ReactElement } from 'react';
import { formatEndpoint, type Socket } from '../../../shared/model';
import { bySocket, type ProcessGroup } from '../store/groups';

const SocketRow = memo(function SocketRow({ s }: { s: Socket }): ReactElement {
  return (
    <tr data-testid="socket-row" data-socket-id={s.id} className={s.listening ? 'listening' : undefined}>
      <td className="proto">
        {s.protocol}
        {s.family === 6 ? '6' : ''}
      </td>
      <td className="endpoint">{formatEndpoint(s.localAddress, s.localPort)}</td>
      <td className="endpoint">{formatEndpoint(s.remoteAddress, s.remotePort)}</td>
      <td>
        <span className={`state state-${s.state.toLowerCase()}`}>{s.state}</span>
      </td>
    </tr>
  );
});

function Group({ g, open, toggle }: { g: ProcessGroup; open: boolean; toggle: () => void }): ReactElement {
  const rows = useMemo(() => (open ? [...g.sockets].sort(bySocket) : []), [open, g.sockets]);
  return (
    <section className="group" data-testid="group" data-group-key={g.key}>
      <button className="group-head" aria-expanded={open} onClick={toggle}>
        <span className="chevron">{open ? '▾' : '▸'}</span>
        <span className={g.hidden ? 'group-name hidden-owner' : 'group-name'} data-testid="group-name">
          {g.name}
        </span>
        {g.pid !== null && <span className="muted">pid {g.pid}</span>}
        {g.user && <span className="muted">{g.user}</span>}
        <span className="ports">
          {g.ports.slice(0, 8).map((p) => (
            <span key={p} className="port-chip" data-testid="port-chip">
              :{p}
            </span>
          ))}
          {g.ports.length > 8 && <span className="muted">+{g.ports.length - 8}</span>}
        </span>
        <span className="count" title="sockets">
          {g.sockets.length}
        </span>
      </button>
      {open && (
        <table className="sockets">
          <thead>
            <tr>
              <th>Proto</th>
              <th>Local</th>
              <th>Remote</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <SocketRow key={s.id} s={s} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Sockets grouped by process; a group opens to its sockets. */
export function ProcessList({ groups, allOpen }: { groups: ProcessGroup[]; allOpen: boolean }): ReactElement {
  const [toggled, setToggled] = useState<ReadonlySet<string>>(new Set());
  if (groups.length === 0) return <p className="empty">No sockets yet.</p>;
  return (
    <div className="groups">
      {groups.map((g) => (
        <Group
          key={g.key}
          g={g}
          open={allOpen !== toggled.has(g.key)}
          toggle={() =>
            setToggled((t) => {
              const n = new Set(t);
              if (!n.delete(g.key)) n.add(g.key);
              return n;
            })
          }
        />
      ))}
    </div>
  );
}
