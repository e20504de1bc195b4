/**
 * Ensemble membership as ZooKeeper 3.5+ keeps it (QuorumMaj + QuorumServer): the server.N
 * specs, the version (the zxid of the reconfig that made it; 0 before the first leader stamps
 * it), the text that `/zookeeper/config` and `zoo.cfg.dynamic.<version>` hold, and the two
 * ways a `reconfig` computes the next membership (incremental joining/leaving, or a whole new
 * member list). Pure: the zoo.cfg reader (node/config.ts), the request pipeline (server/) and
 * the ZAB core (zab/) share it.
 *
 * Spec: `host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]`.
 */

export type MemberRole = 'participant' | 'observer';

export interface Member {
  readonly id: number;
  readonly host: string;
  readonly quorumPort: number;
  readonly electionPort: number;
  readonly type: MemberRole;
  /** from `;[clientHost:]clientPort`; 0.0.0.0 when only the port is given (as ZooKeeper) */
  readonly clientHost: string | null;
  readonly clientPort: number | null;
}

export const SERVER_SPEC_FORMAT = 'server.N=host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]';

/** `host:port…` with an optional [ipv6] host, as ConfigUtils.getHostAndPort. */
export function splitHostAndPorts(s: string): string[] | null {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end === -1) return null;
    const host = s.slice(1, end);
    const rest = s.slice(end + 1);
    if (rest === '') return [host];
    if (!rest.startsWith(':')) return null;
    return [host, ...rest.slice(1).split(':')];
  }
  return s.split(':');
}

function parsePort(what: string, value: string): number | string {
  if (!/^\d+$/.test(value)) return `${what} '${value}' is not a port number`;
  const n = Number(value);
  if (n < 1 || n > 65535) return `${what} ${n} is out of range: a port is 1..65535`;
  return n;
}

/** One server spec (the value of a `server.N=` line). A string result is what is wrong with it. */
export function parseServerSpec(id: number, value: string): Member | string {
  const parts = value.split(';');
  if (parts.length > 2) return `server.${id}=${value}: expected ${SERVER_SPEC_FORMAT}`;
  const serverPart = (parts[0] as string).trim();
  if (serverPart.includes('|')) {
    return `server.${id}: several addresses per server (multiAddress) are not supported by ZooLab; give one host:port:port`;
  }
  const sp = splitHostAndPorts(serverPart);
  if (!sp || sp.length < 3 || sp.length > 4) return `server.${id}=${value}: expected ${SERVER_SPEC_FORMAT}`;
  const host = sp[0] as string;
  if (host === '') return `server.${id}: the host is empty; expected ${SERVER_SPEC_FORMAT}`;
  const quorumPort = parsePort(`server.${id} quorum port`, sp[1] as string);
  if (typeof quorumPort === 'string') return quorumPort;
  const electionPort = parsePort(`server.${id} election port`, sp[2] as string);
  if (typeof electionPort === 'string') return electionPort;
  let type: MemberRole = 'participant';
  if (sp.length === 4) {
    const t = (sp[3] as string).toLowerCase();
    if (t !== 'participant' && t !== 'observer') return `server.${id}: unrecognised peer type '${sp[3]}'; use participant or observer`;
    type = t;
  }
  let clientHost: string | null = null;
  let clientPort: number | null = null;
  if (parts.length === 2) {
    const cp = splitHostAndPorts((parts[1] as string).trim());
    if (!cp || cp.length > 2 || cp.length === 0) return `server.${id}=${value}: expected ${SERVER_SPEC_FORMAT}`;
    const port = parsePort(`server.${id} client port`, cp[cp.length - 1] as string);
    if (typeof port === 'string') return port;
    clientPort = port;
    clientHost = cp.length === 2 ? (cp[0] as string) : '0.0.0.0';
  }
  if (quorumPort === electionPort) return `server.${id}: quorum port and election port are both ${quorumPort}; give two different ports`;
  return { id, host, quorumPort, electionPort, type, clientHost, clientPort };
}

function formatHost(h: string): string {
  return h.includes(':') ? `[${h}]` : h;
}

/** QuorumServer.toString(): the value of a server.N line as ZooKeeper writes it back. */
export function formatServerSpec(m: Member): string {
  const base = `${formatHost(m.host)}:${m.quorumPort}:${m.electionPort}:${m.type}`;
  return m.clientPort === null ? base : `${base};${formatHost(m.clientHost ?? '0.0.0.0')}:${m.clientPort}`;
}

export class Membership {
  readonly members: ReadonlyMap<number, Member>;
  readonly version: bigint;

  constructor(members: Iterable<Member>, version: bigint) {
    const sorted = [...members].sort((a, b) => a.id - b.id);
    this.members = new Map(sorted.map((m) => [m.id, m]));
    this.version = version;
  }

  get voters(): number[] {
    return [...this.members.values()].filter((m) => m.type === 'participant').map((m) => m.id);
  }

  get observers(): number[] {
    return [...this.members.values()].filter((m) => m.type === 'observer').map((m) => m.id);
  }

