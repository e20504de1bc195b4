/**
 * The simulated clients: sessions that send "key=value" writes (pipelined) and syncs through a
 * server, reconnect elsewhere on timeouts (taking the session over with REVALIDATE), and are
 * answered in the order they sent. Auto clients act on their own at random intervals.
 * Checked here: a session's writes commit in the order sent and as sent; a read after `sync`
 * sees every write acknowledged before the sync (protocol doc §9).
 */
import { hex, type SessionId, type Zxid } from '../common/ids';
import type { TraceEvent } from '../common/trace';
import { utf8 } from '../jute/buffer';
import type { ZabInput } from '../zab/broadcast';
import type { Sid } from '../zab/quorum';
import type { TxnRecord } from '../zab/types';
import type { AckedWrite, SimCheckers } from './checkers';
import type { SimEvent } from './events';
import type { Prng } from './prng';
import type { SimServer } from './server';

interface ClientRequest {
  readonly kind: 'write' | 'sync';
  readonly xid: number;
  readonly data: string;
  readonly sentAt: number;
  /** sync: the highest zxid acknowledged to any client when the sync was sent */
  readonly floor: Zxid;
  /** done at the server, answer held until the earlier requests of the session are answered */
  done?: { zxid: Zxid; server: Sid };
}

export class SimClient {
  server: Sid | null = null;
  xid = 0;
  readonly pending: ClientRequest[] = [];
  written = 0;
  gen = 0;
  /** bumped on every reconnect: bytes sent on an older connection never reach a server */
  conn = 0;
  /** the connection the session was last taken over on */
  connectedConn = -1;
  constructor(
    readonly id: number,
    readonly sessionId: SessionId,
    readonly auto: boolean,
  ) {}
}

/** what the clients need from the simulation that owns them */
export interface ClientsHost {
  readonly prng: Prng;
  readonly requestTimeoutMs: number;
  readonly checkers: SimCheckers;
  now(): number;
  ids(): Sid[];
  schedule(atMs: number, ev: SimEvent): void;
  server(id: Sid): SimServer;
  zabStep(s: SimServer, input: ZabInput): void;
  /** the leader takes a client's write (ServerCore's prep) */
  prepAndPropose(s: SimServer, from: Sid, sessionId: SessionId, xid: number, data: Uint8Array): void;
  emitTrace(ev: TraceEvent, fromCore: boolean): void;
  fail(message: string): never;
}

export class SimClients {
  readonly list: SimClient[] = [];
  private seq = 0;
  syncsChecked = 0;
  /** every answered sync: the state the read after it would see, and what it had to see */
  readonly syncResults: { client: number; server: Sid; sawZxid: Zxid; floor: Zxid; atMs: number }[] = [];

  constructor(private readonly host: ClientsHost) {}

  /** a client's request reaches server `id` 1 ms later, in the order sent (FIFO through the
   * agenda); while the server is paused it waits in the socket buffer */
  private onServer(id: Sid, fn: () => void): void {
    this.host.schedule(this.host.now() + 1, { k: 'call', fn, on: id });
  }

  private bySession(sessionId: SessionId): SimClient | undefined {
    return this.list.find((x) => x.sessionId === sessionId);
  }

  /** add a client; auto clients keep writing (and sometimes syncing) on their own */
  add(auto: boolean): SimClient {
    const id = ++this.seq;
    const c = new SimClient(id, (0x100n << 32n) | BigInt(id), auto);
    this.list.push(c);
    if (auto) this.host.schedule(this.host.now() + this.host.prng.range(1, 30), { k: 'client', cid: id, gen: c.gen });
    return c;
  }

  /** stop the auto clients (their pending requests stay pending) */
  stop(): void {
    for (const c of this.list) c.gen++;
  }

  /** an auto client's turn: time out, find a serving server, send a write or a sync */
  act(cid: number, gen: number): void {
    const { prng } = this.host;
    const now = this.host.now();
    const c = this.list.find((x) => x.id === cid);
    if (!c || c.gen !== gen) return;
    this.host.schedule(now + prng.range(3, 40), { k: 'client', cid, gen });
    const head = c.pending[0];
    if (head && now - head.sentAt > this.host.requestTimeoutMs) this.lost(c);
    if (c.server === null || !this.host.server(c.server).alive || !this.host.server(c.server).serving) {
      const candidates = this.host.ids().filter((id) => this.host.server(id).alive && this.host.server(id).serving);
      if (candidates.length === 0) return;
      this.lost(c);
      c.server = prng.pick(candidates);
    }
    if (c.pending.length >= 3) return;
    if (prng.chance(0.1)) this.sync(c, c.server);
    else this.write(c, c.server, `k${prng.int(5)}=c${c.id}.${++c.written}`);
  }

  /** reconnect a client to server `id` (outstanding requests become unknown) */
  move(c: SimClient, id: Sid): void {
    this.lost(c);
    c.server = id;
  }

  /** a client's first request on a new connection: the server takes the session over
   * (REVALIDATE through the leader, or directly on the leader) */
  private connectIfNew(c: SimClient, s: SimServer): void {
    if (c.connectedConn === c.conn) return;
    c.connectedConn = c.conn;
    const conn = c.conn;
    this.onServer(s.id, () => {
      if (!s.alive || !s.zab || c.conn !== conn) return;
      if (s.zab.currentRole === 'leading') s.owners.set(c.sessionId, s.id);
      else this.host.zabStep(s, { type: 'revalidate', nowMs: this.host.now(), sessionId: c.sessionId, timeoutMs: 30_000 });
    });
  }

