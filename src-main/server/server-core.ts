/**
 * ServerCore: ZooKeeper's request pipeline as a pure state machine.
 *
 *   request ─► prep (txn, using tree + outstanding changes) ─► effect `log` ─► logged()/committed()
 *           ─► apply to the tree ─► notifications ─► replies (per connection, in request order)
 *
 * Ordering rules the shell can rely on:
 * - effects are produced in the order they must be carried out; for each connection,
 *   `notification`s for a change come before any `reply` that could reveal it;
 * - replies to one connection go out in the order its requests arrived (reads wait behind
 *   earlier writes of the same connection; pings and auth are ordered too);
 * - a `close` effect comes after the replies that precede it.
 */
import { assert } from '../common/assert';
import { ErrorCode } from '../common/error-codes';
import type { SessionId, Zxid } from '../common/ids';
import { hex, makeZxid } from '../common/ids';
import { limits } from '../common/limits';
import type { TraceEvent } from '../common/trace';
import type { ACL, ConnectRequest, Id, Request, RequestHeader, TxnEntry } from '../jute/types';
import { KeeperState, OpCode, Perms } from '../jute/types';
import { checkAcl } from '../tree/acl';
import type { ApplyResult, NodeChange } from '../tree/data-tree';
import { DataTree } from '../tree/data-tree';
import { WatchTable } from '../tree/watch-table';
import { addAuth, saslStep } from './client-auth';
import type { Conn, WriteItem } from './connection';
import { Latency, connectionInfo, opName, pendingWrite, resetConnStats } from './connection';
import { serverStats, watchesByPath, watchesBySession } from './introspection';
import type { Reply } from './replies';
import { executeRead, pathOf, writeReply } from './replies';
import { decodeForwarded, encodeForwarded } from './forwarding';
import { CONFIG_NODE } from './reconfig';
import type { HandshakeHost } from './handshake';
import * as handshake from './handshake';
import type { SessionTracker } from './sessions';
import { SessionTable } from './session-table';
import { Proposer } from './proposer';
import type { ConnectionInfo, ServerCoreOptions, ServerEffect, ServerEnv, ServerStats, SessionDump } from './types';

const DEFAULT_SECRET = new TextEncoder().encode('zoolab-session-secret-v1');

const NO_EFFECTS: readonly ServerEffect[] = Object.freeze([]);

export class ServerCore {
  readonly tree: DataTree;
  readonly watches = new WatchTable();
  private readonly env: ServerEnv;
  private readonly tickMs: number;
  private readonly minTimeoutMs: number;
  private readonly maxTimeoutMs: number;
  private readonly opts: Required<Pick<ServerCoreOptions, 'extendedTypesEnabled' | 'skipAcl' | 'containerCheckIntervalMs' | 'containerMaxPerMinute' | 'containerMaxNeverUsedIntervalMs' | 'commitMode' | 'outstandingPerConnectionMax'>> & {
    superDigest?: string;
    saslUsers?: ReadonlyMap<string, string>;
    saslSuperUser?: string;
    saslAuthProvider: boolean;
    sessionSecret: Uint8Array;
  };
  private readonly role: 'standalone' | 'leader' | 'learner';
  private readonly table: SessionTable;
  /** the table's tracker, held here too: every write's prep asks it */
  private readonly sessions: SessionTracker;
  private readonly conns = new Map<number, Conn>();
  private readonly syncWaiters = new Set<number>();
  private effects: ServerEffect[] = [];
  private readonly writes: Proposer;
  private lastReapMs: number;
  private readonly latency = new Latency();
  /** the handshake's view of this core (handshake.ts), built once */
  private readonly handshake: HandshakeHost;
  /** env.tracing: false skips building the per-request trace events (nobody reads them); the
   * shell may switch it at any time (the supervisor's trace level) */
  tracing: boolean;
  private packetsReceived = 0;
  private packetsSent = 0;

