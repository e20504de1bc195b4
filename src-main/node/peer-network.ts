/**
 * The links between the servers of an ensemble, over TCP on 127.0.0.1 (or the hosts of the
 * server.N lines), as ZooKeeper runs them:
 *
 * - election port (QuorumCnxManager): one connection per pair, the one the HIGHER sid dialled.
 *   A lower sid that wants to talk dials, says hello, and is hung up on; the higher side dials
 *   back. Messages may be lost (the election resends).
 * - quorum port: one connection per learner, dialled by the learner when it sends FOLLOWERINFO
 *   or OBSERVERINFO; the leader answers on the connection it accepted.
 *
 * Every link obeys a fault table the supervisor sets (over the server's control channel):
 * a blocked link loses election messages and has no quorum connection (an open one is cut,
 * new ones are refused), and a delayed link holds each message for its delay, in order. The
 * sender applies the delay (once); when the table changes, messages already waiting take the
 * delay now in force, counted from when they were sent: a heal lets them all go at once.
 */
import net from 'node:net';
import type { Notification } from '../zab/election';
import type { Sid } from '../zab/quorum';
import type { ZabMessage } from '../zab/types';
import { JuteWriter } from '../jute/index';
import {
  decodeElectionHello,
  decodeNotification,
  decodeZabMessage,
  electionFrameBytesMax,
  encodeElectionHello,
  encodeNotification,
  encodeZabMessage,
  FrameSplitter,
  quorumFrameBytesMax,
  writeZabFrame,
} from '../zab/wire';
import type { Logger } from './log';

export interface PeerAddress {
  sid: Sid;
  host: string;
  quorumPort: number;
  electionPort: number;
}

/** One rule: messages from `from` to `to` ('*' = any server) are dropped, or delayed. */
export interface LinkRule {
  from: Sid | '*';
  to: Sid | '*';
  drop?: boolean;
  delayMs?: number;
}

export class FaultTable {
  private rules: LinkRule[] = [];
  private readonly listeners = new Set<() => void>();

  set(rules: readonly LinkRule[]): void {
    this.rules = rules.slice(0, 1000).map((r) => ({ ...r }));
    for (const l of [...this.listeners]) l();
  }

  /** Called after every set(); returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get all(): readonly LinkRule[] {
    return this.rules;
  }

  private matching(from: Sid, to: Sid): LinkRule[] {
    return this.rules.filter((r) => (r.from === '*' || r.from === from) && (r.to === '*' || r.to === to));
  }

  blocked(from: Sid, to: Sid): boolean {
    // asked for every message sent: no rules (the usual case) costs no array
    if (this.rules.length === 0) return false;
    return this.matching(from, to).some((r) => r.drop === true);
  }

  /** a link is cut for TCP purposes when either direction is blocked */
  cut(a: Sid, b: Sid): boolean {
    return this.blocked(a, b) || this.blocked(b, a);
  }

  delayMs(from: Sid, to: Sid): number {
    if (this.rules.length === 0) return 0;
    return this.matching(from, to).reduce((m, r) => Math.max(m, r.delayMs ?? 0), 0);
  }
}

/** an election link that closed is redialled (to learn whether the peer is gone) at most this often */
const PROBE_INTERVAL_MS = 100;
/** how long a learner's connection may wait for this server to finish electing */
const PARK_MS = 2000;
/** connections parked at once (each peer dials at most one at a time) */
const PARKED_MAX = 64;

/** a frame at least this big is written on its own (a SNAP), not copied into a batch */
const BATCH_FRAME_BYTES_MAX = 64 * 1024;
/** a batch is written as soon as it holds this much */
const BATCH_BYTES_MAX = 1024 * 1024;
/** a turn's batch starts with room for what the last one held, within these bounds */
const BATCH_INITIAL_BYTES_MIN = 4 * 1024;
const BATCH_INITIAL_BYTES_MAX = 256 * 1024;

