import type { Protocol } from './model';
import { registryTransport, serviceFor } from './services';

/**
 * The ports developers actually meet, by what usually listens there. IANA's registry names the first claimant
 * of a port (3000 is `remoteware-cl`, 5173 and 9229 have no entry at all), not what runs on a developer's
 * machine: this list comes first, and the registry's entry stays beside it. Sources: the defaults the tools
 * document (Vite 5173, Create React App / Rails / Express 3000, Angular CLI 4200, Node --inspect 9229,
 * Django and python -m http.server 8000, Flask and the macOS AirPlay receiver 5000, Jupyter 8888, ...).
 * Pure data, no I/O: shared by the UI's table and Exposure view.
 */
export interface DevPort {
  port: number;
  /** The transports it is used on (a port's TCP and UDP uses often differ). */
  protocols: ReadonlyArray<'tcp' | 'udp'>;
  /** What a developer calls it, short: it is shown in a table cell. */
  name: string;
  /** Which programs listen there by default. */
  detail: string;
}

const TCP = ['tcp'] as const;
const UDP = ['udp'] as const;
const BOTH = ['tcp', 'udp'] as const;

export const DEV_PORTS: readonly DevPort[] = [
  // the machine's own services
  { port: 22, protocols: TCP, name: 'SSH', detail: 'sshd' },
  { port: 25, protocols: TCP, name: 'SMTP', detail: 'a mail server (Postfix, Exim), or a local catcher' },
  { port: 53, protocols: BOTH, name: 'DNS', detail: 'a resolver (systemd-resolved, dnsmasq, bind)' },
  { port: 67, protocols: UDP, name: 'DHCP server', detail: 'dnsmasq, a DHCP server' },
  { port: 68, protocols: UDP, name: 'DHCP client', detail: 'dhclient, NetworkManager' },
  { port: 80, protocols: TCP, name: 'HTTP', detail: 'a web server (nginx, Apache, Caddy)' },
  { port: 111, protocols: BOTH, name: 'rpcbind', detail: 'rpcbind (NFS)' },
  { port: 123, protocols: UDP, name: 'NTP', detail: 'chronyd, ntpd' },
  { port: 443, protocols: BOTH, name: 'HTTPS', detail: 'a web server (TCP), HTTP/3 (UDP)' },
  { port: 445, protocols: TCP, name: 'SMB', detail: 'Samba, Windows file sharing' },
  { port: 631, protocols: BOTH, name: 'CUPS printing', detail: 'cupsd' },
  { port: 5353, protocols: UDP, name: 'mDNS', detail: 'avahi-daemon, Bonjour, browsers' },
  // remote desktops
  { port: 3389, protocols: BOTH, name: 'RDP', detail: 'Remote Desktop, xrdp' },
  { port: 5900, protocols: TCP, name: 'VNC', detail: 'a VNC server' },
  // dev servers
  { port: 3000, protocols: TCP, name: 'Dev server', detail: 'Node, Express, Next.js, Create React App, Rails, Grafana' },
  { port: 3001, protocols: TCP, name: 'Dev server', detail: 'the next free port after 3000' },
  { port: 4000, protocols: TCP, name: 'Dev server', detail: 'Jekyll, Phoenix, GraphQL servers' },
  { port: 4200, protocols: TCP, name: 'Angular dev server', detail: 'ng serve' },
  { port: 5000, protocols: TCP, name: 'Flask / AirPlay', detail: 'flask run, the macOS AirPlay receiver, a Docker registry' },
  { port: 5173, protocols: TCP, name: 'Vite dev server', detail: 'vite (Vue, Svelte, React templates)' },
  { port: 5174, protocols: TCP, name: 'Vite dev server', detail: 'the next free port after 5173' },
  { port: 8000, protocols: TCP, name: 'Dev server', detail: 'Django runserver, python -m http.server, Laravel' },
  { port: 8080, protocols: TCP, name: 'HTTP alternate', detail: 'proxies, Tomcat, Jenkins, webpack-dev-server' },
  { port: 8081, protocols: TCP, name: 'HTTP alternate', detail: 'Metro (React Native), proxies' },
  { port: 8443, protocols: TCP, name: 'HTTPS alternate', detail: 'Tomcat, Kubernetes dashboards, proxies' },
  { port: 8888, protocols: TCP, name: 'Jupyter', detail: 'Jupyter Notebook and Lab' },
  { port: 9000, protocols: TCP, name: 'PHP-FPM', detail: 'php-fpm, SonarQube, MinIO' },
  { port: 24678, protocols: TCP, name: 'Vite HMR', detail: "Vite's hot module reload WebSocket" },
  { port: 35729, protocols: TCP, name: 'LiveReload', detail: 'livereload servers' },
  // debuggers
  { port: 5005, protocols: TCP, name: 'Java debugger', detail: 'JDWP (java -agentlib:jdwp)' },
  { port: 5678, protocols: TCP, name: 'Python debugger', detail: 'debugpy' },
  { port: 9229, protocols: TCP, name: 'Node inspector', detail: 'node --inspect (whoever reaches it runs code)' },
  { port: 9222, protocols: TCP, name: 'Chrome DevTools', detail: 'chrome --remote-debugging-port' },
  // databases and caches
  { port: 1433, protocols: TCP, name: 'SQL Server', detail: 'Microsoft SQL Server' },
  { port: 1521, protocols: TCP, name: 'Oracle DB', detail: 'the Oracle listener' },
  { port: 3306, protocols: TCP, name: 'MySQL', detail: 'MySQL, MariaDB' },
  { port: 5432, protocols: TCP, name: 'PostgreSQL', detail: 'postgres' },
  { port: 6379, protocols: TCP, name: 'Redis', detail: 'redis-server, Valkey' },
  { port: 9042, protocols: TCP, name: 'Cassandra', detail: 'Cassandra CQL' },
  { port: 11211, protocols: BOTH, name: 'memcached', detail: 'memcached' },
  { port: 27017, protocols: TCP, name: 'MongoDB', detail: 'mongod' },
  // search, queues, streams
  { port: 1883, protocols: TCP, name: 'MQTT', detail: 'Mosquitto' },
  { port: 2181, protocols: TCP, name: 'ZooKeeper', detail: 'ZooKeeper' },
  { port: 4222, protocols: TCP, name: 'NATS', detail: 'nats-server' },
  { port: 5672, protocols: TCP, name: 'RabbitMQ', detail: 'AMQP' },
  { port: 15672, protocols: TCP, name: 'RabbitMQ admin', detail: 'the RabbitMQ management UI' },
  { port: 9092, protocols: TCP, name: 'Kafka', detail: 'a Kafka broker' },
  { port: 9200, protocols: TCP, name: 'Elasticsearch', detail: 'Elasticsearch, OpenSearch (HTTP)' },
  { port: 9300, protocols: TCP, name: 'Elasticsearch nodes', detail: 'Elasticsearch transport' },
  { port: 5601, protocols: TCP, name: 'Kibana', detail: 'Kibana' },
  // containers and clusters
  { port: 2375, protocols: TCP, name: 'Docker API', detail: 'dockerd -H tcp:// (plain text)' },
  { port: 2376, protocols: TCP, name: 'Docker API (TLS)', detail: 'dockerd -H tcp:// with TLS' },
  { port: 2379, protocols: TCP, name: 'etcd', detail: 'etcd clients' },
  { port: 6443, protocols: TCP, name: 'Kubernetes API', detail: 'kube-apiserver, k3s, kind' },
  { port: 10250, protocols: TCP, name: 'kubelet', detail: 'the kubelet API' },
  // observability
  { port: 3100, protocols: TCP, name: 'Loki', detail: 'Grafana Loki' },
  { port: 4317, protocols: TCP, name: 'OpenTelemetry gRPC', detail: 'an OTLP collector' },
  { port: 4318, protocols: TCP, name: 'OpenTelemetry HTTP', detail: 'an OTLP collector' },
  { port: 9090, protocols: TCP, name: 'Prometheus', detail: 'Prometheus' },
  { port: 9100, protocols: TCP, name: 'Node exporter', detail: 'Prometheus node_exporter' },
  { port: 16686, protocols: TCP, name: 'Jaeger UI', detail: 'Jaeger' },
  // secrets and service discovery
  { port: 8200, protocols: TCP, name: 'Vault', detail: 'HashiCorp Vault' },
  { port: 8500, protocols: TCP, name: 'Consul', detail: 'HashiCorp Consul' },
];