  constructor(env: ServerEnv, options: ServerCoreOptions = {}) {
    assert(Number.isInteger(env.serverId) && env.serverId >= 0 && env.serverId < 255, `server id ${env.serverId} must be 0..254`);
    this.env = env;
    this.tracing = env.tracing ?? true;
    this.tickMs = options.tickTimeMs ?? 3000;
    assert(this.tickMs > 0, 'tickTime must be > 0');
    this.minTimeoutMs = options.minSessionTimeoutMs ?? 2 * this.tickMs;
    this.maxTimeoutMs = options.maxSessionTimeoutMs ?? 20 * this.tickMs;
    this.opts = {
      extendedTypesEnabled: options.extendedTypesEnabled ?? false,
      skipAcl: options.skipAcl ?? false,
      containerCheckIntervalMs: options.containerCheckIntervalMs ?? 60_000,
      containerMaxPerMinute: options.containerMaxPerMinute ?? 10_000,
      containerMaxNeverUsedIntervalMs: options.containerMaxNeverUsedIntervalMs ?? 0,
      commitMode: options.commitMode ?? 'standalone',
      // a hard bound; the shell throttles far earlier (stops reading when backlog() passes
      // limits.outstandingRequestsPerConnectionMax), since one TCP read can carry many requests
      outstandingPerConnectionMax: options.outstandingPerConnectionMax ?? 100 * limits.outstandingRequestsPerConnectionMax,
      sessionSecret: options.sessionSecret ?? DEFAULT_SECRET,
      ...(options.superDigest !== undefined ? { superDigest: options.superDigest } : {}),
      ...(options.saslUsers !== undefined ? { saslUsers: options.saslUsers } : {}),
      ...(options.saslSuperUser !== undefined ? { saslSuperUser: options.saslSuperUser } : {}),
      saslAuthProvider: options.saslAuthProvider ?? false,
    };
    this.tree = options.tree ?? new DataTree();
    this.role = options.role ?? 'standalone';
    let lastProposed = this.tree.lastProcessedZxid;
    if (this.role === 'leader') {
      assert(options.epoch !== undefined && options.epoch > 0, 'a leader needs its epoch');
      const base = makeZxid(options.epoch, 0);
      if (base > lastProposed) lastProposed = base;
    }
    const now = env.clock.nowMs();
    this.table = new SessionTable(this.tree, this.role === 'learner', this.tickMs, env.serverId, now, this.opts.sessionSecret, env.digestSha1);
    this.sessions = this.table.tracker;
    this.writes = new Proposer(this.tree, this.sessions, env, this.opts, this.role, options.reconfig, (e) => this.trace(e), lastProposed);
    this.lastReapMs = now;
    this.handshake = {
      tree: this.tree,
      role: this.role,
      serverId: env.serverId,
      minTimeoutMs: this.minTimeoutMs,
      maxTimeoutMs: this.maxTimeoutMs,
      conns: this.conns,
      table: this.table,
      writes: this.writes,
      now: () => this.now(),
      trace: (e) => this.trace(e),
      push: (e) => this.push(e),
      send: (c, e) => this.send(c, e),
      emit: (entry) => this.emit(entry),
      establish: (c, passwd) => this.establish(c, passwd),
      closeConn: (c, reason) => this.closeConn(c, reason),
    };
  }

  // ================================================================ inputs

  /**
   * A ConnectRequest arrived on a new connection. The answer comes as effects: a
   * `connect-response` (for a new session once its createSession txn is durable), or a `close`.
   */
  openConnection(connId: number, req: ConnectRequest, remoteAddress: string): void {
    assert(!this.conns.has(connId), `connection ${connId} opened twice`);
    this.packetsReceived++;
    handshake.openConnection(this.handshake, connId, req, remoteAddress);
  }

  private connOfSession(sessionId: SessionId): Conn | undefined {
    const id = this.table.boundConn.get(sessionId);
    return id === undefined ? undefined : this.conns.get(id);
  }