/**
 * Writes frames to a socket in order, each after the link's delay. A waiting frame is due at
 * (sent + the delay in force), never before the frame ahead of it; a fault-table change
 * re-times the waiting ones, so healing a delayed link sends them at once.
 *
 * Frames due now wait for the end of this event-loop turn (setImmediate) and go out together in
 * one write: a burst of PROPOSALs, COMMITs or ACKs is one system call instead of one each (a
 * leader under load spent a third of its CPU in per-frame socket writes). Nothing is sent
 * earlier than before, only together, so ZAB's ordering (an ACK only after its fsync) holds.
 * A quorum message due now is encoded straight into that turn's buffer (writeZab): no buffer
 * per frame, no copy to join them.
 */
export class DelayedWriter {
  private readonly waiting: { frame: Uint8Array; sentAtMs: number; dueAtMs: number }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  /** this turn's frames, back to back (null: none yet) */
  private batch: JuteWriter | null = null;
  private batchInitialBytes = BATCH_INITIAL_BYTES_MIN;
  private flushScheduled = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly faults: FaultTable,
    private readonly from: Sid,
    private readonly to: Sid,
  ) {}

  write(frame: Uint8Array, delayMs: number): void {
    if (this.socket.destroyed) return;
    if (delayMs <= 0 && this.waiting.length === 0) {
      if (frame.length >= BATCH_FRAME_BYTES_MAX) {
        this.flush();
        this.socket.write(frame);
        return;
      }
      this.turnBatch().raw(frame);
      this.appended();
      return;
    }
    this.delay(frame, delayMs);
  }

  /** A quorum message: encoded into this turn's batch when it is due now, else as write(). */
  writeZab(msg: ZabMessage, delayMs: number): void {
    if (this.socket.destroyed) return;
    if (delayMs > 0 || this.waiting.length > 0 || msg.type === 'SNAP') {
      this.write(encodeZabMessage(msg), delayMs);
      return;
    }
    writeZabFrame(this.turnBatch(), msg);
    this.appended();
  }

  private turnBatch(): JuteWriter {
    return (this.batch ??= new JuteWriter(this.batchInitialBytes));
  }

  private appended(): void {
    if ((this.batch as JuteWriter).length >= BATCH_BYTES_MAX) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushLater);
    }
  }

  private delay(frame: Uint8Array, delayMs: number): void {
    const now = Date.now();
    // a delayed frame: whatever waits for the end of this turn goes first
    this.flush();
    const ahead = this.waiting[this.waiting.length - 1]?.dueAtMs ?? 0;
    this.waiting.push({ frame, sentAtMs: now, dueAtMs: Math.max(now + delayMs, ahead) });
    // listen to the table only while something waits: idle links hold no subscription
    this.unsubscribe ??= this.faults.onChange(() => this.retime());
    this.schedule();
  }

  private retime(): void {
    const delayMs = this.faults.delayMs(this.from, this.to);
    let ahead = 0;
    for (const w of this.waiting) {
      w.dueAtMs = Math.max(w.sentAtMs + delayMs, ahead);
      ahead = w.dueAtMs;
    }
    this.schedule();
  }

  /** Writes what is due, then waits for the next one. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = Date.now();
    while (this.waiting.length > 0 && (this.waiting[0]?.dueAtMs ?? 0) <= now) {
      const w = this.waiting.shift()!;
      if (!this.socket.destroyed) this.socket.write(w.frame);
    }
    const next = this.waiting[0];
    if (next === undefined) {
      this.unsubscribe?.();
      this.unsubscribe = null;
      return;
    }
    this.timer = setTimeout(() => this.schedule(), next.dueAtMs - now);
  }

  private readonly flushLater = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /** write what this turn queued, now, in one write */
  flush(): void {
    const batch = this.batch;
    if (batch === null || batch.length === 0) return;
    this.batch = null;
    this.batchInitialBytes = Math.min(BATCH_INITIAL_BYTES_MAX, Math.max(BATCH_INITIAL_BYTES_MIN, batch.length));
    if (this.socket.destroyed) return;
    // the writer is dropped: its buffer goes to the socket as it is (the next turn gets a new one)
    this.socket.write(batch.take());
  }

  /** before the socket is closed: what this turn queued still goes out (as it did when each
   * frame was written at once: a leader's last COMMITANDACTIVATE before it hands over, say);
   * delayed frames are dropped */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.waiting.length = 0;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.flush();
  }
}

