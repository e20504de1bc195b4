/**
 * A bare ZooKeeper connection over a socket, for what a well-behaved client never does:
 * drop a session without closeSession (to let it expire, or resume it elsewhere), send an
 * unknown opcode, send hand-made bytes. Frames are built with src-main/jute, so a request is
 * byte-for-byte what a client sends; replies are returned raw (header + undecoded body).
 */
import { connect, type Socket } from 'node:net';
import type { SessionId } from '../../src-main/common/ids';
import {
  FrameDecoder,
  decodeConnectResponse,
  decodeReplyHeader,
  decodeNotification,
  encodeConnectRequestFrame,
  encodeRequestFrame,
  type ConnectResponse,
  type ReplyHeader,
  type Request,
  type WatcherEvent,
} from '../../src-main/jute/index';

export interface RawReplyFrame {
  header: ReplyHeader;
  /** the payload after the ReplyHeader */
  body: Uint8Array;
}

export class RawConnection {
  private readonly decoder = new FrameDecoder({ maxPacketBytes: 8 * 1024 * 1024 });
  private readonly frames: Uint8Array[] = [];
  private waiters: (() => void)[] = [];
  private closedFlag = false;
  private xid = 1;
  readonly closed: Promise<void>;
  readonly notifications: WatcherEvent[] = [];

  private constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.closedFlag = true;
        this.wake();
        resolve();
      });
    });
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      const pushed = this.decoder.push(new Uint8Array(chunk));
      this.frames.push(...pushed.frames);
      this.wake();
    });
  }

  static open(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RawConnection(socket));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** The next frame payload, or null if the connection closed first; rejects after timeoutMs. */
  async nextFrame(timeoutMs = 5000): Promise<Uint8Array | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.shift();
      if (f !== undefined) return f;
      if (this.closedFlag) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends ConnectRequest, returns the ConnectResponse (null if the server closed instead). */
  /** The payload length of the last ConnectResponse (36 without the readOnly byte, 37 with it). */
  connectResponseBytes = 0;

  /** `omitReadOnly`: the 44-byte ConnectRequest of node-zookeeper-client. */
  async handshake(
    options: { timeOutMs?: number; sessionId?: SessionId; passwd?: Uint8Array; lastZxidSeen?: bigint; readOnly?: boolean; omitReadOnly?: boolean; protocolVersion?: number } = {},
  ): Promise<ConnectResponse | null> {
    this.write(
      encodeConnectRequestFrame({
        protocolVersion: options.protocolVersion ?? 0,
        lastZxidSeen: options.lastZxidSeen ?? 0n,
        timeOut: options.timeOutMs ?? 30_000,
        sessionId: options.sessionId ?? 0n,
        passwd: options.passwd ?? new Uint8Array(16),
        ...(options.omitReadOnly === true ? {} : { readOnly: options.readOnly ?? false }),
      }),
    );
    const frame = await this.nextFrame();
    if (frame === null) return null;
    this.connectResponseBytes = frame.length;
    return decodeConnectResponse(frame);
  }

  /** Sends a request with a chosen xid (ping -2, setWatches -8 …); returns the next reply that is not a notification. */
  async requestWithXid(xid: number, request: Request, timeoutMs = 5000): Promise<RawReplyFrame | null> {
    this.write(encodeRequestFrame(xid, request));
    for (;;) {
      const frame = await this.nextFrame(timeoutMs);
      if (frame === null) return null;
      const { header, body } = decodeReplyHeader(frame);
      if (header.xid === -1) {
        this.notifications.push(decodeNotification(body));
        continue;
      }
      return { header, body: frame.subarray(16) };
    }
  }

  /** Sends a request, returns its reply (notifications met on the way are kept), null on close. */
  async request(request: Request, timeoutMs = 5000): Promise<RawReplyFrame | null> {
    const xid = this.xid++;
    this.write(encodeRequestFrame(xid, request));
    return this.replyTo(xid, timeoutMs);
  }

  async replyTo(xid: number, timeoutMs = 5000): Promise<RawReplyFrame | null> {
    for (;;) {
      const frame = await this.nextFrame(timeoutMs);
      if (frame === null) return null;
      const { header, body } = decodeReplyHeader(frame);
      if (header.xid === -1) {
        this.notifications.push(decodeNotification(body));
        continue;
      }
      if (header.xid === -2) continue;
      if (header.xid !== xid) throw new Error(`reply xid ${header.xid}, expected ${xid}`);
      return { header, body: frame.subarray(16) };
    }
  }

  /** Drops the connection without closeSession (the session lives on until it expires). */
  destroy(): void {
    this.socket.destroy();
  }
}