  /**
   * A request frame after the handshake. `request` is null when the opcode is unknown (the
   * codec could not decode a body for it): it is answered UNIMPLEMENTED, then the connection
   * closes, after the replies to earlier requests. `body`: the bytes `request` was decoded from
   * (after the header), when the caller has them; a learner forwards them as they are.
   */
  request(connId: number, header: RequestHeader, request: Request | null, body?: Uint8Array): void {
    const conn = this.conns.get(connId);
    if (!conn || conn.state === 'closed' || conn.doomed) return;
    if (conn.state === 'handshake') {
      if (conn.early.length >= this.opts.outstandingPerConnectionMax) this.closeConn(conn, 'too many requests before the handshake finished');
      else conn.early.push({ header, request, body });
      return;
    }
    const now = this.now();
    this.packetsReceived++;
    conn.received++;
    conn.lastOp = opName(header.type);
    if (header.xid >= 0) conn.lastCxid = header.xid;
    this.table.clientActivity(conn.sessionId, conn.timeoutMs, now);
    if (conn.queue.length >= this.opts.outstandingPerConnectionMax) {
      this.closeConn(conn, 'too many outstanding requests');
      return;
    }
    const xid = header.xid;
    const op = header.type;
    const ready = (reply: Reply) => conn.queue.push({ kind: 'ready', xid, op, receivedMs: now, reply });

    if (request === null) {
      if (op === OpCode.createSession) {
        // a createSession inside a session is never legitimate (§9): refuse it
        this.closeConn(conn, 'createSession sent on an established session');
        return;
      }
      conn.doomed = true;
      // upstream answers an unknown opcode with zxid -1 in the header
      ready({ err: ErrorCode.UNIMPLEMENTED, response: null, closeAfter: true, zxid: -1n });
      this.drain(conn);
      return;
    }
    if (request.type !== op) {
      conn.doomed = true;
      ready({ err: ErrorCode.MARSHALLINGERROR, response: null, closeAfter: true });
      this.drain(conn);
      return;
    }

    switch (request.type) {
      case OpCode.ping:
        ready({ err: 0, response: null });
        break;
      case OpCode.auth:
        ready(addAuth(conn, request.req.scheme, request.req.auth, this.env, this.opts));
        break;
      case OpCode.check:
        // top-level check is multi-only (never logged, ZOOKEEPER-2623)
        conn.doomed = true;
        ready({ err: ErrorCode.UNIMPLEMENTED, response: null, closeAfter: true, zxid: -1n });
        break;
      case OpCode.sasl:
        ready(saslStep(conn, request.req.token, this.env, this.opts));
        break;
      case OpCode.multi:
        // a read op inside a write multi fails ZooKeeper's deserialisation: MARSHALLINGERROR for the
        // whole request, no body, no zxid used, the connection stays
        if (request.req.ops.some((o) => o.type === OpCode.getData || o.type === OpCode.getChildren)) {
          ready({ err: ErrorCode.MARSHALLINGERROR, response: null });
        } else {
          this.handleWrite(conn, xid, request, now, body);
        }
        break;
      case OpCode.reconfig:
        // reconfigEnabled=false: refused in prep, so (as upstream) an error txn takes a zxid
        this.handleWrite(conn, xid, request, now, body);
        break;
      case OpCode.sync:
        if (this.role === 'standalone') {
          conn.queue.push({ kind: 'sync', xid, op, receivedMs: now, path: request.req.path, waitZxid: this.writes.lastProposedZxid, confirmed: true });
        } else {
          // §9: ZAB answers once the leader has confirmed a quorum still follows it
          conn.queue.push({ kind: 'sync', xid, op, receivedMs: now, path: request.req.path, waitZxid: 0n, confirmed: false });
          this.push({ kind: 'sync', sessionId: conn.sessionId, cxid: xid });
        }
        break;
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
      case OpCode.delete:
      case OpCode.setData:
      case OpCode.setACL:
      case OpCode.deleteContainer:
      case OpCode.closeSession:
        this.handleWrite(conn, xid, request, now, body);
        break;
      default:
        conn.queue.push({ kind: 'read', xid, op, receivedMs: now, request, authIds: conn.authIds });
    }
    this.drain(conn);
  }

  /** The socket closed (or the shell closed it). The session lives on until it expires. */
  connectionClosed(connId: number): void {
    const conn = this.conns.get(connId);
    if (!conn) return;
    this.dropConn(conn);
  }

  /**
   * Txns up to `zxid` are durable in the local log. Standalone: they are committed and applied.
   * External commit mode: nothing happens here (the quorum protocol calls `committed`).
   */
  logged(zxid: Zxid): void {
    if (this.role === 'standalone' && this.opts.commitMode === 'standalone') this.committed(zxid);
  }

