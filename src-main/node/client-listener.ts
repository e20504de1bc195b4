/**
 * The client port: a TCP listener whose connections split bytes into jute frames (with the
 * pure FrameDecoder) and hand each frame to a ConnectionHandler — the request pipeline. A
 * fresh connection that opens with a four-letter word gets its text answer and is closed, as
 * ZooKeeper does. Limits: per-IP connection count (maxClientCnxns), a small packet bound and a
 * deadline before the handshake (§9: don't let an unauthenticated peer make us hold 1 MiB).
 */
import net from 'node:net';
import { ZooLabError } from '../common/errors';
import { FrameDecoder } from '../jute/frame-decoder';
import { JuteWriter, writeReplyFrame } from '../jute/index';
import type { ReplyHeader, Response } from '../jute/index';
import type { ConnectionInfo, ServerStats } from './four-letter-words';
import type { Logger } from './log';

export interface ClientConnection {
  readonly id: number;
  /** `ip:port` of the client */
  readonly remote: string;
  /** Write one frame payload; the 4-byte length prefix is added here. */
  sendFrame(payload: Uint8Array): void;
  /** Write a complete frame (length prefix included), as jute's encode*Frame produce them. */
  sendFramed(frame: Uint8Array): void;
  /** Write a reply (as encodeReplyFrame frames it), encoded straight into this turn's batch. */
  sendReply(header: ReplyHeader, response: Response | null): void;
  /** The handshake succeeded: lift the pre-handshake packet bound and deadline. */
  markEstablished(): void;
  /** Backpressure: stop / start reading this client's socket. */
  pauseReading(): void;
  resumeReading(): void;
  /** Close after pending writes are flushed. Idempotent. */
  close(reason: string): void;
  readonly closed: boolean;
}

/** The request pipeline's side of a connection. Called in order, never after closed(). */
export interface ConnectionHandler {
  opened(conn: ClientConnection): void;
  frame(conn: ClientConnection, payload: Uint8Array): void;
  closed(conn: ClientConnection): void;
}

export interface ClientListenerOptions {
  host: string;
  port: number;
  /** jute.maxbuffer */
  packetBytesMax: number;
  /** per client IP; 0 = unlimited */
  maxClientCnxns: number;
  /** bound on a frame before the handshake (a ConnectRequest is under 100 bytes) */
  preHandshakeBytesMax?: number;
  preHandshakeTimeoutMs?: number;
  answerFourLetterWord(word: string): string;
  handler: ConnectionHandler;
  stats: ServerStats;
  log: Logger;
}

/** a frame at least this big is written on its own, not copied into the turn's batch */
const OUT_FRAME_BYTES_MAX = 64 * 1024;
/** a batch is written as soon as it holds this much */
const OUT_BYTES_MAX = 1024 * 1024;
const OUT_INITIAL_BYTES_MIN = 1024;
const OUT_INITIAL_BYTES_MAX = 64 * 1024;

