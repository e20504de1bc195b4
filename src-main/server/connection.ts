/**
 * One client connection as ServerCore keeps it: its handshake state, identity, the queue that
 * keeps replies in request order, and the counters `cons`/`crst` show. Plain data and small
 * helpers over it; what a connection does lives in ServerCore.
 */
import type { SessionId, Zxid } from '../common/ids';
import type { ConnectResponse, Id, Request, RequestHeader } from '../jute/types';
import { OpCode } from '../jute/types';
import { Fifo } from './fifo';
import type { Reply } from './replies';
import type { DigestMd5Server } from './sasl-digest-md5';
import type { ConnectionInfo, LatencyStats } from './types';

export type Item =
  | WriteItem
  | { kind: 'read'; xid: number; op: number; receivedMs: number; request: Request; authIds: readonly Id[] }
  /** confirmed: standalone at once; in an ensemble when ZAB's `synced` says up to which zxid */
  | { kind: 'sync'; xid: number; op: number; receivedMs: number; path: string; waitZxid: Zxid; confirmed: boolean }
  | { kind: 'ready'; xid: number; op: number; receivedMs: number; reply: Reply };

export interface WriteItem {
  kind: 'write';
  xid: number;
  op: number;
  receivedMs: number;
  reply?: Reply;
}

export class Latency {
  min = 0;
  max = 0;
  total = 0;
  count = 0;
  add(ms: number): void {
    if (this.count === 0 || ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
    this.total += ms;
    this.count++;
  }
  snapshot(): LatencyStats {
    return { minMs: this.min, maxMs: this.max, avgMs: this.count === 0 ? 0 : this.total / this.count, count: this.count };
  }
  reset(): void {
    this.min = this.max = this.total = this.count = 0;
  }
}

export interface Conn {
  id: number;
  remoteAddress: string;
  state: 'handshake' | 'open' | 'closed';
  sessionId: SessionId;
  timeoutMs: number;
  /** replaced (never mutated) on auth, so queued reads keep the ids they arrived with */
  authIds: readonly Id[];
  readOnlyRequested: boolean;
  /** the connection's SASL DIGEST-MD5 exchange, once opcode 102 arrived */
  sasl?: DigestMd5Server;
  queue: Fifo<Item>;
  /** requests that arrived before the handshake finished */
  early: { header: RequestHeader; request: Request | null; body: Uint8Array | undefined }[];
  /** a fatal reply is queued: later requests are ignored */
  doomed: boolean;
  /** learner: a resume waits for the leader's answer */
  revalidating: boolean;
  establishedMs: number;
  received: number;
  sent: number;
  lastOp: string;
  lastCxid: number;
  lastZxid: Zxid;
  lastResponseMs: number;
  lastLatencyMs: number;
  latency: Latency;
}

/** A connection in its handshake; `address` is already normalised. */
export function newConn(id: number, address: string, timeoutMs: number, readOnlyRequested: boolean, nowMs: number): Conn {
  return {
    id,
    remoteAddress: address,
    state: 'handshake',
    sessionId: 0n,
    timeoutMs,
    authIds: [{ scheme: 'ip', id: address }],
    readOnlyRequested,
    queue: new Fifo<Item>(),
    early: [],
    doomed: false,
    revalidating: false,
    establishedMs: nowMs,
    received: 0,
    sent: 0,
    lastOp: 'NA',
    lastCxid: 0,
    lastZxid: 0n,
    lastResponseMs: 0,
    lastLatencyMs: 0,
    latency: new Latency(),
  };
}

const opNames = new Map<number, string>(Object.entries(OpCode).map(([k, v]) => [v as number, k]));
export function opName(op: number): string {
  return opNames.get(op) ?? `op${op}`;
}

/** The ConnectResponse that tells a client its session is gone (or its password wrong). */
export function invalidConnectResponse(conn: Conn): ConnectResponse {
  return {
    protocolVersion: 0,
    timeOut: 0,
    sessionId: 0n,
    passwd: new Uint8Array(16),
    ...(conn.readOnlyRequested ? { readOnly: false } : {}),
  };
}

/** The first unanswered write of a connection, if it has this xid. */
export function pendingWrite(conn: Conn, xid: number): WriteItem | undefined {
  for (const item of conn.queue) {
    if (item.kind === 'write' && item.reply === undefined) return item.xid === xid ? item : undefined;
  }
  return undefined;
}

/** A `cons` row. */
export function connectionInfo(c: Conn): ConnectionInfo {
  return {
    connId: c.id,
    remoteAddress: c.remoteAddress,
    sessionId: c.sessionId,
    queued: c.queue.length,
    received: c.received,
    sent: c.sent,
    lastOp: c.lastOp,
    establishedMs: c.establishedMs,
    sessionTimeoutMs: c.timeoutMs,
    lastCxid: c.lastCxid,
    lastZxid: c.lastZxid,
    lastResponseMs: c.lastResponseMs,
    lastLatencyMs: c.lastLatencyMs,
    latency: c.latency.snapshot(),
  };
}

/** `crst` for one connection. */
export function resetConnStats(c: Conn): void {
  c.latency.reset();
  c.received = c.sent = 0;
  c.lastOp = 'NA';
  c.lastCxid = c.lastLatencyMs = c.lastResponseMs = 0;
  c.lastZxid = 0n;
}