  /** Applies every pending txn with a zxid up to `zxid`, in order, and answers what it can. */
  committed(zxid: Zxid): void {
    const w = this.writes;
    const pending = w.pending;
    let guard = pending.length;
    while (pending.length > 0 && pending.peek()!.entry.header.zxid <= zxid && guard-- > 0) {
      const p = pending.shift()!;
      const r = this.tree.applyTxn(p.entry);
      w.outstanding.committed(p.entry.header.zxid);
      if (w.reconfigPending === p.entry.header.zxid) w.reconfigPending = null;
      if (this.tracing) this.trace({
        kind: 'txn.applied',
        zxid: hex(p.entry.header.zxid),
        session: hex(p.entry.header.clientId),
        op: opName(p.entry.header.type),
        ...(r.path !== undefined ? { path: r.path } : {}),
        detail: { err: r.err },
      });
      this.fireWatches(r.changes, p.entry.header.zxid);
      p.onApplied(r);
      this.drainSyncWaiters();
    }
  }

  /**
   * Time passes: expires sessions (closeSession txns; their connections close) and, every
   * containerCheckIntervalMs, proposes deleteContainer for empty containers and expired TTL nodes.
   */
  tick(nowMs: number = this.now()): void {
    // learners neither expire sessions nor reap: the leader does, through txns
    if (this.role === 'learner') return;
    for (const s of this.sessions.due(nowMs)) {
      this.trace({ kind: 'session.expired', session: hex(s.id), detail: { timeoutMs: s.timeoutMs } });
      const conn = this.connOfSession(s.id);
      if (conn) this.closeConn(conn, `session ${hex(s.id)} expired`);
      this.proposeCloseSession(s.id, 0, null);
    }
    if (nowMs - this.lastReapMs >= this.opts.containerCheckIntervalMs) {
      this.lastReapMs = nowMs;
      const budget = Math.max(1, Math.floor((this.opts.containerMaxPerMinute * this.opts.containerCheckIntervalMs) / 60_000));
      let n = 0;
      for (const path of this.tree.reapCandidates(nowMs, this.opts.containerMaxNeverUsedIntervalMs)) {
        if (n >= budget) break;
        if (this.writes.reapInFlight.has(path)) continue;
        const entry = this.writes.prepReap(path);
        if (entry === null) continue;
        this.emit(entry);
        n++;
      }
    }
  }

  // ================================================================ ensemble inputs (ZAB shell)

  /**
   * Leader: if `zxid` is the next of our own proposals, applies it (from the entry this core
   * prepped: the shell need not decode the txn's bytes again) and answers; else false (someone
   * else's txn: applyCommitted).
   */
  commitOwn(zxid: Zxid): boolean {
    const head = this.writes.pending.peek();
    if (head === undefined || head.entry.header.zxid !== zxid) return false;
    this.committed(zxid);
    return true;
  }

  /**
   * ZAB committed this txn. Leader: it is the next of our own proposals (applied through the
   * pending queue). Learner: the leader's txn; applied here, then the local client whose
   * request it was (same session and xid) is answered, a new session's ConnectResponse sent, a
   * closed or expired session's connection closed.
   */
  applyCommitted(entry: TxnEntry): void {
    const zxid = entry.header.zxid;
    if (this.commitOwn(zxid)) return;
    const head = this.writes.pending.peek();
    // a txn already in the tree (a repeated commit) changes nothing
    if (zxid <= this.tree.lastProcessedZxid) return;
    // someone else's txn (a learner's normal case; a leader's commits of the previous epoch
    // finishing after this core started) must come before our own pending proposals
    if (head !== undefined && head.entry.header.zxid <= zxid) assert(false, `commit of ${hex(zxid)} overtakes pending proposal ${hex(head?.entry.header.zxid ?? 0n)}`);
    const r = this.tree.applyTxn(entry);
    const sessionId = entry.header.clientId;
    if (this.tracing) this.trace({ kind: 'txn.applied', zxid: hex(zxid), session: hex(sessionId), op: opName(entry.header.type), ...(r.path !== undefined ? { path: r.path } : {}), detail: { err: r.err } });
    this.fireWatches(r.changes, zxid);
    const conn = this.connOfSession(sessionId);
    if (entry.txn.type === OpCode.createSession) {
      this.trace({ kind: 'session.created', zxid: hex(zxid), session: hex(sessionId), detail: { timeoutMs: entry.txn.timeOut } });
      if (conn && conn.state === 'handshake' && !conn.revalidating) this.establish(conn, this.password(sessionId));
    } else if (entry.txn.type === OpCode.closeSession) {
      this.trace({ kind: 'session.closed', zxid: hex(zxid), session: hex(sessionId) });
      const item = conn ? pendingWrite(conn, entry.header.cxid) : undefined;
      if (conn && item && item.op === OpCode.closeSession) {
        item.reply = { err: 0, response: { type: 'empty' }, closeAfter: true };
        this.drain(conn);
      } else if (conn) this.closeConn(conn, `session ${hex(sessionId)} closed`);
      this.table.boundConn.delete(sessionId);
    } else if (conn) {
      const item = pendingWrite(conn, entry.header.cxid);
      if (item && r.type === OpCode.error && r.err === ErrorCode.SESSIONMOVED) {
        this.closeConn(conn, `session ${hex(sessionId)} moved to another server`);
      } else if (item) {
        item.reply = this.replyOf(item.op, r);
        this.drain(conn);
      }
    }
    this.drainSyncWaiters();
  }

