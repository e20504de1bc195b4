/**
 * ZkClient: a ZooKeeper client over the jute codec (node:net shell). One TCP connection at a
 * time; replies matched to requests in strict xid order (a mismatch drops the connection, as
 * the Java client does); pings after negotiatedTimeout/3 of send silence; a connection silent
 * for 2/3 of the timeout is dropped. On connection loss the in-flight calls fail with
 * CONNECTIONLOSS and the client moves to the next host, resumes the session (id, password,
 * lastZxidSeen), replays auth and re-registers watches (setWatches, or setWatches2 when there
 * are persistent watches, batched like Java at 128 KB). A resume answered with timeOut 0 is
 * session expiry: terminal.
 *
 * Events: 'state', 'connected', 'disconnected', 'connectFailed' (one per failed connection
 * attempt), 'expired', 'closed', 'authFailed' and 'watch' (every notification and every local
 * watch-removal event: the "default watcher").
 *
 * Host order: the next host of the connection string right away after a failure; a pause
 * (50 ms doubling up to reconnectDelayMaxMs) only once every host failed in a row, as the Java
 * client backs off only after a full round.
 */
import { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { ErrorCode } from '../common/error-codes';
import type { SessionId, Zxid } from '../common/ids';
import {
  FrameDecoder,
  OpCode,
  Xid,
  decodeConnectResponse,
  decodeNotification,
  decodeReplyHeader,
  decodeResponse,
  encodeConnectRequestFrame,
  encodeRequestFrame,
  isJuteError,
  utf8,
  type Request,
  type Response,
} from '../jute/index';
import { fromServerPath, parseConnectString, toServerPath, type HostPort } from './connect-string';
import { KeeperError, connectionLoss } from './errors';
import type { ClientEvents, ClientOptions, ClientState, RawReply, WatchArg } from './options';
import { WatchRegistry, type WatchKind, type WatchedEvent, type Watcher } from './watches';

function now(): number {
  return performance.now();
}

const SET_WATCHES_BATCH_BYTES = 128 * 1024;
const CLOSE_REPLY_WAIT_MS = 3000;
export const noopWatcher: Watcher = () => {};

interface Pending {
  xid: number;
  type: number;
  sentAtMs: number;
  /** runs synchronously on the reply, before any later frame is handled (watch registration) */
  hook?: (reply: RawReply) => void;
  resolve: (reply: RawReply) => void;
  reject: (e: KeeperError) => void;
}

interface Waiting {
  request: Request;
  hook?: (reply: RawReply) => void;
  resolve: (reply: RawReply) => void;
  reject: (e: KeeperError) => void;
}

interface AuthEntry {
  scheme: string;
  auth: Uint8Array;
  waiter?: { resolve: () => void; reject: (e: KeeperError) => void };
}

interface Connection {
  socket: Socket;
  host: HostPort;
  decoder: FrameDecoder;
  handshakeDone: boolean;
  lastSendMs: number;
  lastRecvMs: number;
  connectTimer?: ReturnType<typeof setTimeout>;
  tickTimer?: ReturnType<typeof setInterval>;
  pending: Pending[];
  authWaiters: AuthEntry[];
}

/**
 * One session over one connection at a time: state, connecting and reconnecting, the xid-ordered
 * reply queue, pings, auth replay, watch re-registration and notifications. ZkClient adds the calls.
 */
export class ClientSession extends EventEmitter<ClientEvents> {
  readonly hosts: readonly HostPort[];
  readonly chroot: string;
  private readonly options: Required<Pick<ClientOptions, 'sessionTimeoutMs' | 'maxPacketBytes' | 'reconnectDelayMaxMs'>> & ClientOptions;
  private currentState: ClientState = 'connecting';
  private conn: Connection | null = null;
  private hostIndex = 0;
  private failures = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private waiting: Waiting[] = [];
  private readonly auths: AuthEntry[] = [];
  protected readonly watches = new WatchRegistry();
  private nextXid = 1;
  private closing = false;
  private sessionIdValue: SessionId;
  private passwd: Uint8Array;
  private negotiatedTimeout = 0;
  private lastZxidValue: Zxid = 0n;

  constructor(connectString: string, options: ClientOptions = {}) {
    super();
    const parsed = parseConnectString(connectString);
    this.hosts = parsed.hosts;
    this.chroot = parsed.chroot;
    this.options = {
      sessionTimeoutMs: 30_000,
      maxPacketBytes: 4 * 1024 * 1024,
      reconnectDelayMaxMs: 1000,
      ...options,
    };
    this.sessionIdValue = options.sessionId ?? 0n;
    this.passwd = options.sessionPasswd ?? new Uint8Array(16);
    this.connectNext();
  }

  // ---- observable state ----
  get state(): ClientState {
    return this.currentState;
  }
  get sessionId(): SessionId {
    return this.sessionIdValue;
  }
  get sessionPasswd(): Uint8Array {
    return this.passwd.slice();
  }
  /** the timeout the server granted (0 before the first handshake) */
  get negotiatedTimeoutMs(): number {
    return this.negotiatedTimeout;
  }
  /** highest zxid seen in a reply */
  get lastZxid(): Zxid {
    return this.lastZxidValue;
  }
  /** the server of the current connection (undefined while disconnected) */
  get currentHost(): HostPort | undefined {
    return this.conn?.handshakeDone ? this.conn.host : undefined;
  }
  get isConnected(): boolean {
    return this.currentState === 'connected' || this.currentState === 'connectedReadOnly';
  }
  private get terminal(): boolean {
    return this.currentState === 'closed' || this.currentState === 'expired' || this.currentState === 'authFailed';
  }

  /** Resolves once connected; rejects on expiry, auth failure, close or after timeoutMs. */
  waitUntilConnected(timeoutMs = this.options.sessionTimeoutMs): Promise<void> {
    if (this.isConnected) return Promise.resolve();
    if (this.terminal) return Promise.reject(this.terminalError());
    return new Promise((resolve, reject) => {
      const onState = (s: ClientState): void => {
        if (s === 'connected' || s === 'connectedReadOnly') done(undefined);
        else if (s === 'closed' || s === 'expired' || s === 'authFailed') done(this.terminalError());
      };
      const timer = setTimeout(() => done(connectionLoss(`not connected to ${this.describeHosts()} within ${timeoutMs} ms`)), timeoutMs);
      const done = (e: KeeperError | undefined): void => {
        clearTimeout(timer);
        this.off('state', onState);
        if (e === undefined) resolve();
        else reject(e);
      };
      this.on('state', onState);
    });
  }

  // ---- connection management ----
  private describeHosts(): string {
    return this.hosts.map((h) => `${h.host}:${h.port}`).join(',');
  }

  private setState(next: ClientState): void {
    const previous = this.currentState;
    if (previous === next) return;
    this.currentState = next;
    this.emit('state', next, previous);
  }

  private connectNext(): void {
    this.reconnectTimer = undefined;
    if (this.terminal || this.closing) return;
    const host = this.hosts[this.hostIndex % this.hosts.length]!;
    this.hostIndex = (this.hostIndex + 1) % this.hosts.length;
    const socket = netConnect({ host: host.host, port: host.port });
    socket.setNoDelay(true);
    const conn: Connection = {
      socket,
      host,
      decoder: new FrameDecoder({ maxPacketBytes: this.options.maxPacketBytes }),
      handshakeDone: false,
      lastSendMs: now(),
      lastRecvMs: now(),
      pending: [],
      authWaiters: [],
    };
    this.conn = conn;
    const connectTimeoutMs = this.options.connectTimeoutMs ?? Math.max(1000, Math.floor(this.options.sessionTimeoutMs / this.hosts.length));
    conn.connectTimer = setTimeout(() => this.drop(conn, `no session established with ${host.host}:${host.port} within ${connectTimeoutMs} ms`), connectTimeoutMs);
    socket.on('connect', () => {
      if (this.conn !== conn) return;
      const frame = encodeConnectRequestFrame({
        protocolVersion: 0,
        lastZxidSeen: this.lastZxidValue,
        timeOut: this.options.sessionTimeoutMs,
        sessionId: this.sessionIdValue,
        passwd: this.passwd,
        ...(this.options.sendReadOnlyByte === false ? {} : { readOnly: this.options.readOnly ?? false }),
      });
      this.write(conn, frame);
    });
    socket.on('data', (chunk: Uint8Array) => this.onData(conn, chunk));
    socket.on('error', (err) => this.drop(conn, `${host.host}:${host.port}: ${err.message}`));
    socket.on('close', () => this.drop(conn, `connection to ${host.host}:${host.port} closed`));
  }

  private write(conn: Connection, frame: Uint8Array): void {
    if (conn.socket.destroyed) return;
    conn.socket.write(frame);
    conn.lastSendMs = now();
  }

  private onData(conn: Connection, chunk: Uint8Array): void {
    if (this.conn !== conn) return;
    conn.lastRecvMs = now();
    const pushed = conn.decoder.push(chunk);
    for (const frame of pushed.frames) {
      if (this.conn !== conn) return;
      try {
        this.handleFrame(conn, frame);
      } catch (e) {
        if (!isJuteError(e)) throw e;
        this.drop(conn, `malformed reply from ${conn.host.host}:${conn.host.port}: ${e.message}`);
        return;
      }
    }
    if (pushed.error !== undefined) this.drop(conn, pushed.error.message);
  }

  private handleFrame(conn: Connection, frame: Uint8Array): void {
    if (!conn.handshakeDone) {
      this.onConnectResponse(conn, frame);
      return;
    }
    const { header, body } = decodeReplyHeader(frame);
    switch (header.xid) {
      case Xid.notification:
        this.onNotification(decodeNotification(body));
        return;
      case Xid.ping:
        return;
      case Xid.auth: {
        const entry = conn.authWaiters.shift();
        if (header.err !== 0) {
          this.failTerminal('authFailed', header.err, entry?.scheme ?? '');
          return;
        }
        entry?.waiter?.resolve();
        if (entry !== undefined) entry.waiter = undefined;
        return;
      }
      default:
        break;
    }
    const head = conn.pending[0];
    if (head === undefined || head.xid !== header.xid) {
      this.drop(conn, `xid out of order: got ${header.xid}, expected ${head?.xid ?? 'nothing'}`);
      return;
    }
    // decode before taking the call off the queue: a malformed body drops the connection and
    // the call fails with the others
    const response = header.err === 0 ? decodeResponse(head.type, body) : null;
    conn.pending.shift();
    if (header.zxid > 0n) this.lastZxidValue = header.zxid;
    const reply = { header, response };
    head.hook?.(reply);
    head.resolve(reply);
  }

  private onConnectResponse(conn: Connection, frame: Uint8Array): void {
    const res = decodeConnectResponse(frame);
    if (res.timeOut <= 0) {
      this.failTerminal('expired', ErrorCode.SESSIONEXPIRED);
      return;
    }
    const resumed = this.sessionIdValue !== 0n;
    conn.handshakeDone = true;
    clearTimeout(conn.connectTimer);
    this.sessionIdValue = res.sessionId;
    this.passwd = res.passwd;
    this.negotiatedTimeout = res.timeOut;
    this.failures = 0;
    const tickMs = Math.max(10, Math.floor(res.timeOut / 10));
    conn.tickTimer = setInterval(() => this.tick(conn), tickMs);
    // Java's order: auth packets, then setWatches, then whatever was waiting.
    for (const entry of this.auths) this.sendAuth(conn, entry);
    this.sendSetWatches(conn);
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) this.dispatch(conn, w);
    this.setState(res.readOnly === true ? 'connectedReadOnly' : 'connected');
    this.emit('connected', { sessionId: res.sessionId, negotiatedTimeoutMs: res.timeOut, readOnly: res.readOnly === true, host: conn.host, resumed });
  }

  private tick(conn: Connection): void {
    if (this.conn !== conn) return;
    const t = now();
    const timeout = this.negotiatedTimeout;
    if (t - conn.lastRecvMs > (timeout * 2) / 3) {
      this.drop(conn, `no reply from ${conn.host.host}:${conn.host.port} for ${Math.round(t - conn.lastRecvMs)} ms`);
      return;
    }
    const head = conn.pending[0];
    if (this.options.requestTimeoutMs !== undefined && head !== undefined && t - head.sentAtMs > this.options.requestTimeoutMs) {
      conn.pending.shift();
      head.reject(new KeeperError(ErrorCode.REQUESTTIMEOUT, undefined, `no reply within ${this.options.requestTimeoutMs} ms`));
      this.drop(conn, 'request timeout');
      return;
    }
    if (t - conn.lastSendMs >= timeout / 3) this.write(conn, encodeRequestFrame(Xid.ping, { type: OpCode.ping, req: null }));
  }

  /** Ends this connection: in-flight calls fail with CONNECTIONLOSS; reconnect unless terminal. */
  private drop(conn: Connection, reason: string): void {
    if (this.conn !== conn) return;
    this.conn = null;
    clearTimeout(conn.connectTimer);
    clearInterval(conn.tickTimer);
    conn.socket.destroy();
    for (const p of conn.pending.splice(0)) p.reject(connectionLoss(reason));
    for (const a of conn.authWaiters.splice(0)) {
      a.waiter?.reject(connectionLoss(reason));
      a.waiter = undefined;
    }
    if (this.terminal || this.closing) return;
    if (this.isConnected) {
      this.setState('disconnected');
      this.emit('disconnected', reason);
    }
    // a connection that was established counts as no failure: the next host is tried at once
    if (conn.handshakeDone) this.failures = 0;
    else this.failures++;
    const delayMs =
      this.failures < this.hosts.length ? 0 : Math.min(this.options.reconnectDelayMaxMs, 50 * 2 ** Math.min(10, this.failures - this.hosts.length));
    this.reconnectTimer = setTimeout(() => this.connectNext(), delayMs);
    if (!conn.handshakeDone) {
      try {
        this.emit('connectFailed', { host: conn.host, reason, failuresInARow: this.failures, nextAttemptInMs: delayMs });
      } catch {
        // ignored: the listener owns its errors
      }
    }
  }

  /** Expiry / auth failure / close: fail everything, stop reconnecting. */
  private failTerminal(state: 'expired' | 'authFailed', code: number, scheme = ''): void {
    this.setState(state);
    const conn = this.conn;
    this.conn = null;
    if (conn !== null) {
      clearTimeout(conn.connectTimer);
      clearInterval(conn.tickTimer);
      conn.socket.destroy();
      for (const p of conn.pending.splice(0)) p.reject(new KeeperError(code));
      for (const a of conn.authWaiters.splice(0)) a.waiter?.reject(new KeeperError(code));
    }
    clearTimeout(this.reconnectTimer);
    for (const w of this.waiting.splice(0)) w.reject(new KeeperError(code));
    for (const a of this.auths) {
      a.waiter?.reject(new KeeperError(code));
      a.waiter = undefined;
    }
    this.watches.clear();
    if (state === 'expired') this.emit('expired');
    else this.emit('authFailed', scheme);
  }

  private terminalError(): KeeperError {
    if (this.currentState === 'expired') return new KeeperError(ErrorCode.SESSIONEXPIRED);
    if (this.currentState === 'authFailed') return new KeeperError(ErrorCode.AUTHFAILED);
    return connectionLoss('the client is closed');
  }

  // ---- sending ----
  private allocXid(): number {
    const xid = this.nextXid;
    this.nextXid = xid >= 0x7fffffff ? 1 : xid + 1;
    return xid;
  }

  private dispatch(conn: Connection, w: Waiting): void {
    const xid = this.allocXid();
    conn.pending.push({ xid, type: w.request.type, sentAtMs: now(), hook: w.hook, resolve: w.resolve, reject: w.reject });
    this.write(conn, encodeRequestFrame(xid, w.request));
  }

  protected submit(request: Request, hook?: (reply: RawReply) => void): Promise<RawReply> {
    if (this.terminal) return Promise.reject(this.terminalError());
    if (this.closing) return Promise.reject(connectionLoss('the client is closing'));
    return new Promise<RawReply>((resolve, reject) => {
      const w: Waiting = { request, hook, resolve, reject };
      const conn = this.conn;
      if (conn !== null && conn.handshakeDone) this.dispatch(conn, w);
      else this.waiting.push(w);
    });
  }

  /**
   * Sends any request as is (no chroot, no watch bookkeeping) and returns the raw reply: a
   * non-zero err is a value here, not an error. Rejects only on connection loss or a terminal state.
   */
  send(request: Request): Promise<RawReply> {
    return this.submit(request);
  }

  private sendAuth(conn: Connection, entry: AuthEntry): void {
    conn.authWaiters.push(entry);
    this.write(conn, encodeRequestFrame(Xid.auth, { type: OpCode.auth, req: { type: 0, scheme: entry.scheme, auth: entry.auth } }));
  }

  private sendSetWatches(conn: Connection): void {
    if (this.watches.size === 0) return;
    const lists = this.watches.lists();
    const server = (paths: string[]): string[] => paths.map((p) => toServerPath(this.chroot, p));
    const all = {
      data: server(lists.data),
      exist: server(lists.exist),
      child: server(lists.child),
      persistent: server(lists.persistent),
      persistentRecursive: server(lists.persistentRecursive),
    };
    const usePersistent = all.persistent.length > 0 || all.persistentRecursive.length > 0;
    // batches of at most ~128 KB of paths so no frame nears jute.maxbuffer (ZOOKEEPER-706)
    const kinds = ['data', 'exist', 'child', 'persistent', 'persistentRecursive'] as const;
    let batch = { data: [] as string[], exist: [] as string[], child: [] as string[], persistent: [] as string[], persistentRecursive: [] as string[] };
    let bytes = 0;
    const flush = (): void => {
      const base = { relativeZxid: this.lastZxidValue, dataWatches: batch.data, existWatches: batch.exist, childWatches: batch.child };
      const request: Request = usePersistent
        ? { type: OpCode.setWatches2, req: { ...base, persistentWatches: batch.persistent, persistentRecursiveWatches: batch.persistentRecursive } }
        : { type: OpCode.setWatches, req: base };
      this.dispatch(conn, { request, resolve: () => {}, reject: () => {} });
      batch = { data: [], exist: [], child: [], persistent: [], persistentRecursive: [] };
      bytes = 0;
    };
    for (const kind of kinds) {
      for (const p of all[kind]) {
        const size = utf8(p).length + 4;
        if (bytes > 0 && bytes + size > SET_WATCHES_BATCH_BYTES) flush();
        batch[kind].push(p);
        bytes += size;
      }
    }
    if (bytes > 0) flush();
  }

  // ---- helpers for the typed calls ----
  protected serverPath(path: string): string {
    if (typeof path !== 'string' || !path.startsWith('/')) throw new KeeperError(ErrorCode.BADARGUMENTS, String(path), 'a path starts with "/"');
    return toServerPath(this.chroot, path);
  }

  protected clientPath(path: string): string {
    return fromServerPath(this.chroot, path);
  }

  protected watchHook(watch: WatchArg, path: string, onOk: WatchKind, onNoNode?: WatchKind): ((reply: RawReply) => void) | undefined {
    if (watch === undefined || watch === false) return undefined;
    const watcher = watch === true ? noopWatcher : watch;
    return (reply) => {
      if (reply.header.err === 0) this.watches.add(onOk, path, watcher);
      else if (reply.header.err === ErrorCode.NONODE && onNoNode !== undefined) this.watches.add(onNoNode, path, watcher);
    };
  }

  /** Sends, throws KeeperError on a non-zero err, returns the body. */
  protected async call(request: Request, path: string | undefined, hook?: (reply: RawReply) => void): Promise<Response> {
    let reply: RawReply;
    try {
      reply = await this.submit(request, hook);
    } catch (e) {
      if (e instanceof KeeperError && path !== undefined && e.path === undefined) throw new KeeperError(e.code, path, e.detail);
      throw e;
    }
    if (reply.header.err !== 0) throw new KeeperError(reply.header.err, path);
    return reply.response!;
  }

  private onNotification(event: { type: number; state: number; path: string }): void {
    const ev: WatchedEvent = { type: event.type, state: event.state, path: this.clientPath(event.path) };
    // a watcher's or listener's failure must not break this connection's frame loop
    for (const w of this.watches.materialize(ev)) {
      try {
        w(ev);
      } catch {
        // ignored: the watcher owns its errors
      }
    }
    try {
      this.emit('watch', ev);
    } catch {
      // ignored: the listener owns its errors
    }
  }

  /**
   * Adds auth info (replayed on every reconnect). Resolves when the server accepts it; a
   * rejection (AUTHFAILED) also moves the client to 'authFailed' and emits 'authFailed'.
   */
  addAuth(scheme: string, auth: Uint8Array | string): Promise<void> {
    if (this.terminal) return Promise.reject(this.terminalError());
    const entry: AuthEntry = { scheme, auth: typeof auth === 'string' ? utf8(auth) : auth };
    this.auths.push(entry);
    const done = new Promise<void>((resolve, reject) => {
      entry.waiter = { resolve, reject };
    });
    // fire-and-forget callers (zkCli's addauth) learn of failure from 'authFailed': never an unhandled rejection
    done.catch(() => undefined);
    const conn = this.conn;
    if (conn !== null && conn.handshakeDone) this.sendAuth(conn, entry);
    return done;
  }

  /** The local watch registrations (caller paths), e.g. for a UI. */
  watchedPaths(): ReturnType<WatchRegistry['lists']> {
    return this.watches.lists();
  }

  /**
   * Closes the session (closeSession, which deletes its ephemerals) and the connection.
   * Waiting calls fail with CONNECTIONLOSS. Safe to call more than once.
   *
   * `keepSession: true` only drops the connection and stops reconnecting: no closeSession is
   * sent, so the session (and its ephemerals) lives on at the server until it expires, as when
   * a process exits without closing (zkCli's one-shot mode). It can be resumed elsewhere with
   * `sessionId` + `sessionPasswd`.
   */
  async close(options: { keepSession?: boolean } = {}): Promise<void> {
    if (this.currentState === 'closed' || this.closing) return;
    const conn = this.conn;
    if (conn !== null && conn.handshakeDone && !this.terminal && options.keepSession !== true) {
      const reply = new Promise<RawReply>((resolve, reject) => this.dispatch(conn, { request: { type: OpCode.closeSession, req: null }, resolve, reject }));
      this.closing = true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        reply.catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.min(CLOSE_REPLY_WAIT_MS, this.negotiatedTimeout));
        }),
      ]);
      clearTimeout(timer);
    }
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    const current = this.conn;
    this.conn = null;
    if (current !== null) {
      clearTimeout(current.connectTimer);
      clearInterval(current.tickTimer);
      current.socket.destroy();
      for (const p of current.pending.splice(0)) p.reject(connectionLoss('the client is closed'));
      for (const a of current.authWaiters.splice(0)) a.waiter?.reject(connectionLoss('the client is closed'));
    }
    for (const w of this.waiting.splice(0)) w.reject(connectionLoss('the client is closed'));
    for (const a of this.auths) {
      a.waiter?.reject(connectionLoss('the client is closed'));
      a.waiter = undefined;
    }
    this.watches.clear();
    this.setState('closed');
    this.emit('closed');
  }
}
