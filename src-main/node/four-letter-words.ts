/**
 * Four-letter words in ZooKeeper's exact text formats (§5 of the protocol reference). The
 * answers are built from a snapshot of the server's status and counters, so this file has no
 * socket in it: the listener hands it the word and writes back the text.
 */
import { hex } from '../common/ids';
import type { ZooCfg } from './config';

/** The ZooKeeper release whose behaviour ZooLab follows; tools parse the x.y.z. */
export const ZOOKEEPER_COMPAT_VERSION = '3.8.4';
export const ZOOLAB_VERSION = '0.1.0';
export const VERSION_LINE = `Zookeeper version: ${ZOOKEEPER_COMPAT_VERSION}-zoolab-${ZOOLAB_VERSION}, built on 2026-11-25 00:00 UTC`;
export const NOT_SERVING = 'This ZooKeeper instance is not currently serving requests';

export type ServerMode = 'standalone' | 'leader' | 'follower' | 'observer' | 'read-only';

/** What the request pipeline knows; before it is serving, `mode` is null. */
export interface ServerStatus {
  mode: ServerMode | null;
  zxid: bigint;
  nodeCount: number;
  outstanding: number;
  watchCount: number;
  ephemeralsCount: number;
  approximateDataSize: number;
  /** leader only */
  proposalSizes?: { last: number; min: number; max: number };
  /** leader only */
  followers?: number;
  syncedFollowers?: number;
  /** when the request pipeline counts packets and latency itself, its numbers win */
  counters?: { packetsReceived: number; packetsSent: number; minLatencyMs: number; avgLatencyMs: number; maxLatencyMs: number; connections: number };
}

export interface ConnectionInfo {
  /** e.g. 127.0.0.1:54321 */
  remote: string;
  queued: number;
  received: number;
  sent: number;
}

/** Counters ZooKeeper's ServerStats keeps: packets and request latency. */
export class ServerStats {
  packetsReceived = 0;
  packetsSent = 0;
  private latencyCount = 0;
  private latencyTotalMs = 0;
  private latencyMinMs = Number.MAX_SAFE_INTEGER;
  private latencyMaxMs = 0;

  recordLatency(ms: number): void {
    const v = Math.max(0, Math.round(ms));
    this.latencyCount += 1;
    this.latencyTotalMs += v;
    if (v < this.latencyMinMs) this.latencyMinMs = v;
    if (v > this.latencyMaxMs) this.latencyMaxMs = v;
  }

  get minLatencyMs(): number {
    return this.latencyCount === 0 ? 0 : this.latencyMinMs;
  }
  get maxLatencyMs(): number {
    return this.latencyMaxMs;
  }
  get avgLatencyMs(): number {
    return this.latencyCount === 0 ? 0 : this.latencyTotalMs / this.latencyCount;
  }

  reset(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.latencyCount = 0;
    this.latencyTotalMs = 0;
    this.latencyMinMs = Number.MAX_SAFE_INTEGER;
    this.latencyMaxMs = 0;
  }
}

export interface FourLetterContext {
  cfg: ZooCfg;
  myid: number | null;
  stats: ServerStats;
  status(): ServerStatus;
  connections(): ConnectionInfo[];
  /** crst: reset per-connection counters */
  resetConnectionStats(): void;
  /** srst: reset the request pipeline's own counters too */
  resetServerStats?(): void;
  /** bytes under dataDir / dataLogDir, for conf and dirs */
  dirSizes(): { dataDirBytes: number; dataLogDirBytes: number };
}

/** Java's Double.toString for the values latency averages take. */
export function javaDouble(n: number): string {
  if (Number.isInteger(n)) return `${n}.0`;
  if (Math.abs(n) >= 1e-3 && Math.abs(n) < 1e7) return String(n);
  const [mant, exp] = n.toExponential().split('e');
  const m = (mant as string).includes('.') ? (mant as string) : `${mant}.0`;
  return `${m}E${Number(exp)}`;
}