const byKey = new Map<string, DevPort>();
for (const d of DEV_PORTS) for (const t of d.protocols) if (!byKey.has(`${d.port}/${t}`)) byKey.set(`${d.port}/${t}`, d);

/** What usually listens on a port for developers, or undefined (MPTCP counts as TCP, UDP-Lite as UDP). */
export function devPortFor(port: number, protocol: Protocol): DevPort | undefined {
  const transport = registryTransport(protocol);
  return transport === null ? undefined : byKey.get(`${port}/${transport}`);
}

/** A port's service as shown: the developer's name first, the registry's entry beside it. */
export interface ServiceLabel {
  /** `Dev server (IANA: remoteware-cl)`, `Node inspector`, `redis` (a registry name alone). */
  text: string;
  /** Everything known, for a tooltip: what listens there by default, and the IANA entry with its description. */
  title: string;
}

/**
 * The Service column's text for a port: the curated name, then IANA's name (omitted only when it says the
 * same, as `SSH` and `ssh`); the registry's name alone when the port is not in the curated list; null for
 * neither (raw sockets, unassigned ports).
 */
export function serviceLabel(port: number, protocol: Protocol): ServiceLabel | null {
  const dev = devPortFor(port, protocol);
  const iana = serviceFor(port, protocol);
  const ianaTitle = iana ? `IANA: ${iana.name}${iana.description ? ` (${iana.description})` : ''}` : 'IANA: no entry';
  if (!dev) return iana ? { text: iana.name, title: ianaTitle } : null;
  const same = iana !== undefined && iana.name.toLowerCase() === dev.name.toLowerCase();
  return {
    text: iana && !same ? `${dev.name} (IANA: ${iana.name})` : dev.name,
    title: `${dev.name}: usually ${dev.detail}\n${ianaTitle}`,
  };
}