  isVoter(id: number): boolean {
    return this.members.get(id)?.type === 'participant';
  }

  withVersion(version: bigint): Membership {
    return new Membership(this.members.values(), version);
  }

  /** The server.N lines only (what zoo.cfg.dynamic.<version> holds: no trailing newline). */
  serverLines(): string {
    return [...this.members.values()].map((m) => `server.${m.id}=${formatServerSpec(m)}`).join('\n');
  }

  /** QuorumMaj.toString(): the data of /zookeeper/config. */
  toText(): string {
    const lines = this.serverLines();
    return `${lines}${lines === '' ? '' : '\n'}version=${this.version.toString(16)}`;
  }

  /** Same servers with the same roles and addresses (the version aside). */
  sameServers(other: Membership): boolean {
    return this.serverLines() === other.serverLines();
  }

  /** Parse /zookeeper/config text (or a dynamic config file). A string result says what is wrong. */
  static parse(text: string): Membership | string {
    const members: Member[] = [];
    let version = 0n;
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const eq = line.indexOf('=');
      if (eq === -1) return `'${line}': expected server.N=… or version=…`;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      if (key === 'version') {
        if (!/^[0-9a-fA-F]{1,16}$/.test(value)) return `version=${value}: not a hex number`;
        version = BigInt(`0x${value}`);
      } else if (key.startsWith('server.')) {
        const idText = key.slice('server.'.length);
        if (!/^\d+$/.test(idText)) return `${key}: the server id must be a number`;
        const m = parseServerSpec(Number(idText), value);
        if (typeof m === 'string') return m;
        members.push(m);
      }
    }
    return new Membership(members, version);
  }
}

/** Why a reconfig request cannot give a next membership; the names are ZooKeeper's error codes. */
export type ReconfigFailure = { readonly code: 'BADARGUMENTS' | 'MARSHALLINGERROR'; readonly message: string };

function splitList(s: string, sep: string): string[] {
  // ZooKeeper's StringUtils.split: trimmed, empty pieces dropped
  return s.split(sep).map((p) => p.trim()).filter((p) => p !== '');
}

function duplicateAddress(a: Member, b: Member): string | null {
  const addrs = (m: Member) => [`${m.host}:${m.quorumPort}`, `${m.host}:${m.electionPort}`];
  for (const x of addrs(a)) if (addrs(b).includes(x)) return `${x} of server.${a.id} is already used by server.${b.id}`;
  return null;
}

/**
 * The membership a ReconfigRequest asks for, before its version is stamped (as
 * PrepRequestProcessor computes `request.qv`). `current` is the last seen membership.
 */
export function nextMembership(
  current: Membership,
  req: { joiningServers: string | null; leavingServers: string | null; newMembers: string | null },
): Member[] | ReconfigFailure {
  if (req.newMembers !== null) {
    const next = new Map<number, Member>();
    for (const raw of req.newMembers.replace(/,/g, '\n').split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
      const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
      if (!m) continue;
      const key = m[1] as string;
      if (!key.startsWith('server.')) continue;
      const idText = key.slice(key.lastIndexOf('.') + 1);
      if (!/^\d+$/.test(idText)) return { code: 'MARSHALLINGERROR', message: `${key}: the server id is not a number` };
      const spec = parseServerSpec(Number(idText), m[2] as string);
      if (typeof spec === 'string') return { code: 'BADARGUMENTS', message: spec };
      next.set(spec.id, spec);
    }
    return [...next.values()];
  }
  const next = new Map(current.members);
  if (req.leavingServers !== null) {
    for (const leaving of splitList(req.leavingServers, ',')) {
      if (!/^[+-]?\d+$/.test(leaving)) return { code: 'MARSHALLINGERROR', message: `leaving server '${leaving}' is not a number` };
      next.delete(Number(leaving));
    }
  }
  if (req.joiningServers !== null) {
    for (const joiner of splitList(req.joiningServers, ',')) {
      const parts = splitList(joiner, '=');
      if (parts.length !== 2) return { code: 'BADARGUMENTS', message: 'Wrong format of server string' };
      const key = parts[0] as string;
      const idText = key.slice(key.lastIndexOf('.') + 1);
      if (!/^\d+$/.test(idText)) return { code: 'MARSHALLINGERROR', message: `${key}: the server id is not a number` };
      const spec = parseServerSpec(Number(idText), parts[1] as string);
      if (typeof spec === 'string') return { code: 'BADARGUMENTS', message: 'Reconfiguration failed' };
      if (spec.clientPort === null) return { code: 'BADARGUMENTS', message: 'Wrong format of server string - each server should have 3 ports specified' };
      for (const other of next.values()) {
        if (other.id === spec.id) continue;
        if (duplicateAddress(spec, other) !== null) return { code: 'BADARGUMENTS', message: 'Reconfiguration failed' };
      }
      next.delete(spec.id);
      next.set(spec.id, spec);
    }
  }
  return [...next.values()];
}
