/**
 * The connection handshake and session resume: a ConnectRequest's answer (a new session, a
 * resumed one, or a refusal), and the leader/learner revalidation of a resumed session.
 * None of this is on the per-write path; `ServerCore` delegates to it through a `HandshakeHost`
 * it builds once.
 */
import type { SessionId } from '../common/ids';
import { hex } from '../common/ids';
import type { TraceEvent } from '../common/trace';
import type { ConnectRequest, TxnEntry } from '../jute/types';
import { OpCode } from '../jute/types';
import { normalizeAddress } from '../tree/acl';
import type { DataTree } from '../tree/data-tree';
import { encodeForwarded } from './forwarding';
import type { Conn } from './connection';
import { invalidConnectResponse, newConn } from './connection';
import type { Proposer } from './proposer';
import type { SessionTable } from './session-table';
import { bytesEqual } from './sessions';
import type { ServerEffect } from './types';

/** What the handshake needs of the core: its state (shared, not copied) and a few of its actions. */
export interface HandshakeHost {
  readonly tree: DataTree;
  readonly role: 'standalone' | 'leader' | 'learner';
  readonly serverId: number;
  readonly minTimeoutMs: number;
  readonly maxTimeoutMs: number;
  readonly conns: Map<number, Conn>;
  readonly table: SessionTable;
  readonly writes: Proposer;
  now(): number;
  trace(e: Omit<TraceEvent, 't' | 'server'>): void;
  push(effect: ServerEffect): void;
  send(conn: Conn, effect: ServerEffect): void;
  /** a proposal goes out (ZAB's `propose` on a leader, else `log`) */
  emit(entry: TxnEntry): void;
  /** the connection is open: answers it, then runs the requests it sent early */
  establish(conn: Conn, passwd: Uint8Array): void;
  closeConn(conn: Conn, reason: string): void;
}

/**
 * A ConnectRequest arrived on a new connection (the core counted the packet). The answer comes
 * as effects: a `connect-response` (for a new session once its createSession txn is durable), or a `close`.
 */
export function openConnection(h: HandshakeHost, connId: number, req: ConnectRequest, remoteAddress: string): void {
  const now = h.now();
  if (req.lastZxidSeen > h.tree.lastProcessedZxid) {
    // the client has seen a newer state than ours: it must try another server
    h.push({ kind: 'close', connId, reason: `client lastZxidSeen ${hex(req.lastZxidSeen)} is ahead of server ${hex(h.tree.lastProcessedZxid)}` });
    return;
  }
  const timeoutMs = Math.min(Math.max(req.timeOut, h.minTimeoutMs), h.maxTimeoutMs);
  const address = normalizeAddress(remoteAddress);
  const conn = newConn(connId, address, timeoutMs, req.readOnly !== undefined, now);
  h.conns.set(connId, conn);

  if (req.sessionId === 0n) {
    const id = h.table.allocate();
    h.table.boundConn.set(id, connId);
    conn.sessionId = id;
    if (h.role === 'learner') {
      // the leader tracks sessions: it logs createSession, then we answer (applyCommitted)
      h.table.touches.set(id, timeoutMs);
      h.push({ kind: 'forward', sessionId: id, cxid: 0, data: encodeForwarded({ kind: 'createSession', timeoutMs }) });
      return;
    }
    h.table.tracker.add(id, timeoutMs, now);
    if (h.role === 'leader') h.table.owners.set(id, h.serverId);
    const zxid = h.writes.lastProposedZxid + 1n;
    h.emit(h.writes.propose({ clientId: id, cxid: 0, zxid, type: OpCode.createSession }, { type: OpCode.createSession, timeOut: timeoutMs }, () => {
      h.trace({ kind: 'session.created', zxid: hex(zxid), session: hex(id), detail: { timeoutMs } });
      if (conn.state !== 'handshake') return;
      h.establish(conn, h.table.password(id));
    }));
    return;
  }

  // resume: check the password before touching anything, so a wrong one cannot evict the owner
  conn.sessionId = req.sessionId;
  const passwordOk = bytesEqual(req.passwd, h.table.password(req.sessionId));
  if (h.role === 'learner' && passwordOk) {
    // only the leader knows whether the session is alive: ask it (revalidated() answers)
    conn.revalidating = true;
    h.push({ kind: 'revalidate', sessionId: req.sessionId, timeoutMs });
    return;
  }
  if (!passwordOk || !h.table.renew(req.sessionId, timeoutMs, now)) {
    refuseResume(h, conn);
    return;
  }
  if (h.role === 'leader') h.table.owners.set(req.sessionId, h.serverId);
  resume(h, conn);
}

function refuseResume(h: HandshakeHost, conn: Conn): void {
  h.send(conn, { kind: 'connect-response', connId: conn.id, response: invalidConnectResponse(conn) });
  h.closeConn(conn, 'session expired or invalid password');
}

/** Binds the session to this connection (closing any other holding it) and answers. */
function resume(h: HandshakeHost, conn: Conn): void {
  const oldId = h.table.boundConn.get(conn.sessionId);
  if (oldId !== undefined && oldId !== conn.id) {
    const old = h.conns.get(oldId);
    if (old) h.closeConn(old, `session ${hex(conn.sessionId)} moved to another connection`);
  }
  h.table.boundConn.set(conn.sessionId, conn.id);
  h.establish(conn, h.table.password(conn.sessionId));
}

/**
 * Leader: is this session alive (ZAB's `revalidate` effect)? A live one is touched and now
 * belongs to `fromSid`: a connection of ours holding it is closed, and the old owner's
 * forwarded writes for it fail (SESSIONMOVED).
 */
export function revalidateSession(h: HandshakeHost, sessionId: SessionId, timeoutMs: number, fromSid?: number): boolean {
  if (!h.table.renew(sessionId, timeoutMs, h.now())) return false;
  if (fromSid !== undefined && fromSid !== h.serverId) {
    h.table.owners.set(sessionId, fromSid);
    const localId = h.table.boundConn.get(sessionId);
    const local = localId === undefined ? undefined : h.conns.get(localId);
    if (local) h.closeConn(local, `session ${hex(sessionId)} moved to server ${fromSid}`);
  }
  return true;
}

/** Learner: the leader's answer to a `revalidate` effect. */
export function revalidated(h: HandshakeHost, sessionId: SessionId, valid: boolean): void {
  for (const conn of [...h.conns.values()]) {
    if (conn.state !== 'handshake' || !conn.revalidating || conn.sessionId !== sessionId) continue;
    conn.revalidating = false;
    if (valid) {
      h.table.touches.set(sessionId, conn.timeoutMs);
      resume(h, conn);
    } else refuseResume(h, conn);
  }
}