function isWhitelisted(cfg: ZooCfg, word: string): boolean {
  return cfg.fourLetterWords === '*' || cfg.fourLetterWords.has(word);
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

function statsLines(ctx: FourLetterContext, status: ServerStatus): string {
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

/** The full text answer to a four-letter word (the listener writes it and closes). */
export function answerFourLetterWord(word: string, ctx: FourLetterContext): string {
  if (!isWhitelisted(ctx.cfg, word)) return `${word} is not executed because it is not in the whitelist.\n`;
  const status = ctx.status();
  const serving = status.mode !== null;
  switch (word) {
    case 'ruok':
      return 'imok';
    case 'isro':
      return !serving ? 'null' : status.mode === 'read-only' ? 'ro' : 'rw';
    case 'srvr':
      if (!serving) return `${NOT_SERVING}\n`;
      return `${VERSION_LINE}\n${statsLines(ctx, status)}`;
    case 'stat': {
      if (!serving) return `${NOT_SERVING}\n`;
      const clients = ctx
        .connections()
        .map((c) => ` /${c.remote}[1](queued=${c.queued},recved=${c.received},sent=${c.sent})\n`)
        .join('');
      return `${VERSION_LINE}\nClients:\n${clients}\n${statsLines(ctx, status)}`;
    }
    case 'srst':
      ctx.stats.reset();
      ctx.resetServerStats?.();
      return 'Server stats reset.\n';
    case 'crst':
      ctx.resetConnectionStats();
      return 'Connection stats reset.\n';
    case 'dirs': {
      const d = ctx.dirSizes();
      return `datadir_size: ${d.dataDirBytes}\nlogdir_size: ${d.dataLogDirBytes}\n`;
    }
    case 'conf':
      return confText(ctx);
    case 'mntr':
      if (!serving) return `${NOT_SERVING}\n`;
      return mntrText(ctx, status);
    default:
      return `${word} is not supported by ZooLab yet.\n`;
  }
}

function confText(ctx: FourLetterContext): string {
  const { cfg } = ctx;
  const d = ctx.dirSizes();
  const own = ctx.myid === null ? undefined : cfg.servers.get(ctx.myid);
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
      `membership: \n`;
    for (const s of [...cfg.servers.values()].sort((a, b) => a.id - b.id)) {
      const client = s.clientPort === null ? '' : `;${s.clientHost ?? '0.0.0.0'}:${s.clientPort}`;
      out += `server.${s.id}=${s.host}:${s.quorumPort}:${s.electionPort}:${s.type}${client}\n`;
    }
    out += 'version=0\n';
  }
  return out;
}

function mntrText(ctx: FourLetterContext, status: ServerStatus): string {
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

/** Parsed `srvr` answer, for the supervisor's health polling and for tests. */
export interface SrvrReport {
  serving: boolean;
  version: string | null;
  latency: { min: number; avg: number; max: number } | null;
  received: number | null;
  sent: number | null;
  connections: number | null;
  outstanding: number | null;
  zxid: bigint | null;
  mode: string | null;
  nodeCount: number | null;
}

export function parseSrvr(text: string): SrvrReport {
  const report: SrvrReport = {
    serving: !text.startsWith(NOT_SERVING),
    version: null,
    latency: null,
    received: null,
    sent: null,
    connections: null,
    outstanding: null,
    zxid: null,
    mode: null,
    nodeCount: null,
  };
  for (const line of text.split('\n')) {
    const colon = line.indexOf(': ');
    if (colon === -1) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 2).trim();
    switch (key) {
      case 'Zookeeper version':
        report.version = value;
        break;
      case 'Latency min/avg/max': {
        const [a, b, c] = value.split('/').map(Number);
        report.latency = { min: a ?? 0, avg: b ?? 0, max: c ?? 0 };
        break;
      }
      case 'Received':
        report.received = Number(value);
        break;
      case 'Sent':
        report.sent = Number(value);
        break;
      case 'Connections':
        report.connections = Number(value);
        break;
      case 'Outstanding':
        report.outstanding = Number(value);
        break;
      case 'Zxid':
        if (/^0x[0-9a-fA-F]{1,16}$/.test(value)) report.zxid = BigInt(value);
        break;
      case 'Mode':
        report.mode = value;
        break;
      case 'Node count':
        report.nodeCount = Number(value);
        break;
    }
  }
  return report;
}
