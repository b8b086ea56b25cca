import type { Protocol } from './model';
import { riskOf, type Exposure } from './reach';
import { serviceFor } from './services';

export { exposureOf, exposureOfAddress, riskOf, type Exposure } from './reach';

/**
 * Who can reach a listening socket, and what its port is. Pure: shared by the engine (alerts, `audit`) and
 * the UI (Exposure view).
 */

export type PortRange = 'well-known' | 'registered' | 'dynamic';

export interface PortClass {
  range: PortRange;
  /** Below 1024: only root (or CAP_NET_BIND_SERVICE) may bind it. */
  privileged: boolean;
  service: string | null;
  description: string | null;
  /** Set when the service is risky to expose beyond this machine, with why. */
  risk: string | null;
}

export function classifyPort(port: number, protocol: Protocol): PortClass {
  const svc = serviceFor(port, protocol);
  return {
    range: port <= 1023 ? 'well-known' : port <= 49151 ? 'registered' : 'dynamic',
    privileged: port <= 1023,
    service: svc?.name ?? null,
    description: svc?.description ?? null,
    risk: riskOf(port, protocol),
  };
}

export const EXPOSURE_ORDER: Record<Exposure, number> = { all: 0, interface: 1, loopback: 2 };

/**
 * The order of a listener report (the UI's Exposure view and `portwatch audit`): widest exposure first, the
 * unexpected before the expected, then by port and protocol.
 */
export function compareListeners(
  a: { exposure: Exposure; expected: boolean | null; localPort: number; protocol: Protocol },
  b: { exposure: Exposure; expected: boolean | null; localPort: number; protocol: Protocol },
): number {
  return (
    EXPOSURE_ORDER[a.exposure] - EXPOSURE_ORDER[b.exposure] ||
    Number(a.expected === true) - Number(b.expected === true) ||
    a.localPort - b.localPort ||
    a.protocol.localeCompare(b.protocol)
  );
}