interface Link {
  socket: net.Socket;
  writer: DelayedWriter;
}

function listenOn(host: string, port: number, onSocket: (s: net.Socket) => void, what: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ noDelay: true }, onSocket);
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(new Error(e.code === 'EADDRINUSE' ? `${what} ${host}:${port} is already in use by another process` : `${what} ${host}:${port}: ${e.message}`));
    });
    server.listen({ host, port, exclusive: true }, () => {
      server.removeAllListeners('error');
      server.on('error', () => {});
      resolve(server);
    });
  });
}

export interface ElectionNetworkOptions {
  myid: Sid;
  self: PeerAddress;
  peers: ReadonlyMap<Sid, PeerAddress>;
  faults: FaultTable;
  log: Logger;
  onMessage(from: Sid, n: Notification): void;
  /** a server outside `peers` said hello (a joiner, with its election address): keep it in
   * `peers` to answer it (ZooKeeper answers non-members' notifications); absent: hang up */
  learnPeer?(sid: Sid, host: string, electionPort: number): boolean;
  /** a dial to `peer`'s election port failed (false: refused, or no answer in time) or a
   * connection with it was made (true); reported on changes */
  onReachability?(peer: Sid, reachable: boolean): void;
}

export class ElectionNetwork {
  private server: net.Server | null = null;
  private readonly links = new Map<Sid, Link>();
  private readonly queued = new Map<Sid, Uint8Array>();
  private readonly dialing = new Set<Sid>();
  private readonly sockets = new Set<net.Socket>();
  private closed = false;
  private readonly reachable = new Map<Sid, boolean>();
  private readonly probedAt = new Map<Sid, number>();

  constructor(private readonly o: ElectionNetworkOptions) {}

  private setReachable(sid: Sid, reachable: boolean): void {
    if (this.closed || this.reachable.get(sid) === reachable) return;
    this.reachable.set(sid, reachable);
    this.o.onReachability?.(sid, reachable);
  }

  async listen(): Promise<void> {
    this.server = await listenOn(this.o.self.host, this.o.self.electionPort, (s) => this.accept(s), 'election port');
  }

