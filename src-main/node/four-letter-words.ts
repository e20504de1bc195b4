/**
 * Four-letter words: which word gets which answer (the whitelist, serving or not), and what the
 * server hands over to answer them (a snapshot of its status, counters and details). No socket
 * here: the listener hands over the word and writes back the text. The text formats are
 * four-letter-text.ts; reading `srvr` back is srvr-report.ts.
 */
import { hex } from '../common/ids';
import type { SessionId } from '../common/ids';
import type { ConnectionInfo as CoreConnectionInfo, SessionDump } from '../server/types';
import type { ZxidDigest } from '../tree/tree-digest';
import type { ZooCfg } from './config';
import type { Membership } from '../common/membership';
import {
  confText,
  consText,
  digestEnabled,
  dumpText,
  enviText,
  hashText,
  mntrText,
  NOT_SERVING,
  statsLines,
  VERSION_LINE,
} from './four-letter-text';

export { javaDate, javaDouble, NOT_SERVING, VERSION_LINE, ZOOKEEPER_COMPAT_VERSION, ZOOLAB_VERSION } from './four-letter-text';
export { parseSrvr, type SrvrReport } from './srvr-report';

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

/** What the request pipeline can tell about sessions, connections and watches (cons, wchs, wchc, wchp, dump). */
export interface FourLetterDetails {
  connections(): CoreConnectionInfo[];
  watchSummary(): { connections: number; paths: number; total: number };
  watchesBySession(): Map<SessionId, string[]>;
  watchesByPath(): Map<string, SessionId[]>;
  dump(): SessionDump;
  /** the tree digest history (zxid, digest), for `hash` */
  digestLog(): ZxidDigest[];
  globalSessions: number;
  tickTimeMs: number;
}

export interface ConnectionInfo {
  /** listener connection id (the pipeline's connId) */
  id?: number;
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
  /** the request pipeline's sessions, connections and watches, when it has them */
  details?(): FourLetterDetails | null;
  /** process start (for zk_uptime) */
  startedAtMs?: number;
  /** ZooKeeper's trace mask (gtmk) */
  traceMask?: number;
  /** bytes under dataDir / dataLogDir, for conf and dirs */
  dirSizes(): { dataDirBytes: number; dataLogDirBytes: number };
  /** the active membership (conf's `membership:` part); default the config file's */
  membership?(): Membership | null;
}

function isWhitelisted(cfg: ZooCfg, word: string): boolean {
  return cfg.fourLetterWords === '*' || cfg.fourLetterWords.has(word);
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
    case 'cons':
      return consText(ctx);
    case 'wchs': {
      if (!serving) return `${NOT_SERVING}\n`;
      const w = ctx.details?.()?.watchSummary() ?? { connections: 0, paths: 0, total: 0 };
      return `${w.connections} connections watching ${w.paths} paths\nTotal watches:${w.total}\n`;
    }
    case 'wchc': {
      if (!serving) return `${NOT_SERVING}\n`;
      let out = '';
      for (const [sid, paths] of ctx.details?.()?.watchesBySession() ?? new Map<SessionId, string[]>()) {
        out += `${hex(sid)}\n${[...new Set(paths)].map((p) => `\t${p}\n`).join('')}`;
      }
      return `${out}\n`;
    }
    case 'wchp': {
      if (!serving) return `${NOT_SERVING}\n`;
      let out = '';
      for (const [path, sids] of ctx.details?.()?.watchesByPath() ?? new Map<string, SessionId[]>()) {
        out += `${path}\n${[...new Set(sids)].map((sid) => `\t${hex(sid)}\n`).join('')}`;
      }
      return `${out}\n`;
    }
    case 'dump':
      if (!serving) return `${NOT_SERVING}\n`;
      return dumpText(ctx);
    case 'envi':
      return enviText();
    case 'gtmk':
      return `${ctx.traceMask ?? 306}\n`;
    case 'hash':
      // ZooKeeper prints the not-serving line here without a newline
      if (!serving) return NOT_SERVING;
      return hashText(ctx.details?.()?.digestLog() ?? [], digestEnabled(ctx.cfg.systemProperties));
    default:
      return `${word} is not supported by ZooLab yet.\n`;
  }
}

