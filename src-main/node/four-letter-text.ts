/**
 * The text of the four-letter words, in ZooKeeper's exact formats (§5 of the protocol reference):
 * what each answer looks like, given what the server knows. Which word gets which answer (the
 * whitelist, serving or not) is four-letter-words.ts.
 */
import { hex } from '../common/ids';
import type { ConnectionInfo as CoreConnectionInfo } from '../server/types';
import type { ZxidDigest } from '../tree/tree-digest';
import { readdirSync, readFileSync } from 'node:fs';
import os, { hostname } from 'node:os';
import type { FourLetterContext, ServerMode, ServerStatus } from './four-letter-words';

/** The ZooKeeper release whose behaviour ZooLab follows; tools parse the x.y.z. */
export const ZOOKEEPER_COMPAT_VERSION = '3.8.4';
export const ZOOLAB_VERSION = '0.1.0';
export const VERSION_LINE = `Zookeeper version: ${ZOOKEEPER_COMPAT_VERSION}-zoolab-${ZOOLAB_VERSION}, built on 2026-11-25 00:00 UTC`;
export const NOT_SERVING = 'This ZooKeeper instance is not currently serving requests';

/** Java's Double.toString for the values latency averages take. */
export function javaDouble(n: number): string {
  if (Number.isInteger(n)) return `${n}.0`;
  if (Math.abs(n) >= 1e-3 && Math.abs(n) < 1e7) return String(n);
  const [mant, exp] = n.toExponential().split('e');
  const m = (mant as string).includes('.') ? (mant as string) : `${mant}.0`;
  return `${m}E${Number(exp)}`;
}

function countersOf(ctx: FourLetterContext, status: ServerStatus): NonNullable<ServerStatus['counters']> {
  if (status.counters) return status.counters;
  const s = ctx.stats;
  return {
    packetsReceived: s.packetsReceived,
    packetsSent: s.packetsSent,
    minLatencyMs: s.minLatencyMs,
    avgLatencyMs: s.avgLatencyMs,
    maxLatencyMs: s.maxLatencyMs,
    connections: ctx.connections().length,
  };
}

export function statsLines(ctx: FourLetterContext, status: ServerStatus): string {
  const s = countersOf(ctx, status);
  let out =
    `Latency min/avg/max: ${s.minLatencyMs}/${javaDouble(s.avgLatencyMs)}/${s.maxLatencyMs}\n` +
    `Received: ${s.packetsReceived}\n` +
    `Sent: ${s.packetsSent}\n` +
    `Connections: ${s.connections}\n` +
    `Outstanding: ${status.outstanding}\n` +
    `Zxid: ${hex(status.zxid)}\n` +
    `Mode: ${status.mode}\n` +
    `Node count: ${status.nodeCount}\n`;
  if (status.mode === 'leader') {
    const p = status.proposalSizes ?? { last: -1, min: -1, max: -1 };
    out += `Proposal sizes last/min/max: ${p.last}/${p.min}/${p.max}\n`;
  }
  return out;
}

function serverStateWord(mode: ServerMode | null): string {
  return mode === null ? 'looking' : mode;
}

/** ZooKeeper's FinalRequestProcessor names for `lop=` */
const LAST_OP: Record<string, string> = {
  ping: 'PING', createSession: 'SESS', closeSession: 'CLOS', create: 'CREA', create2: 'CREA', createContainer: 'CREA',
  createTTL: 'CREA', delete: 'DELE', deleteContainer: 'DELE', exists: 'EXIS', getData: 'GETD', setData: 'SETD',
  getACL: 'GETA', setACL: 'SETA', getChildren: 'GETC', getChildren2: 'GETC', sync: 'SYNC', check: 'CHEC',
  multi: 'MULT', multiRead: 'MLTR', setWatches: 'SETW', setWatches2: 'STW2', removeWatches: 'REMW', checkWatches: 'CHKW',
  addWatch: 'ADDW', getEphemerals: 'GETE', getAllChildrenNumber: 'GETACN', whoAmI: 'HOMI', auth: 'AUTH', sasl: 'SASL', reconfig: 'RECO',
};

function consLine(c: CoreConnectionInfo, remote: string): string {
  const lop = c.lastOp === 'NA' ? 'NA' : (LAST_OP[c.lastOp] ?? c.lastOp.toUpperCase().slice(0, 4));
  return (
    ` /${remote}[1](queued=${c.queued},recved=${c.received},sent=${c.sent},sid=${hex(c.sessionId)},lop=${lop},` +
    `est=${c.establishedMs},to=${c.sessionTimeoutMs},lcxid=0x${(c.lastCxid >>> 0).toString(16)},lzxid=${hex(c.lastZxid)},` +
    `lresp=${c.lastResponseMs},llat=${c.lastLatencyMs},minlat=${c.latency.minMs},avglat=${javaDouble(c.latency.avgMs)},maxlat=${c.latency.maxMs})\n`
  );
}