  /** A write's reply; reconfig answers GetDataResponse{config text, Stat} of /zookeeper/config (FinalRequestProcessor). */
  private replyOf(op: number, r: ApplyResult): Reply {
    if (op !== OpCode.reconfig || r.err !== 0) return writeReply(op, r);
    const node = this.tree.getData(CONFIG_NODE);
    if (node === undefined) return writeReply(op, r);
    return { err: 0, response: { type: OpCode.reconfig, data: node.data, stat: node.stat } };
  }

  /**
   * Leader: a learner forwarded a client's write (ZAB's `request` effect). It is prepped like a
   * local one and proposed; the learner answers its client when the txn commits.
   */
  submitForwarded(sessionId: SessionId, cxid: number, data: Uint8Array, fromSid?: number): void {
    assert(this.role === 'leader', 'only a leader takes forwarded requests');
    const f = decodeForwarded(data);
    const now = this.now();
    if (f.kind === 'createSession') {
      this.sessions.add(sessionId, f.timeoutMs, now);
      if (fromSid !== undefined) this.table.owners.set(sessionId, fromSid);
      const zxid = this.writes.lastProposedZxid + 1n;
      this.emit(this.writes.propose({ clientId: sessionId, cxid: 0, zxid, type: OpCode.createSession }, { type: OpCode.createSession, timeOut: f.timeoutMs }, () => {
        this.trace({ kind: 'session.created', zxid: hex(zxid), session: hex(sessionId), detail: { timeoutMs: f.timeoutMs } });
      }));
      return;
    }
    const owner = this.table.owners.get(sessionId);
    if (fromSid !== undefined && owner !== undefined && owner !== fromSid) {
      // the client has moved to another server since: the old server closes that connection
      // when this error commits (SESSIONMOVED is never put on the wire)
      const zxid = this.writes.lastProposedZxid + 1n;
      this.emit(this.writes.propose({ clientId: sessionId, cxid, zxid, type: OpCode.error }, { type: OpCode.error, err: ErrorCode.SESSIONMOVED }, () => {}));
      return;
    }
    this.sessions.touch(sessionId, now);
    if (f.request.type === OpCode.closeSession) {
      this.proposeCloseSession(sessionId, cxid, null);
      return;
    }
    this.prepAndPropose(sessionId, cxid, f.authIds, f.request, () => {});
  }

  /** Leader: sessions that learners' clients touched (ZAB's `sessionTouches` effect). */
  touchSessions(touches: readonly { sessionId: SessionId; timeoutMs: number }[]): void {
    const now = this.now();
    for (const t of touches) this.table.renew(t.sessionId, t.timeoutMs, now);
  }

  /**
   * Leader: is this session alive (ZAB's `revalidate` effect)? A live one is touched and now
   * belongs to `fromSid`: a connection of ours holding it is closed, and the old owner's
   * forwarded writes for it fail (SESSIONMOVED).
   */
  revalidateSession(sessionId: SessionId, timeoutMs: number, fromSid?: number): boolean {
    return handshake.revalidateSession(this.handshake, sessionId, timeoutMs, fromSid);
  }

