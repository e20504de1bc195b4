/** Quorum port links: learner parking and step-mode holding (see peer-network.ts). */
import net from 'node:net';
import type { Sid } from '../zab/quorum';
import type { ZabMessage } from '../zab/types';
import { decodeZabMessage, encodeZabMessage, FrameSplitter, quorumFrameBytesMax } from '../zab/wire';
import type { FaultTable } from './link-faults';
import { DelayedWriter, framesOf, listenOn } from './link-writer';
import type { Link, PeerAddress } from './link-writer';
import type { Logger } from './log';

/** how long a learner's connection may wait for this server to finish electing */
const PARK_MS = 2000;
/** connections parked at once (each peer dials at most one at a time) */
const PARKED_MAX = 64;

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
      const frames = framesOf(split, s, chunk);
      if (frames === null) return;
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
      const frames = framesOf(split, s, chunk);
      if (frames === null) return;
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