  /** Send a notification; lost if the link is blocked or cannot be made (the election resends). */
  send(to: Sid, n: Notification): void {
    if (this.closed || !this.o.peers.has(to) || this.o.faults.blocked(this.o.myid, to)) return;
    const frame = encodeNotification(n);
    const link = this.links.get(to);
    if (link) {
      link.writer.write(frame, this.o.faults.delayMs(this.o.myid, to));
      return;
    }
    // keep the newest notification for this peer until a link exists
    this.queued.set(to, frame);
    this.dial(to);
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => {});
    s.setNoDelay(true);
  }

  private dial(to: Sid): void {
    if (this.dialing.has(to)) return;
    const peer = this.o.peers.get(to);
    if (!peer) return;
    this.dialing.add(to);
    const s = net.connect({ host: peer.host, port: peer.electionPort });
    this.track(s);
    s.setTimeout(5000, () => s.destroy());
    let connected = false;
    s.once('connect', () => {
      connected = true;
      s.setTimeout(0);
      this.setReachable(to, true);
      s.write(encodeElectionHello({ sid: this.o.myid, address: `${this.o.self.host}:${this.o.self.electionPort}` }));
      if (this.o.myid > to) this.adopt(to, s);
      // a lower sid's connection is closed by the peer, which dials back
    });
    s.once('close', () => {
      this.dialing.delete(to);
      // refused (on one host: nothing listens there, the server is down) or timed out
      if (!connected) this.setReachable(to, false);
    });
  }

  private accept(s: net.Socket): void {
    this.track(s);
    if (this.closed) {
      s.destroy();
      return;
    }
    const split = new FrameSplitter(electionFrameBytesMax);
    let peer: Sid | null = null;
    s.setTimeout(5000, () => s.destroy());
    s.on('data', (chunk: Buffer) => {
      let frames: Uint8Array[];
      try {
        frames = split.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch {
        s.destroy();
        return;
      }
      for (let i = 0; i < frames.length; i += 1) {
        const f = frames[i] as Uint8Array;
        if (peer === null) {
          try {
            peer = decodeElectionHello(f).sid;
          } catch {
            s.destroy();
            return;
          }
          s.setTimeout(0);
          if (!this.o.peers.has(peer) && !this.learn(peer, f)) {
            s.destroy();
            return;
          }
          if (peer < this.o.myid) {
            // only the higher sid's connection is kept: hang up and dial back
            s.destroy();
            this.dial(peer);
            return;
          }
          this.adopt(peer, s, split, frames.slice(i + 1));
          return;
        }
      }
    });
  }

  private learn(sid: Sid, hello: Uint8Array): boolean {
    if (this.o.learnPeer === undefined) return false;
    let address: string;
    try {
      address = decodeElectionHello(hello).address;
    } catch {
      return false;
    }
    const colon = address.lastIndexOf(':');
    const port = Number(address.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) return false;
    return this.o.learnPeer(sid, address.slice(0, colon).replace(/^\[|\]$/g, ''), port);
  }

  /** Make `s` the link to `sid`: read notifications from it, flush what waits for it. */
  private adopt(sid: Sid, s: net.Socket, split = new FrameSplitter(electionFrameBytesMax), pending: Uint8Array[] = []): void {
    const old = this.links.get(sid);
    if (old && old.socket !== s) {
      old.writer.stop();
      old.socket.destroy();
    }
    const link: Link = { socket: s, writer: new DelayedWriter(s, this.o.faults, this.o.myid, sid) };
    this.links.set(sid, link);
    this.setReachable(sid, true);
    const deliver = (frames: Uint8Array[]): void => {
      for (const f of frames) {
        if (this.o.faults.blocked(sid, this.o.myid)) continue;
        let n: Notification;
        try {
          n = decodeNotification(f);
        } catch {
          s.destroy();
          return;
        }
        // a delay is the sender's to apply (DelayedWriter)
        this.o.onMessage(sid, n);
      }
    };
    s.removeAllListeners('data');
    s.on('data', (chunk: Buffer) => {
      let frames: Uint8Array[];
      try {
        frames = split.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch {
        s.destroy();
        return;
      }
      deliver(frames);
    });
    s.once('close', () => {
      link.writer.stop();
      if (this.links.get(sid) !== link) return;
      this.links.delete(sid);
      // the peer hung up or died (kill -9 closes its sockets at once): a dial tells which, so a
      // LOOKING election does not wait finalizeWait for a server that is gone. At most every
      // PROBE_INTERVAL_MS per peer, so a peer that keeps hanging up is not dialled in a loop.
      const now = Date.now();
      if (!this.closed && now - (this.probedAt.get(sid) ?? 0) >= PROBE_INTERVAL_MS) {
        this.probedAt.set(sid, now);
        this.dial(sid);
      }
    });
    const q = this.queued.get(sid);
    if (q) {
      this.queued.delete(sid);
      link.writer.write(q, this.o.faults.delayMs(this.o.myid, sid));
    }
    if (pending.length > 0) deliver(pending);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

/**
 * What step mode holds: the messages of a write's path (forward, proposal, ack, commit, inform)
 * on links past their learner's sync. Elections, pings, session checks (REVALIDATE) and a
 * learner's sync (its DIFF's proposals and its NEWLEADER ack included) go through, so the
 * ensemble stays whole and clients can still connect while a write is being stepped; they wait
 * only behind something already held on the same link, which keeps each link in order.
 */
const STEPPED_TYPES: ReadonlySet<ZabMessage['type']> = new Set(['REQUEST', 'PROPOSAL', 'ACK', 'COMMIT', 'INFORM', 'COMMITANDACTIVATE', 'INFORMANDACTIVATE']);

/** A quorum message held in step mode, as reported to the supervisor. */
export interface HeldMessage {
  /** unique within this server process */
  id: number;
  from: Sid;
  to: Sid;
  type: ZabMessage['type'];
  /** hex, when the message carries a zxid */
  zxid?: string;
  heldAtMs: number;
}

export interface QuorumNetworkOptions {
  myid: Sid;
  self: PeerAddress;
  peers: ReadonlyMap<Sid, PeerAddress>;
  faults: FaultTable;
  log: Logger;
  onMessage(from: Sid, msg: ZabMessage): void;
  onDisconnected(peer: Sid): void;
  /** step mode: a message was held (report it to the supervisor) */
  onHeld?(m: HeldMessage): void;
}

interface QuorumLink extends Link {
  peer: Sid;
  /** replaced by a newer connection: its close is not reported */
  superseded: boolean;
  /** past the learner's sync (UPTODATE sent / received): step mode holds its write messages */
  broadcasting: boolean;
}

export class QuorumNetwork {
  private server: net.Server | null = null;
  /** leader: connections accepted from learners */
  private readonly accepted = new Map<Sid, QuorumLink>();
  /** learner: the connection it dialled to its leader */
  private outgoing: QuorumLink | null = null;
  private readonly sockets = new Set<net.Socket>();
  /** learners are taken only while leading; while this server is still electing, one that
   * dials (it decided a moment sooner that we lead) waits here instead of being refused and
   * redialling; refused otherwise */
  private acceptMode: 'accept' | 'park' | 'refuse' = 'refuse';
  private readonly parked = new Map<net.Socket, { chunks: Buffer[]; timer: NodeJS.Timeout }>();
  private closed = false;
  /** step mode: quorum messages (except PING) wait here until released, in order */
  private holding = false;
  private readonly held: { m: HeldMessage; link: QuorumLink; frame: Uint8Array }[] = [];
  private nextHeldId = 1;

  constructor(private readonly o: QuorumNetworkOptions) {}

  /**
   * Step mode on: a write's messages (STEPPED_TYPES) are held until `release` names it, and
   * anything behind them on the same link. Off: everything held goes out, in order.
   */
  setHolding(on: boolean): void {
    this.holding = on;
    if (!on) this.release(this.held.map((h) => h.m.id));
  }

  /** Send the named held messages (in the order they were held; per-link order is kept). */
  release(ids: readonly number[]): void {
    const want = new Set(ids);
    for (let i = 0; i < this.held.length; ) {
      const h = this.held[i] as (typeof this.held)[number];
      if (!want.has(h.m.id)) {
        i += 1;
        continue;
      }
      this.held.splice(i, 1);
      // a message for a link that is gone is lost, as it would be on the wire
      if (!h.link.superseded && !h.link.socket.destroyed) h.link.writer.write(h.frame, this.o.faults.delayMs(this.o.myid, h.m.to));
    }
  }

  heldMessages(): HeldMessage[] {
    return this.held.map((h) => h.m);
  }

  async listen(): Promise<void> {
    this.server = await listenOn(this.o.self.host, this.o.self.quorumPort, (s) => this.accept(s), 'quorum port');
  }

  /** parked connections that have sent something (tests) */
  parkedWithData(): number {
    let n = 0;
    for (const p of this.parked.values()) if (p.chunks.length > 0) n += 1;
    return n;
  }

  /** 'accept' while leading, 'park' while electing, 'refuse' while following / observing.
   * Parked connections are taken or closed as the mode changes (or after PARK_MS). */
  setAccepting(mode: 'accept' | 'park' | 'refuse'): void {
    this.acceptMode = mode;
    if (mode === 'park') return;
    const parked = [...this.parked];
    this.parked.clear();
    for (const [s, p] of parked) {
      clearTimeout(p.timer);
      s.removeAllListeners('data');
      if (mode === 'accept' && !s.destroyed) this.takeLearner(s, p.chunks);
      else s.destroy();
    }
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => {});
    s.setNoDelay(true);
  }

  send(to: Sid, msg: ZabMessage): void {
    if (this.closed) return;
    if (msg.type === 'FOLLOWERINFO' || msg.type === 'OBSERVERINFO') {
      this.dialLeader(to, msg);
      return;
    }
    const link = this.outgoing?.peer === to ? this.outgoing : this.accepted.get(to);
    if (!link || link.superseded) return;
    // a held link keeps its order: once something waits, later messages (PINGs too) wait behind it
    const stepped = link.broadcasting && STEPPED_TYPES.has(msg.type);
    if (msg.type === 'UPTODATE') link.broadcasting = true;
    if (this.holding && (stepped || this.held.some((h) => h.link === link))) {
      const zxid = 'zxid' in msg ? msg.zxid : 'txn' in msg ? msg.txn.zxid : undefined;
      const m: HeldMessage = { id: this.nextHeldId++, from: this.o.myid, to, type: msg.type, heldAtMs: Date.now(), ...(zxid !== undefined ? { zxid: `0x${BigInt.asUintN(64, zxid).toString(16)}` } : {}) };
      this.held.push({ m, link, frame: encodeZabMessage(msg) });
      if (this.held.length > 100_000) this.held.shift();
      this.o.onHeld?.(m);
      return;
    }
    // encoded straight into the link's batch for this turn (the leader writes each PROPOSAL once
    // per learner: a copy of its bytes, cheaper than a frame of its own plus a join)
    link.writer.writeZab(msg, this.o.faults.delayMs(this.o.myid, to));
  }

  /** Close the connection to `peer`; nothing is reported back. */
  disconnect(peer: Sid): void {
    const links = [this.accepted.get(peer), this.outgoing?.peer === peer ? this.outgoing : undefined];
    for (const l of links) {
      if (!l) continue;
      l.superseded = true;
      l.writer.stop();
      l.socket.destroy();
    }
    this.accepted.delete(peer);
    if (this.outgoing?.peer === peer) this.outgoing = null;
  }

  /** Drop every quorum connection (role over); nothing is reported. */
  disconnectAll(): void {
    for (const sid of [...this.accepted.keys()]) this.disconnect(sid);
    if (this.outgoing) this.disconnect(this.outgoing.peer);
  }

  /** The fault table changed: cut links that are now blocked (reported as disconnections). */
  applyFaults(): void {
    for (const [sid, l] of this.accepted) if (this.o.faults.cut(this.o.myid, sid)) l.socket.destroy();
    const out = this.outgoing;
    if (out && this.o.faults.cut(this.o.myid, out.peer)) out.socket.destroy();
  }

  private reader(link: QuorumLink, split: FrameSplitter, first?: Uint8Array[]): void {
    const s = link.socket;
    const handle = (frames: Uint8Array[]): boolean => {
      for (const f of frames) {
        if (link.superseded) return false;
        let msg: ZabMessage;
        try {
          msg = decodeZabMessage(f);
        } catch (e) {
          this.o.log.warn(`quorum link with server ${link.peer}: ${(e as Error).message}; closing it`);
          s.destroy();
          return false;
        }
        if (msg.type === 'UPTODATE') link.broadcasting = true;
        // a delay is the sender's to apply (DelayedWriter)
        this.o.onMessage(link.peer, msg);
      }
      return true;
    };
    if (first && !handle(first)) return;
    s.removeAllListeners('data');
    s.on('data', (chunk: Buffer) => {
      let frames: Uint8Array[];
      try {
        frames = split.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch {
        s.destroy();
        return;
      }
      handle(frames);
    });
  }

  private dialLeader(leader: Sid, hello: ZabMessage): void {
    if (this.outgoing) this.disconnect(this.outgoing.peer);
    const peer = this.o.peers.get(leader);
    if (!peer || this.o.faults.cut(this.o.myid, leader)) {
      queueMicrotask(() => this.o.onDisconnected(leader));
      return;
    }
    const s = net.connect({ host: peer.host, port: peer.quorumPort });
    this.track(s);
    const link: QuorumLink = { socket: s, writer: new DelayedWriter(s, this.o.faults, this.o.myid, leader), peer: leader, superseded: false, broadcasting: false };
    this.outgoing = link;
    s.setTimeout(5000, () => s.destroy());
    s.once('connect', () => {
      s.setTimeout(0);
      link.writer.writeZab(hello, this.o.faults.delayMs(this.o.myid, leader));
    });
    this.reader(link, new FrameSplitter(quorumFrameBytesMax));
    s.once('close', () => {
      link.writer.stop();
      if (this.outgoing === link) this.outgoing = null;
      if (!link.superseded && !this.closed) {
        link.superseded = true;
        this.o.onDisconnected(leader);
      }
    });
  }

  private accept(s: net.Socket): void {
    this.track(s);
    if (this.closed || this.acceptMode === 'refuse' || (this.acceptMode === 'park' && this.parked.size >= PARKED_MAX)) {
      s.destroy();
      return;
    }
    if (this.acceptMode === 'park') {
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        this.parked.delete(s);
        s.destroy();
      }, PARK_MS);
      this.parked.set(s, { chunks, timer });
      s.on('data', (c: Buffer) => {
        if (chunks.length < 16) chunks.push(c);
        else s.destroy();
      });
      s.once('close', () => {
        const p = this.parked.get(s);
        if (p) clearTimeout(p.timer);
        this.parked.delete(s);
      });
      return;
    }
    this.takeLearner(s, []);
  }

  /** a learner's connection: its first frame must be FOLLOWERINFO / OBSERVERINFO */
  private takeLearner(s: net.Socket, buffered: readonly Buffer[]): void {
    const split = new FrameSplitter(quorumFrameBytesMax);
    s.setTimeout(10_000, () => s.destroy());
    const onFirst = (chunk: Buffer): void => {
      let frames: Uint8Array[];
      try {
        frames = split.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch {
        s.destroy();
        return;
      }
      if (frames.length === 0) return;
      s.off('data', onFirst);
      let hello: ZabMessage;
      try {
        hello = decodeZabMessage(frames[0] as Uint8Array);
      } catch {
        s.destroy();
        return;
      }
      if ((hello.type !== 'FOLLOWERINFO' && hello.type !== 'OBSERVERINFO') || this.acceptMode !== 'accept') {
        // any sid may connect: the ZAB core refuses what it must (a joiner outside the
        // membership syncs as a non-voting learner before the reconfig that adds it)
        s.destroy();
        return;
      }
      const sid = hello.sid;
      if (this.o.faults.cut(this.o.myid, sid)) {
        s.destroy();
        return;
      }
      s.setTimeout(0);
      const old = this.accepted.get(sid);
      if (old) {
        old.superseded = true;
        old.writer.stop();
        old.socket.destroy();
      }
      const link: QuorumLink = { socket: s, writer: new DelayedWriter(s, this.o.faults, this.o.myid, sid), peer: sid, superseded: false, broadcasting: false };
      this.accepted.set(sid, link);
      s.once('close', () => {
        link.writer.stop();
        if (this.accepted.get(sid) === link) this.accepted.delete(sid);
        if (!link.superseded && !this.closed) {
          link.superseded = true;
          this.o.onDisconnected(sid);
        }
      });
      // a new connection from S: ZAB hears that the old one is gone before S's first message
      this.o.onDisconnected(sid);
      this.reader(link, split, frames);
    };
    s.on('data', onFirst);
    // what arrived while parked, to whichever reader is installed by then
    for (const c of buffered) if (!s.destroyed) s.emit('data', c);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}