/** listener connection id → ip:port (the core knows the ip only) */
function remotesById(ctx: FourLetterContext): Map<number, string> {
  const m = new Map<number, string>();
  for (const c of ctx.connections()) if (c.id !== undefined) m.set(c.id, c.remote);
  return m;
}

export function consText(ctx: FourLetterContext): string {
  const details = ctx.details?.() ?? null;
  const withSession = details?.connections() ?? [];
  const known = new Set(withSession.map((c) => c.connId));
  const remotes = remotesById(ctx);
  // connections without a session (such as the one asking) first, as ZooKeeper prints them
  let out = '';
  for (const c of ctx.connections()) {
    if (c.id !== undefined && known.has(c.id)) continue;
    out += ` /${c.remote}[0](queued=${c.queued},recved=${c.received},sent=${c.sent})\n`;
  }
  out += withSession.map((c) => consLine(c, remotes.get(c.connId) ?? c.remoteAddress)).join('');
  return `${out}\n`;
}

/** Java's Date.toString, e.g. "Wed Nov 25 08:50:00 UTC 2026" */
export function javaDate(ms: number): string {
  const d = new Date(ms);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${day} ${mon} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** ZooKeeper's ExpiryQueue.dump: expiry times rounded up to the tick, oldest first. */
function expiryQueue(title: string, items: { expiresAtMs: number; text: string }[], tickMs: number): string {
  const buckets = new Map<number, string[]>();
  for (const it of items) {
    const at = Math.ceil(it.expiresAtMs / tickMs) * tickMs;
    const list = buckets.get(at) ?? [];
    list.push(it.text);
    buckets.set(at, list);
  }
  let out = `${title} Sets (${buckets.size})/(${items.length}):\n`;
  for (const at of [...buckets.keys()].sort((a, b) => a - b)) {
    const list = buckets.get(at) as string[];
    out += `${list.length} expire at ${javaDate(at)}:\n${list.map((t) => `\t${t}\n`).join('')}`;
  }
  return out;
}

export function dumpText(ctx: FourLetterContext): string {
  const details = ctx.details?.();
  if (!details) return 'SessionTracker dump:\nSession Sets (0)/(0):\nephemeral nodes dump:\nSessions with Ephemerals (0):\nConnections dump:\n';
  const d = details.dump();
  const tick = details.tickTimeMs;
  let out = 'SessionTracker dump:\n';
  out += expiryQueue('Session', d.sessions.map((s) => ({ expiresAtMs: s.expiresAtMs, text: hex(s.id) })), tick);
  out += 'ephemeral nodes dump:\n';
  const eph = [...d.ephemerals].filter(([, paths]) => paths.length > 0);
  out += `Sessions with Ephemerals (${eph.length}):\n`;
  for (const [sid, paths] of eph) out += `${hex(sid)}:\n${[...paths].sort().map((p) => `\t${p}\n`).join('')}`;
  out += 'Connections dump:\n';
  const byConn = new Map(details.connections().map((c) => [c.connId, c]));
  const remotes = remotesById(ctx);
  const conns = d.sessions
    .filter((s) => s.connId !== null && byConn.has(s.connId))
    .map((s) => ({
      expiresAtMs: s.expiresAtMs,
      text: `ip: /${remotes.get(s.connId as number) ?? byConn.get(s.connId as number)?.remoteAddress} sessionId: ${hex(s.id)}`,
    }));
  out += expiryQueue('Connections', conns, tick);
  return out;
}

export function enviText(): string {
  const mem = process.memoryUsage();
  const rows: [string, string][] = [
    ['zookeeper.version', `${ZOOKEEPER_COMPAT_VERSION}-zoolab-${ZOOLAB_VERSION}, built on 2026-11-25 00:00 UTC`],
    ['host.name', hostname()],
    ['os.name', os.type()],
    ['os.arch', os.arch()],
    ['os.version', os.release()],
    ['user.name', safe(() => os.userInfo().username)],
    ['user.home', os.homedir()],
    ['user.dir', process.cwd()],
    ['os.memory.free', `${Math.round((mem.heapTotal - mem.heapUsed) / 1048576)}MB`],
    ['os.memory.max', `${Math.round(os.totalmem() / 1048576)}MB`],
    ['os.memory.total', `${Math.round(mem.heapTotal / 1048576)}MB`],
  ];
  return `Environment:\n${rows.map(([k, v]) => `${k}=${v}\n`).join('')}`;
}

function safe(f: () => string): string {
  try {
    return f();
  } catch {
    return '?';
  }
}

function fileDescriptors(): { open: number; max: number } {
  let open = -1;
  let max = -1;
  try {
    open = readdirSync('/proc/self/fd').length;
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m) max = Number(m[1]);
  } catch {
    // not Linux
  }
  return { open, max };
}