class Connection implements ClientConnection {
  closed = false;
  received = 0;
  sent = 0;
  private established = false;
  /** frames written this turn, back to back, sent together by flush() (null: none yet) */
  private out: JuteWriter | null = null;
  /** a turn's batch starts with room for what the last one held (within bounds) */
  private outInitialBytes = OUT_INITIAL_BYTES_MIN;
  private readonly decoder: FrameDecoder;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: number,
    readonly remote: string,
    private readonly socket: net.Socket,
    private readonly owner: ClientListener,
    private readonly opts: ClientListenerOptions,
  ) {
    this.decoder = new FrameDecoder({
      detectFourLetterWords: true,
      maxPacketBytes: opts.preHandshakeBytesMax ?? 4096,
    });
    this.timer = setTimeout(() => this.close('no handshake before the deadline'), opts.preHandshakeTimeoutMs ?? 10_000);
    this.timer.unref();
  }

  onData(chunk: Buffer): void {
    if (this.closed) return;
    const push = this.decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    for (const frame of push.frames) {
      if (this.closed) return;
      this.received += 1;
      this.opts.stats.packetsReceived += 1;
      this.opts.handler.frame(this, frame);
    }
    if (push.fourLetterWord !== undefined) {
      this.answer(push.fourLetterWord);
      return;
    }
    if (push.error) {
      this.opts.log.warn(`closing connection from ${this.remote}: ${push.error.message}`);
      this.close(push.error.message);
    }
  }

  private answer(word: string): void {
    let text: string;
    try {
      text = this.opts.answerFourLetterWord(word);
    } catch (e) {
      this.opts.log.error(`four-letter word ${word} failed: ${(e as Error).stack ?? String(e)}`);
      text = '';
    }
    this.clearTimer();
    this.closed = true;
    this.socket.end(text);
    this.owner.forget(this);
  }

  sendFrame(payload: Uint8Array): void {
    if (this.closed) return;
    const head = Buffer.allocUnsafe(4);
    head.writeInt32BE(payload.length, 0);
    this.queue(head);
    this.queue(payload);
    this.sent += 1;
    this.opts.stats.packetsSent += 1;
  }

  sendFramed(frame: Uint8Array): void {
    if (this.closed) return;
    this.queue(frame);
    this.sent += 1;
    this.opts.stats.packetsSent += 1;
  }

  sendReply(header: ReplyHeader, response: Response | null): void {
    if (this.closed) return;
    writeReplyFrame(this.turnOut(), header, response);
    this.queued();
    this.sent += 1;
    this.opts.stats.packetsSent += 1;
  }

  /**
   * Frames wait until the current turn of the event loop is done (every reply one batch of
   * requests or one fsync produced) and go out in one socket write: one syscall, one TCP
   * segment where they fit, instead of one per reply.
   */
  private queue(bytes: Uint8Array): void {
    if (bytes.length >= OUT_FRAME_BYTES_MAX) {
      // a big one (a large getData) goes as it is, after what is already queued
      this.flush();
      if (!this.socket.destroyed) this.socket.write(bytes);
      return;
    }
    this.turnOut().raw(bytes);
    this.queued();
  }

  private turnOut(): JuteWriter {
    if (this.out === null) {
      this.out = new JuteWriter(this.outInitialBytes);
      process.nextTick(this.flushNow);
    }
    return this.out;
  }

  private queued(): void {
    if ((this.out as JuteWriter).length >= OUT_BYTES_MAX) this.flush();
  }

  private readonly flushNow = (): void => this.flush();

  private flush(): void {
    const out = this.out;
    if (out === null) return;
    this.out = null;
    if (out.length === 0) return;
    this.outInitialBytes = Math.min(OUT_INITIAL_BYTES_MAX, Math.max(OUT_INITIAL_BYTES_MIN, out.length));
    // the writer is dropped: its buffer goes to the socket as it is
    if (!this.socket.destroyed) this.socket.write(out.take());
  }

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.closed) this.socket.resume();
  }

  markEstablished(): void {
    if (this.established) return;
    this.established = true;
    this.decoder.maxPacketBytes = this.opts.packetBytesMax;
    this.clearTimer();
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    this.opts.log.debug(`closing connection ${this.id} from ${this.remote}: ${reason}`);
    this.flush();
    this.socket.end();
    this.owner.forget(this);
  }

  /** the socket went away (peer closed or error) */
  onGone(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    this.owner.forget(this);
  }

  destroy(): void {
    this.closed = true;
    this.clearTimer();
    this.socket.destroy();
  }

  info(): ConnectionInfo {
    return { id: this.id, remote: this.remote, queued: 0, received: this.received, sent: this.sent };
  }

  resetStats(): void {
    this.received = 0;
    this.sent = 0;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export class ClientListener {
  private server: net.Server | null = null;
  private readonly live = new Map<number, Connection>();
  private readonly perIp = new Map<string, number>();
  private nextId = 1;

  constructor(private readonly opts: ClientListenerOptions) {}

  /** Bind; a port in use is ZooLabError('PORT_IN_USE') with the address. */
  listen(): Promise<{ host: string; port: number }> {
    const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException): void => {
        const where = `${this.opts.host}:${this.opts.port}`;
        if (e.code === 'EADDRINUSE') {
          reject(new ZooLabError('PORT_IN_USE', `client port ${where} is already in use by another process; stop it or choose another clientPort`, { cause: e }));
        } else if (e.code === 'EADDRNOTAVAIL') {
          reject(new ZooLabError('CONFIG_INVALID', `cannot bind the client port on ${where}: the address is not on this machine (clientPortAddress?)`, { cause: e }));
        } else if (e.code === 'EACCES') {
          reject(new ZooLabError('PORT_IN_USE', `not allowed to bind ${where} (ports below 1024 need privileges); choose another clientPort`, { cause: e }));
        } else reject(e);
      };
      server.once('error', onError);
      server.listen({ host: this.opts.host, port: this.opts.port, exclusive: true }, () => {
        server.off('error', onError);
        server.on('error', (e) => this.opts.log.error(`client listener: ${e.message}`));
        const addr = server.address() as net.AddressInfo;
        resolve({ host: addr.address, port: addr.port });
      });
    });
  }

  private accept(socket: net.Socket): void {
    const ip = socket.remoteAddress ?? '?';
    const remote = `${ip}:${socket.remotePort ?? 0}`;
    const count = this.perIp.get(ip) ?? 0;
    if (this.opts.maxClientCnxns > 0 && count >= this.opts.maxClientCnxns) {
      this.opts.log.warn(`too many connections from ${ip} - max is ${this.opts.maxClientCnxns}`);
      socket.destroy();
      return;
    }
    this.perIp.set(ip, count + 1);
    const conn = new Connection(this.nextId++, remote, socket, this, this.opts);
    this.live.set(conn.id, conn);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => conn.onData(chunk));
    socket.on('error', () => conn.onGone());
    socket.on('close', () => {
      conn.onGone();
      this.release(ip);
    });
    this.opts.handler.opened(conn);
  }

  /** the socket closed ('close' fires once per socket) */
  private release(ip: string): void {
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }

  /** called by a connection when it is closed or answered a four-letter word; the handler hears it once */
  forget(conn: Connection): void {
    if (this.live.delete(conn.id)) this.opts.handler.closed(conn);
  }

  connections(): ConnectionInfo[] {
    return [...this.live.values()].map((c) => c.info());
  }

  resetConnectionStats(): void {
    for (const c of this.live.values()) c.resetStats();
  }

  /** Stop accepting, drop every connection. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const c of [...this.live.values()]) {
      this.forget(c);
      c.destroy();
    }
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
