/**
 * ZooKeeper 3.5+ dynamic configuration text, as /zookeeper/config holds it and as reconfig
 * takes it: `server.N=host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort]`
 * lines and `version=<hex>`. Parsed the way the Java side reads a server line
 * (QuorumPeer.QuorumServer), with its error wording, so tools can show and build memberships.
 * Pure: no IO.
 */

export type LearnerRole = 'participant' | 'observer';

export interface ServerSpec {
  id: number;
  host: string;
  quorumPort: number;
  electionPort: number;
  role: LearnerRole;
  /** the client address, when the line has a `;client` part ("0.0.0.0" when only a port is given) */
  client: { host: string; port: number } | null;
}

export interface DynamicConfig {
  servers: ServerSpec[];
  /** the `version=` value as written (hex, no 0x); null when absent */
  version: string | null;
}

/** A server line or config the Java side would refuse; message worded as ZooKeeper's ConfigException. */
export class DynamicConfigError extends Error {
  override name = 'DynamicConfigError';
}

const WRONG_FORMAT =
  ' does not have the form server_config or server_config;client_config where server_config is the pipe separated list of host:port:port or host:port:port:type and client_config is port or host:port';

/** host:port split as ConfigUtils.getHostAndPort does it: `[v6]:p` keeps the bracketed host whole. */
function hostAndPort(s: string): string[] {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) throw new DynamicConfigError(`${s} starts with '[' but has no matching ']:'`);
    const rest = s.slice(end + 1);
    const parts = rest.startsWith(':') ? rest.slice(1).split(':') : rest === '' ? [] : [rest];
    return [s.slice(1, end), ...parts];
  }
  return s.split(':');
}

/** Java's Integer.parseInt for a port: digits only (sign allowed), in int range, else null. */
function parsePort(text: string): number | null {
  if (!/^[+-]?\d+$/.test(text)) return null;
  const n = Number(text);
  return n >= -2147483648 && n <= 2147483647 ? n : null;
}

/** Parses the value of a `server.N=` line (throws DynamicConfigError with ZooKeeper's wording). */
export function parseServerLine(id: number, value: string): ServerSpec {
  const serverClient = value.split(';');
  const serverPart = serverClient[0] ?? '';
  if (serverPart.includes('|')) throw new DynamicConfigError(`${value}: several addresses per server (multiAddress) are not supported`);
  let client: ServerSpec['client'] = null;
  if (serverClient.length === 2) {
    const clientParts = hostAndPort(serverClient[1] ?? '');
    if (clientParts.length > 2) throw new DynamicConfigError(value + WRONG_FORMAT);
    const clientHost = clientParts.length === 2 ? (clientParts[0] ?? '') : '0.0.0.0';
    const portText = clientParts[clientParts.length - 1] ?? '';
    const port = parsePort(portText);
    if (port === null) throw new DynamicConfigError(`Address unresolved: ${clientHost}:${portText}`);
    client = { host: clientHost, port };
  }
  const parts = hostAndPort(serverPart);
  if (serverClient.length > 2 || parts.length < 3 || parts.length > 4) throw new DynamicConfigError(value + WRONG_FORMAT);
  const host = parts[0] ?? '';
  const quorumPort = parsePort(parts[1] ?? '');
  if (quorumPort === null) throw new DynamicConfigError(`Address unresolved: ${host}:${parts[1] ?? ''}`);
  const electionPort = parsePort(parts[2] ?? '');
  if (electionPort === null) throw new DynamicConfigError(`Address unresolved: ${host}:${parts[2] ?? ''}`);
  if (quorumPort === electionPort) {
    throw new DynamicConfigError(`Client and election port must be different! Please update the configuration file on server.${id}`);
  }
  let role: LearnerRole = 'participant';
  if (parts.length === 4) {
    const type = (parts[3] ?? '').toLowerCase();
    if (type === 'observer') role = 'observer';
    else if (type !== 'participant') throw new DynamicConfigError(`Unrecognised peertype: ${parts[3] ?? ''}`);
  }
  return { id, host, quorumPort, electionPort, role, client };
}

function delimitedHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The value of a `server.N=` line as ZooKeeper writes it (QuorumServer.toString): role always, client part when known. */
export function formatServerSpec(s: ServerSpec): string {
  const base = `${delimitedHost(s.host)}:${s.quorumPort}:${s.electionPort}:${s.role}`;
  return s.client === null ? base : `${base};${delimitedHost(s.client.host)}:${s.client.port}`;
}

/** `server.N=<value>` */
export function formatServerLine(s: ServerSpec): string {
  return `server.${s.id}=${formatServerSpec(s)}`;
}

/**
 * Parses /zookeeper/config data (or a dynamic config file's `key=value` lines): server lines and
 * the version; other keys and blank/comment lines are ignored. Servers come sorted by id.
 */
export function parseDynamicConfig(text: string): DynamicConfig {
  const servers: ServerSpec[] = [];
  let version: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'version') version = value;
    else if (key.startsWith('server.')) {
      const id = Number(key.slice('server.'.length));
      if (!Number.isSafeInteger(id) || id < 0) throw new DynamicConfigError(`For input string: "${key.slice('server.'.length)}"`);
      servers.push(parseServerLine(id, value));
    }
  }
  servers.sort((a, b) => a.id - b.id);
  return { servers, version };
}

/** The configuration version as a number (the `version=` hex), -1n when absent or unreadable. */
export function configVersion(config: DynamicConfig): bigint {
  if (config.version === null || !/^[0-9a-fA-F]{1,16}$/.test(config.version)) return -1n;
  return BigInt(`0x${config.version}`);
}