export function confText(ctx: FourLetterContext): string {
  const { cfg } = ctx;
  const d = ctx.dirSizes();
  const membership = ctx.membership?.() ?? cfg.membership;
  const own = ctx.myid === null ? undefined : (membership.members.get(ctx.myid) ?? cfg.servers.get(ctx.myid));
  const clientPort = cfg.clientPort ?? own?.clientPort ?? -1;
  let out =
    `clientPort=${clientPort}\n` +
    `secureClientPort=-1\n` +
    `dataDir=${cfg.dataDir}/version-2\n` +
    `dataDirSize=${d.dataDirBytes}\n` +
    `dataLogDir=${cfg.dataLogDir}/version-2\n` +
    `dataLogSize=${d.dataLogDirBytes}\n` +
    `tickTime=${cfg.tickTimeMs}\n` +
    `maxClientCnxns=${cfg.maxClientCnxns}\n` +
    `minSessionTimeout=${cfg.minSessionTimeoutMs}\n` +
    `maxSessionTimeout=${cfg.maxSessionTimeoutMs}\n` +
    `clientPortListenBacklog=-1\n` +
    `serverId=${ctx.myid ?? 0}\n`;
  if (cfg.distributed && own) {
    out +=
      `initLimit=${cfg.initLimitTicks}\n` +
      `syncLimit=${cfg.syncLimitTicks}\n` +
      `electionAlg=3\n` +
      `electionPort=${own.electionPort}\n` +
      `quorumPort=${own.quorumPort}\n` +
      `peerType=${own.type === 'observer' ? 1 : 0}\n` +
      `membership: \n` +
      // the active membership, as /zookeeper/config shows it
      `${membership.toText()}\n`;
  }
  return out;
}

export function mntrText(ctx: FourLetterContext, status: ServerStatus): string {
  const s = countersOf(ctx, status);
  const rows: [string, string | number][] = [
    ['version', `${ZOOKEEPER_COMPAT_VERSION}-zoolab-${ZOOLAB_VERSION}, built on 2026-11-25 00:00 UTC`],
    ['avg_latency', javaDouble(s.avgLatencyMs)],
    ['max_latency', s.maxLatencyMs],
    ['min_latency', s.minLatencyMs],
    ['packets_received', s.packetsReceived],
    ['packets_sent', s.packetsSent],
    ['num_alive_connections', s.connections],
    ['outstanding_requests', status.outstanding],
    ['server_state', serverStateWord(status.mode)],
    ['znode_count', status.nodeCount],
    ['watch_count', status.watchCount],
    ['ephemerals_count', status.ephemeralsCount],
    ['approximate_data_size', status.approximateDataSize],
  ];
  const fds = fileDescriptors();
  if (fds.open >= 0) rows.push(['open_file_descriptor_count', fds.open], ['max_file_descriptor_count', fds.max]);
  rows.push(
    ['uptime', Math.max(0, Date.now() - (ctx.startedAtMs ?? Date.now()))],
    ['global_sessions', ctx.details?.()?.globalSessions ?? 0],
    ['local_sessions', 0],
    ['auth_failed_count', 0],
  );
  if (status.mode === 'leader') {
    const p = status.proposalSizes ?? { last: -1, min: -1, max: -1 };
    rows.push(
      ['learners', status.followers ?? 0],
      ['synced_followers', status.syncedFollowers ?? 0],
      ['last_proposal_size', p.last],
      ['max_proposal_size', p.max],
      ['min_proposal_size', p.min],
    );
  }
  return rows.map(([k, v]) => `zk_${k}\t${v}\n`).join('');
}


/**
 * `hash`: the tree digest history, one `<zxid in hex>: <digest as a signed long>` line per
 * entry (DigestCommand). With `zookeeper.digest.enabled` not "true", ZooKeeper keeps the
 * entries but never sums a node in, so every digest reads 0.
 */
export function hashText(log: readonly ZxidDigest[], digestEnabled: boolean): string {
  return log.map((e) => `${e.zxid.toString(16)}: ${digestEnabled ? e.digest : 0n}\n`).join('');
}

/** ZooKeeper's `zookeeper.digest.enabled` (Boolean.parseBoolean, default true). */
export function digestEnabled(sys: ReadonlyMap<string, string>): boolean {
  return (sys.get('zookeeper.digest.enabled') ?? 'true').toLowerCase() === 'true';
}
