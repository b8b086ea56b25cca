import { isExpected, type BaselineRule } from '../../shared/baseline';
import { classifyPort, compareListeners, exposureOf, type Exposure, type PortRange } from '../../shared/exposure';
import { inert } from '../../shared/inert';
import { describeNoOwner, formatEndpoint, type NoOwner, type Protocol, type Socket } from '../../shared/model';

export interface AuditListener {
  protocol: Protocol;
  localAddress: string;
  localPort: number;
  exposure: Exposure;
  service: string | null;
  range: PortRange;
  risk: string | null;
  expected: boolean;
  pid: number | null;
  process: string | null;
  /** Why no process is named, when none is. */
  noOwner: NoOwner | null;
}

/** Every listener with its exposure, class and verdict; widest exposure first, then by port. */
export function auditReport(sockets: readonly Socket[], rules: readonly BaselineRule[]): AuditListener[] {
  return sockets
    .filter((s) => s.listening)
    .map((s) => {
      const c = classifyPort(s.localPort, s.protocol);
      return {
        protocol: s.protocol,
        localAddress: s.localAddress,
        localPort: s.localPort,
        exposure: exposureOf(s) as Exposure,
        service: c.service,
        range: c.range,
        risk: c.risk,
        expected: isExpected(rules, s) === true,
        pid: s.pid,
        process: s.process?.name ?? null,
        noOwner: s.noOwner,
      };
    })
    .sort(compareListeners);
}

/** The audit as a table; every cell and the path pass through inert() (process names are other users' text). */
export function formatAudit(report: readonly AuditListener[], baselinePath: string | null): string {
  const header = ['EXPOSURE', 'PROTO', 'LOCAL', 'SERVICE', 'RANGE', 'PROCESS', 'EXPECTED', 'RISK'];
  const rows = report.map((l) =>
    [
      l.exposure,
      l.protocol,
      formatEndpoint(l.localAddress, l.localPort),
      l.service ?? '-',
      l.range,
      l.process ? `${l.process}${l.pid === null ? '' : ` (${l.pid})`}` : l.pid !== null ? String(l.pid) : `(${describeNoOwner(l.noOwner ?? 'not-found')})`,
      l.expected ? 'yes' : 'NO',
      l.risk ?? '',
    ].map(inert),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  const foot = baselinePath
    ? `baseline: ${inert(baselinePath)}`
    : 'no baseline yet: every listener counts as unexpected (portwatch audit --write-baseline FILE)';
  return [line(header), ...rows.map(line), '', foot].join('\n') + '\n';
}
