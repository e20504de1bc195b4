/**
 * What the four-letter words show of a ServerCore (stat/srvr/mntr, cons, wchc, wchp),
 * computed on demand from its state; nothing here is on the request path.
 */
import type { SessionId } from '../common/ids';
import type { DataTree } from '../tree/data-tree';
import type { WatchTable } from '../tree/watch-table';
import type { Conn, Latency } from './connection';
import type { ServerStats } from './types';

export interface StatsInputs {
  conns: ReadonlyMap<number, Conn>;
  tree: DataTree;
  watches: WatchTable;
  latency: Latency;
  packetsReceived: number;
  packetsSent: number;
  /** the number of sessions this server knows of */
  sessionCount: number;
}

export function serverStats(s: StatsInputs): ServerStats {
  let outstanding = 0;
  let alive = 0;
  for (const c of s.conns.values()) {
    if (c.state !== 'closed') alive++;
    outstanding += c.queue.length;
  }
  return {
    packetsReceived: s.packetsReceived,
    packetsSent: s.packetsSent,
    latency: s.latency.snapshot(),
    outstandingRequests: outstanding,
    aliveConnections: alive,
    lastProcessedZxid: s.tree.lastProcessedZxid,
    znodeCount: s.tree.nodeCount,
    watchCount: s.watches.watchCount,
    watchedPathCount: s.watches.pathCount,
    ephemeralsCount: s.tree.ephemeralCount,
    approximateDataSize: s.tree.approximateDataSize(),
    sessionCount: s.sessionCount,
  };
}

/** `wchc`: session -> watched paths */
export function watchesBySession(watches: WatchTable, conns: ReadonlyMap<number, Conn>): Map<SessionId, string[]> {
  const out = new Map<SessionId, string[]>();
  for (const [w, paths] of watches.byWatcher()) {
    const c = conns.get(w);
    if (c) out.set(c.sessionId, paths);
  }
  return out;
}

/** `wchp`: path -> sessions watching it */
export function watchesByPath(watches: WatchTable, conns: ReadonlyMap<number, Conn>): Map<string, SessionId[]> {
  const out = new Map<string, SessionId[]>();
  for (const [p, ws] of watches.byPath()) {
    out.set(p, ws.map((w) => conns.get(w)?.sessionId).filter((s): s is SessionId => s !== undefined));
  }
  return out;
}