  /** Learner: the leader's answer to a `revalidate` effect. */
  revalidated(sessionId: SessionId, valid: boolean): void {
    handshake.revalidated(this.handshake, sessionId, valid);
  }

  /** Leader and learner: ZAB's `synced` effect: reads after this sync must see `zxid`. */
  synced(sessionId: SessionId, cxid: number, zxid: Zxid): void {
    const conn = this.connOfSession(sessionId);
    if (!conn) return;
    for (const item of conn.queue) {
      if (item.kind === 'sync' && !item.confirmed && item.xid === cxid) {
        item.confirmed = true;
        item.waitZxid = zxid;
        break;
      }
    }
    this.drain(conn);
  }

  /** Learner: sessions with client activity since the last call, for ZAB's `touch` input. */
  takeSessionTouches(): { sessionId: SessionId; timeoutMs: number }[] {
    return this.table.takeTouches();
  }

  private drainSyncWaiters(): void {
    if (this.syncWaiters.size === 0) return;
    for (const id of [...this.syncWaiters]) {
      const c = this.conns.get(id);
      if (c) this.drain(c);
      else this.syncWaiters.delete(id);
    }
  }

  /** When `tick` next has something to do (earliest session expiry or reaper run). */
  nextDeadlineMs(): number {
    const reap = this.lastReapMs + this.opts.containerCheckIntervalMs;
    const exp = this.sessions.nextExpiryMs();
    return exp === undefined ? reap : Math.min(exp, reap);
  }

  /** Takes the effects produced so far, in order (none: a shared empty list, no new array per pump round). */
  takeEffects(): readonly ServerEffect[] {
    const out = this.effects;
    if (out.length === 0) return NO_EFFECTS;
    this.effects = [];
    return out;
  }

  // ================================================================ introspection (4lw)

  get lastProcessedZxid(): Zxid {
    return this.tree.lastProcessedZxid;
  }

  /** Highest zxid handed out to a txn (logged or not). */
  get lastProposed(): Zxid {
    return this.writes.lastProposedZxid;
  }

  /**
   * Requests of a connection not answered yet (plus those buffered before its handshake):
   * the shell stops reading the socket while this is high (backpressure, as ZooKeeper's throttle).
   * Beyond outstandingPerConnectionMax the core closes the connection.
   */
  backlog(connId: number): number {
    const c = this.conns.get(connId);
    return c ? c.queue.length + c.early.length : 0;
  }

  /** Txns proposed and not yet applied. */
  get pendingTxnCount(): number {
    return this.writes.pending.length;
  }

  /** The session password for `id` (tests and the ensemble's revalidation). */
  password(id: SessionId): Uint8Array {
    return this.table.password(id);
  }

  stats(): ServerStats {
    return serverStats({
      conns: this.conns,
      tree: this.tree,
      watches: this.watches,
      latency: this.latency,
      packetsReceived: this.packetsReceived,
      packetsSent: this.packetsSent,
      sessionCount: this.role === 'learner' ? this.tree.sessions.size : this.sessions.size,
    });
  }

  /** `srst` */
  resetStats(): void {
    this.latency.reset();
    this.packetsReceived = 0;
    this.packetsSent = 0;
  }

  /** `cons` */
  connections(): ConnectionInfo[] {
    return [...this.conns.values()].filter((c) => c.state !== 'closed').map(connectionInfo);
  }

  /** `crst` */
  resetConnectionStats(): void {
    for (const c of this.conns.values()) resetConnStats(c);
  }

  /** `wchc`: session -> watched paths */
  watchesBySession(): Map<SessionId, string[]> {
    return watchesBySession(this.watches, this.conns);
  }

  /** `wchp`: path -> sessions watching it */
  watchesByPath(): Map<string, SessionId[]> {
    return watchesByPath(this.watches, this.conns);
  }

  /** `wchs` */
  watchSummary(): { connections: number; paths: number; total: number } {
    return { connections: this.watches.watcherCount, paths: this.watches.pathCount, total: this.watches.watchCount };
  }

  /** `dump` */
  dump(): SessionDump {
    return this.table.dump();
  }

  // ================================================================ internals: sessions and connections

  private now(): number {
    return this.env.clock.nowMs();
  }

