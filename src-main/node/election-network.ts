/** Election port links (see peer-network.ts). */
import net from 'node:net';
import type { Notification } from '../zab/election';
import type { Sid } from '../zab/quorum';
import {
  decodeElectionHello,
  decodeNotification,
  electionFrameBytesMax,
  encodeElectionHello,
  encodeNotification,
  FrameSplitter,
} from '../zab/wire';
import type { FaultTable } from './link-faults';
import { DelayedWriter, framesOf, listenOn } from './link-writer';
import type { Link, PeerAddress } from './link-writer';
import type { Logger } from './log';

/** an election link that closed is redialled (to learn whether the peer is gone) at most this often */
const PROBE_INTERVAL_MS = 100;

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
      const frames = framesOf(split, s, chunk);
      if (frames === null) return;
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
      const frames = framesOf(split, s, chunk);
      if (frames === null) return;
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