  /** the client gives up on its connection: outstanding requests have unknown outcomes */
  lost(c: SimClient): void {
    c.pending.length = 0;
    c.server = null;
    c.conn++;
  }

  /** server `sid` closes the connection of session `sessionId`, if the client is on it */
  closedBy(sid: Sid, sessionId: SessionId): void {
    const c = this.bySession(sessionId);
    if (c && c.server === sid) this.lost(c);
  }

  /** server `sid` went down or stopped serving: its clients lose their connections */
  serverGone(sid: Sid): void {
    for (const cl of this.list) if (cl.server === sid) this.lost(cl);
  }

  /** Client c talks to `server` from now on (a switch loses what it had outstanding); null if it is not serving. */
  private attach(c: SimClient, server: Sid): SimServer | null {
    const s = this.host.server(server);
    if (!s.alive || !s.serving || !s.zab) return null;
    if (c.server !== server) {
      this.lost(c);
      c.server = server;
    }
    this.connectIfNew(c, s);
    return s;
  }

  /** send a write from client c through server `server`; false if that server is not serving */
  write(c: SimClient, server: Sid, data: string): boolean {
    const s = this.attach(c, server);
    if (s === null) return false;
    const now = this.host.now();
    const xid = ++c.xid;
    c.pending.push({ kind: 'write', xid, data, sentAt: now, floor: 0n });
    this.host.emitTrace({ t: now, kind: 'request.received', server, session: hex(c.sessionId), xid, op: 'setData' }, false);
    const bytes = utf8(data);
    const conn = c.conn;
    this.onServer(server, () => {
      if (!s.alive || !s.serving || !s.zab || c.conn !== conn) return;
      if (s.zab.currentRole === 'leading') this.host.prepAndPropose(s, s.id, c.sessionId, xid, bytes);
      else this.host.zabStep(s, { type: 'forward', nowMs: this.host.now(), sessionId: c.sessionId, xid, data: bytes });
    });
    return true;
  }

  sync(c: SimClient, server: Sid): boolean {
    const s = this.attach(c, server);
    if (s === null) return false;
    const xid = ++c.xid;
    c.pending.push({ kind: 'sync', xid, data: '', sentAt: this.host.now(), floor: this.host.checkers.maxAckedZxid });
    const conn = c.conn;
    this.onServer(server, () => {
      if (!s.alive || !s.serving || !s.zab || c.conn !== conn) return;
      this.host.zabStep(s, { type: 'sync', nowMs: this.host.now(), sessionId: c.sessionId, xid });
    });
    return true;
  }

  /** server s applied `txn`: if it is a write its client sent through s, it is done */
  replyWrite(s: SimServer, txn: TxnRecord): void {
    if (txn.sessionId === 0n) return;
    const c = this.bySession(txn.sessionId);
    if (!c || c.server !== s.id || !s.serving) return;
    const req = c.pending.find((p) => p.xid === txn.xid);
    if (req === undefined) return;
    if (req.kind !== 'write' || req.done) this.host.fail(`client ${c.id}: xid ${txn.xid} committed twice or is not a write`);
    const data = s.kv.history[s.kv.history.length - 1]?.data ?? '';
    if (data !== req.data) this.host.fail(`client ${c.id}: xid ${txn.xid} committed "${data}" but sent "${req.data}"`);
    for (const p of c.pending) {
      if (p === req) break;
      // writes of a session commit in the order sent (syncs may still be waiting)
      if (p.kind === 'write' && !p.done) this.host.fail(`client ${c.id}: xid ${txn.xid} committed before earlier write xid ${p.xid}`);
    }
    req.done = { zxid: txn.zxid, server: s.id };
    this.flushReplies(c);
  }

  /** answer the session's finished requests in the order they were sent (ServerCore's duty) */
  private flushReplies(c: SimClient): void {
    const now = this.host.now();
    while (c.pending.length > 0 && (c.pending[0] as ClientRequest).done !== undefined) {
      const req = c.pending.shift() as ClientRequest;
      const done = req.done as { zxid: Zxid; server: Sid };
      if (req.kind === 'sync') continue;
      this.host.emitTrace({ t: now, kind: 'request.replied', server: done.server, zxid: hex(done.zxid), session: hex(c.sessionId), xid: req.xid }, false);
      const w: AckedWrite = { zxid: done.zxid, data: req.data, client: c.id, server: done.server, atMs: now };
      this.host.checkers.acknowledged(w);
    }
  }

  /** server s answered a sync: the read after it must see every write acked before the sync */
  onSynced(s: SimServer, sessionId: SessionId, xid: number): void {
    const c = this.bySession(sessionId);
    if (!c || c.server !== s.id) return;
    const req = c.pending.find((p) => p.xid === xid);
    if (req === undefined || req.kind !== 'sync' || req.done) return;
    req.done = { zxid: s.kv.lastZxid, server: s.id };
    this.syncsChecked++;
    this.syncResults.push({ client: c.id, server: s.id, sawZxid: s.kv.lastZxid, floor: req.floor, atMs: this.host.now() });
    // ZooLab's promise (protocol doc §9): a read after sync sees every write acked before the sync
    if (s.kv.lastZxid < req.floor) {
      this.host.fail(`server ${s.id}: read after sync sees ${hex(s.kv.lastZxid)} but ${hex(req.floor)} was acknowledged before the sync`);
    }
    this.flushReplies(c);
  }
}