  /** one object literal of one shape, field by field (a spread built each event slowly, and the
   * supervisor's JSON.stringify of such objects took ~2.5x as long); absent fields stay undefined */
  private trace(e: Omit<TraceEvent, 't' | 'server'>): void {
    this.env.trace.emit({ t: this.now(), kind: e.kind, server: this.env.serverId, epoch: e.epoch, zxid: e.zxid, session: e.session, xid: e.xid, peer: e.peer, op: e.op, path: e.path, detail: e.detail });
  }

  private push(effect: ServerEffect): void {
    if (effect.kind === 'log') {
      const last = this.effects[this.effects.length - 1];
      if (last && last.kind === 'log') {
        last.entries.push(...effect.entries);
        return;
      }
    }
    this.effects.push(effect);
  }

  private send(conn: Conn, effect: ServerEffect): void {
    if (conn.state === 'closed') return;
    this.packetsSent++;
    conn.sent++;
    this.push(effect);
  }

  private establish(conn: Conn, passwd: Uint8Array): void {
    conn.state = 'open';
    this.send(conn, {
      kind: 'connect-response',
      connId: conn.id,
      response: {
        protocolVersion: 0,
        timeOut: conn.timeoutMs,
        sessionId: conn.sessionId,
        passwd,
        ...(conn.readOnlyRequested ? { readOnly: false } : {}),
      },
    });
    const early = conn.early;
    conn.early = [];
    for (const e of early) this.request(conn.id, e.header, e.request, e.body);
  }

  /** Closes a connection: a `close` effect after what was already written to it. */
  private closeConn(conn: Conn, reason: string): void {
    if (conn.state === 'closed') return;
    this.push({ kind: 'close', connId: conn.id, reason });
    this.dropConn(conn);
  }

  private dropConn(conn: Conn): void {
    conn.state = 'closed';
    conn.queue.clear();
    conn.early = [];
    this.watches.removeWatcher(conn.id);
    this.syncWaiters.delete(conn.id);
    this.conns.delete(conn.id);
    if (this.table.boundConn.get(conn.sessionId) === conn.id) this.table.boundConn.delete(conn.sessionId);
  }

  // ================================================================ internals: writes

  /** A proposal goes out: ZAB's `propose` on a leader, else `log` (coalesced by push). */
  private emit(entry: TxnEntry): void {
    this.push(this.role === 'leader' ? { kind: 'propose', entry } : { kind: 'log', entries: [entry] });
  }

  private handleWrite(conn: Conn, xid: number, request: Request, now: number, body: Uint8Array | undefined): void {
    const item: WriteItem = { kind: 'write', xid, op: request.type, receivedMs: now };
    conn.queue.push(item);
    if (this.role === 'learner') {
      // the leader preps it with this connection's identity; applyCommitted answers
      const data = encodeForwarded(body === undefined ? { kind: 'request', request, authIds: conn.authIds } : { kind: 'request', request, authIds: conn.authIds, body });
      this.push({ kind: 'forward', sessionId: conn.sessionId, cxid: xid, data });
      return;
    }
    if (request.type === OpCode.closeSession) {
      this.proposeCloseSession(conn.sessionId, xid, item);
      return;
    }
    this.prepAndPropose(conn.sessionId, xid, conn.authIds, request, (r) => {
      item.reply = this.replyOf(request.type, r);
      const c = this.conns.get(conn.id);
      if (c === conn) this.drain(conn);
    });
  }

  /** prep (always yields a txn: an error txn when a check fails), then log/propose it. */
  private prepAndPropose(sessionId: SessionId, xid: number, authIds: readonly Id[], request: Request, onApplied: (r: ApplyResult) => void): void {
    const entry = this.writes.prepRequest(sessionId, xid, authIds, request, onApplied);
    if (this.tracing) this.trace({ kind: 'request.received', zxid: hex(entry.header.zxid), session: hex(sessionId), xid, op: opName(request.type), ...pathOf(request) });
    // emit(), written out: this is every client write's path
    this.push(this.role === 'leader' ? { kind: 'propose', entry } : { kind: 'log', entries: [entry] });
  }

  /** closeSession from the client (item set) or from expiry: ephemerals go, watches fire. */
  private proposeCloseSession(sessionId: SessionId, xid: number, item: WriteItem | null): void {
    const s = this.sessions.get(sessionId);
    if (s) s.closing = true;
    const zxid = this.writes.lastProposedZxid + 1n;
    const entry = this.writes.prepCloseSession(sessionId, xid, () => {
      this.sessions.remove(sessionId);
      this.table.owners.delete(sessionId);
      this.trace({ kind: 'session.closed', zxid: hex(zxid), session: hex(sessionId) });
      const c = this.connOfSession(sessionId);
      if (item) {
        item.reply = { err: 0, response: { type: 'empty' }, closeAfter: true };
        if (c) this.drain(c);
      } else if (c) this.closeConn(c, `session ${hex(sessionId)} closed`);
      this.table.boundConn.delete(sessionId);
    });
    this.emit(entry);
  }

  // ================================================================ internals: watches and replies

  /** READ on the node for a watcher's connection (one function, not one per applied txn). */
  private readonly canRead = (w: number, acl: readonly ACL[]): boolean => {
    const c = this.conns.get(w);
    return c !== undefined && (this.opts.skipAcl || checkAcl(acl, Perms.READ, c.authIds));
  };

  private fireWatches(changes: readonly NodeChange[], zxid: Zxid): void {
    for (const change of changes) {
      for (const n of this.watches.trigger(change, this.canRead)) {
        const c = this.conns.get(n.watcher);
        if (!c) continue;
        this.send(c, { kind: 'notification', connId: c.id, zxid, event: { type: n.type, state: KeeperState.SyncConnected, path: n.path } });
        if (this.tracing) this.trace({ kind: 'watch.fired', zxid: hex(zxid), session: hex(c.sessionId), path: n.path, detail: { type: n.type } });
      }
    }
  }

  /** Sends every reply at the head of the connection's queue that is ready, in order. */
  private drain(conn: Conn): void {
    while (conn.state === 'open' && conn.queue.length > 0) {
      const head = conn.queue.peek()!;
      let reply: Reply;
      switch (head.kind) {
        case 'write':
          if (!head.reply) return;
          reply = head.reply;
          break;
        case 'sync':
          if (!head.confirmed || this.tree.lastProcessedZxid < head.waitZxid) {
            this.syncWaiters.add(conn.id);
            return;
          }
          reply = { err: 0, response: { type: OpCode.sync, path: head.path } };
          break;
        case 'read':
          reply = executeRead(
            {
              tree: this.tree,
              watches: this.watches,
              watcher: conn.id,
              sessionId: conn.sessionId,
              ids: head.authIds,
              skipAcl: this.opts.skipAcl,
              saslAuthProvider: this.opts.saslAuthProvider,
              notify: (type, path) => this.send(conn, { kind: 'notification', connId: conn.id, zxid: -1n, event: { type, state: KeeperState.SyncConnected, path } }),
            },
            head.request,
          );
          break;
        case 'ready':
          reply = head.reply;
          break;
      }
      conn.queue.shift();
      const now = this.now();
      const zxid = reply.zxid ?? this.tree.lastProcessedZxid;
      const latencyMs = Math.max(0, now - head.receivedMs);
      this.latency.add(latencyMs);
      conn.latency.add(latencyMs);
      conn.lastLatencyMs = latencyMs;
      conn.lastResponseMs = now;
      conn.lastZxid = zxid;
      this.send(conn, { kind: 'reply', connId: conn.id, header: { xid: head.xid, zxid, err: reply.err }, response: reply.err === 0 || reply.bodyOnError ? reply.response : null });
      // the write path groups events by zxid: only a write's reply carries one (its own txn's)
      if (head.kind === 'write') {
        if (this.tracing) this.trace({ kind: 'request.replied', zxid: hex(zxid), session: hex(conn.sessionId), xid: head.xid, op: opName(head.op), detail: { err: reply.err } });
      } else if (head.kind === 'read') {
        if (this.tracing) this.trace({ kind: 'read.local', session: hex(conn.sessionId), xid: head.xid, op: opName(head.op), ...pathOf(head.request), detail: { err: reply.err } });
      }
      if (reply.closeAfter) {
        this.closeConn(conn, reply.err === 0 ? 'session closed by client' : `fatal reply ${reply.err}`);
        return;
      }
    }
    if (conn.queue.length === 0) this.syncWaiters.delete(conn.id);
  }
}
