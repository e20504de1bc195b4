/**
 * ZkClient's protocol edges that a healthy ZooKeeper never shows: a scripted peer on 127.0.0.1
 * (built on the jute codec) answers frame by frame, so the tests can send replies out of xid
 * order, stay silent, announce oversized frames, refuse a session, or put a notification in the
 * same TCP write as the reply that registered its watch.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KeeperError, createClient, type WatchedEvent, type ZkClient } from '../../src-main/client/index';
import { ErrorCode } from '../../src-main/common/error-codes';
import {
  FrameDecoder,
  OpCode,
  Xid,
  decodeConnectRequest,
  decodeRequestFrame,
  emptyStat,
  encodeConnectResponseFrame,
  encodeNotificationFrame,
  encodeReplyFrame,
  type ConnectRequest,
  type Request,
  type RequestHeader,
} from '../../src-main/jute/index';

async function until(cond: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface PeerConnection {
  socket: Socket;
  connect?: ConnectRequest;
  connectBytes?: number;
  requests: { header: RequestHeader; request: Request; atMs: number }[];
  send(bytes: Uint8Array): void;
  /** waits until the n-th request (0-based) has arrived */
  request(n: number): Promise<{ header: RequestHeader; request: Request; atMs: number }>;
}

class ScriptedPeer {
  readonly connections: PeerConnection[] = [];
  private server!: Server;
  port = 0;
  /** close every connection as soon as its ConnectRequest arrives (a server not serving yet) */
  refuseHandshakes = false;

  async start(): Promise<void> {
    this.server = createServer((socket) => {
      const decoder = new FrameDecoder();
      const conn: PeerConnection = {
        socket,
        requests: [],
        send: (bytes) => {
          if (!socket.destroyed) socket.write(bytes);
        },
        request: async (n) => {
          await until(() => conn.requests.length > n, `request #${n}`);
          return conn.requests[n]!;
        },
      };
      this.connections.push(conn);
      socket.on('error', () => {});
      socket.on('data', (chunk: Buffer) => {
        for (const frame of decoder.push(chunk).frames) {
          if (conn.connect === undefined) {
            conn.connect = decodeConnectRequest(frame);
            conn.connectBytes = frame.length;
            if (this.refuseHandshakes) socket.destroy();
          } else {
            const { header, request } = decodeRequestFrame(frame);
            conn.requests.push({ header, request, atMs: performance.now() });
          }
        }
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  }

  async connection(n: number): Promise<PeerConnection> {
    await until(() => this.connections[n]?.connect !== undefined, `connection #${n} handshake`);
    return this.connections[n]!;
  }

  /** accept the handshake of connection n with this session */
  async accept(n: number, opts: { sessionId?: bigint; timeOut?: number; readOnly?: boolean } = {}): Promise<PeerConnection> {
    const conn = await this.connection(n);
    conn.send(
      encodeConnectResponseFrame({
        protocolVersion: 0,
        timeOut: opts.timeOut ?? 30_000,
        sessionId: opts.sessionId ?? 0x1234n,
        passwd: new Uint8Array(16).fill(7),
        ...(conn.connect?.readOnly !== undefined ? { readOnly: opts.readOnly ?? false } : {}),
      }),
    );
    return conn;
  }

  close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

let peer: ScriptedPeer;
let client: ZkClient | undefined;
const extraPeers: ScriptedPeer[] = [];
afterEach(async () => {
  // the peer first: a scripted peer never answers closeSession
  await peer?.close();
  for (const p of extraPeers.splice(0)) await p.close();
  await client?.close();
  client = undefined;
});

async function setup(options: Parameters<typeof createClient>[1] = {}): Promise<ZkClient> {
  peer = new ScriptedPeer();
  await peer.start();
  client = createClient(`127.0.0.1:${peer.port}`, { sessionTimeoutMs: 30_000, ...options });
  return client;
}

async function keeperError(p: Promise<unknown>): Promise<KeeperError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KeeperError) return e;
    throw e;
  }
  throw new Error('expected a KeeperError');
}

describe('client protocol edges (scripted peer)', () => {
  it('handshake: 45-byte ConnectRequest with readOnly; a read-only answer → connectedReadOnly', async () => {
    const c = await setup({ readOnly: true });
    const conn = await peer.accept(0, { readOnly: true, timeOut: 9000 });
    expect(conn.connectBytes).toBe(45);
    expect(conn.connect).toMatchObject({ protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30_000, sessionId: 0n, readOnly: true });
    await c.waitUntilConnected(5000);
    expect(c.state).toBe('connectedReadOnly');
    expect(c.negotiatedTimeoutMs).toBe(9000);
    expect(c.sessionId).toBe(0x1234n);
  });

  it('sendReadOnlyByte: false → the 44-byte ConnectRequest of node-zookeeper-client', async () => {
    const c = await setup({ sendReadOnlyByte: false });
    const conn = await peer.accept(0);
    expect(conn.connectBytes).toBe(44);
    expect(conn.connect?.readOnly).toBeUndefined();
    await c.waitUntilConnected(5000);
    expect(c.state).toBe('connected');
  });

  it('calls made before the handshake wait for it; xids start at 1 and increase', async () => {
    const c = await setup();
    const a = c.exists('/a');
    const b = c.exists('/b');
    const conn = await peer.accept(0);
    const r0 = await conn.request(0);
    const r1 = await conn.request(1);
    expect([r0.header.xid, r1.header.xid]).toEqual([1, 2]);
    conn.send(encodeReplyFrame({ xid: 1, zxid: 5n, err: ErrorCode.NONODE }, null));
    conn.send(encodeReplyFrame({ xid: 2, zxid: 6n, err: 0 }, { type: OpCode.exists, stat: emptyStat() }));
    expect(await a).toBeNull();
    expect(await b).toEqual(emptyStat());
    expect(c.lastZxid).toBe(6n);
  });

  it('a reply out of xid order → CONNECTIONLOSS for in-flight calls; reconnect resumes session and lastZxidSeen', async () => {
    const c = await setup();
    const conn = await peer.accept(0, { sessionId: 0x77n });
    await c.waitUntilConnected(5000);
    const first = c.getData('/a');
    const second = c.getData('/b');
    await conn.request(1);
    conn.send(encodeReplyFrame({ xid: 9, zxid: 0x500n, err: 0 }, { type: OpCode.getData, data: null, stat: emptyStat() }));
    expect((await keeperError(first)).code).toBe(ErrorCode.CONNECTIONLOSS);
    expect((await keeperError(second)).code).toBe(ErrorCode.CONNECTIONLOSS);
    const again = await peer.connection(1);
    expect(again.connect).toMatchObject({ sessionId: 0x77n, passwd: new Uint8Array(16).fill(7) });
    expect(again.connect?.lastZxidSeen).toBe(0n); // the out-of-order reply was not accepted
  });

  it('reconnect: auth replayed, then setWatches, then the calls that waited, in that order', async () => {
    const c = await setup();
    const conn = await peer.accept(0);
    await c.waitUntilConnected(5000);
    const auth = c.addAuth('digest', 'u:p');
    const authFrame = await conn.request(0);
    expect(authFrame.header).toEqual({ xid: Xid.auth, type: OpCode.auth });
    conn.send(encodeReplyFrame({ xid: Xid.auth, zxid: 0n, err: 0 }, null));
    await auth;
    const watched = c.exists('/w', true);
    await conn.request(1);
    conn.send(encodeReplyFrame({ xid: 1, zxid: 0x10n, err: ErrorCode.NONODE }, null));
    expect(await watched).toBeNull();

    conn.socket.destroy();
    await until(() => c.state === 'disconnected', 'disconnected');
    const waiting = c.getData('/later');
    const next = await peer.accept(1);
    expect(next.connect?.lastZxidSeen).toBe(0x10n);
    const [r0, r1, r2] = [await next.request(0), await next.request(1), await next.request(2)];
    expect(r0.request).toEqual({ type: OpCode.auth, req: { type: 0, scheme: 'digest', auth: new TextEncoder().encode('u:p') } });
    expect(r1.request).toEqual({ type: OpCode.setWatches, req: { relativeZxid: 0x10n, dataWatches: [], existWatches: ['/w'], childWatches: [] } });
    expect(r2.request).toEqual({ type: OpCode.getData, req: { path: '/later', watch: false } });
    void waiting.catch(() => undefined);
  });

  it('pings after timeout/3 of send silence, with xid -2', async () => {
    const c = await setup();
    const conn = await peer.accept(0, { timeOut: 600 });
    await c.waitUntilConnected(5000);
    const connectedAt = performance.now();
    const ping = await conn.request(0);
    expect(ping.header).toEqual({ xid: Xid.ping, type: OpCode.ping });
    expect(ping.atMs - connectedAt).toBeGreaterThanOrEqual(190);
    conn.send(encodeReplyFrame({ xid: Xid.ping, zxid: 0n, err: 0 }, null));
  });

  it('a silent server is dropped after 2/3 of the timeout, and the client reconnects', async () => {
    const c = await setup();
    await peer.accept(0, { timeOut: 600 });
    await c.waitUntilConnected(5000);
    const reasons: string[] = [];
    c.on('disconnected', (r) => reasons.push(r));
    await until(() => reasons.length === 1, 'drop on read timeout', 5000);
    expect(reasons[0]).toMatch(/no reply/);
    await peer.connection(1);
  });

  it('ConnectResponse with timeOut 0 → expired, pending calls fail SESSIONEXPIRED, no reconnect', async () => {
    const c = await setup({ sessionId: 0x99n, sessionPasswd: new Uint8Array(16) });
    const call = c.exists('/');
    const expired: number[] = [];
    c.on('expired', () => expired.push(1));
    await peer.accept(0, { timeOut: 0, sessionId: 0n });
    expect((await keeperError(call)).code).toBe(ErrorCode.SESSIONEXPIRED);
    expect(c.state).toBe('expired');
    expect(expired).toEqual([1]);
    expect(peer.connections.length).toBe(1);
  });

  it('requestTimeoutMs: an unanswered call fails REQUESTTIMEOUT, the calls behind it CONNECTIONLOSS', async () => {
    const c = await setup({ requestTimeoutMs: 150 });
    const conn = await peer.accept(0);
    await c.waitUntilConnected(5000);
    const first = c.getData('/slow');
    const second = c.getData('/behind');
    await conn.request(1);
    expect((await keeperError(first)).code).toBe(ErrorCode.REQUESTTIMEOUT);
    expect((await keeperError(second)).code).toBe(ErrorCode.CONNECTIONLOSS);
    await peer.connection(1); // and it reconnects
  });

  it('a frame length above maxPacketBytes drops the connection', async () => {
    const c = await setup({ maxPacketBytes: 1000 });
    const conn = await peer.accept(0);
    await c.waitUntilConnected(5000);
    const call = c.getData('/big');
    await conn.request(0);
    conn.send(Uint8Array.of(0, 0, 0x10, 0)); // 4096 > 1000
    const e = await keeperError(call);
    expect(e.code).toBe(ErrorCode.CONNECTIONLOSS);
    expect(e.message).toMatch(/exceeds the packet limit/);
  });

  it('a malformed reply body drops the connection instead of throwing', async () => {
    const c = await setup();
    const conn = await peer.accept(0);
    await c.waitUntilConnected(5000);
    const call = c.getChildren('/');
    await conn.request(0);
    // ReplyHeader ok, then a vector announcing 2^31-1 children
    const bad = encodeReplyFrame({ xid: 1, zxid: 1n, err: 0 }, { type: OpCode.getChildren, children: [] });
    new DataView(bad.buffer).setInt32(bad.length - 4, 0x7fffffff);
    conn.send(bad);
    const e = await keeperError(call);
    expect(e.code).toBe(ErrorCode.CONNECTIONLOSS);
    expect(e.message).toMatch(/malformed reply/);
  });

  it('a notification in the same TCP write as the reply that set its watch reaches the watcher', async () => {
    const c = await setup();
    const conn = await peer.accept(0);
    await c.waitUntilConnected(5000);
    const events: WatchedEvent[] = [];
    const call = c.getData('/n', (ev) => events.push(ev));
    await conn.request(0);
    const reply = encodeReplyFrame({ xid: 1, zxid: 3n, err: 0 }, { type: OpCode.getData, data: null, stat: emptyStat() });
    const note = encodeNotificationFrame(4n, { type: 3, state: 3, path: '/n' });
    const both = new Uint8Array(reply.length + note.length);
    both.set(reply);
    both.set(note, reply.length);
    conn.send(both);
    await call;
    await until(() => events.length === 1, 'notification');
    expect(events[0]).toEqual({ type: 3, state: 3, path: '/n' });
  });

  it('multi failure: results decoded from the wire, KeeperError carries them', async () => {
    const c = await setup();
    const conn = await peer.accept(0);
    await c.waitUntilConnected(5000);
    const call = c.multi([{ type: OpCode.delete, req: { path: '/x', version: -1 } }, { type: OpCode.check, req: { path: '/y', version: 1 } }]);
    const req = await conn.request(0);
    expect(req.request.type).toBe(OpCode.multi);
    conn.send(
      encodeReplyFrame(
        { xid: 1, zxid: 9n, err: 0 },
        { type: OpCode.multi, results: [{ type: OpCode.error, err: 0 }, { type: OpCode.error, err: ErrorCode.NONODE }] },
      ),
    );
    const e = await keeperError(call);
    expect(e.code).toBe(ErrorCode.NONODE);
    expect(e.path).toBe('/y');
    expect(e.results).toHaveLength(2);
  });

  it('failover: the next hosts are tried at once, one connectFailed per refused attempt; a pause only after a full round', async () => {
    peer = new ScriptedPeer();
    const b = new ScriptedPeer();
    const d = new ScriptedPeer();
    extraPeers.push(b, d);
    await peer.start();
    await b.start();
    await d.start();
    b.refuseHandshakes = true;
    d.refuseHandshakes = true;
    // first host accepts once, then (like b and d) refuses: a server whose leader died
    client = createClient(`127.0.0.1:${peer.port},127.0.0.1:${b.port},127.0.0.1:${d.port}`, { sessionTimeoutMs: 30_000 });
    const c2 = client;
    const conn = await peer.accept(0, { sessionId: 0x42n });
    await c2.waitUntilConnected(5000);
    const failures: { port: number; inRow: number; nextMs: number; atMs: number }[] = [];
    c2.on('connectFailed', (f) => failures.push({ port: f.host.port, inRow: f.failuresInARow, nextMs: f.nextAttemptInMs, atMs: performance.now() }));
    peer.refuseHandshakes = true;
    const droppedAt = performance.now();
    conn.socket.destroy();
    await until(() => failures.length >= 4, 'four failed attempts', 5000);
    expect(failures.slice(0, 4).map((f) => f.port)).toEqual([b.port, d.port, peer.port, b.port]);
    expect(failures.slice(0, 4).map((f) => f.inRow)).toEqual([1, 2, 3, 4]);
    // Java's order: every host once right away, then back off
    expect(failures.slice(0, 2).map((f) => f.nextMs)).toEqual([0, 0]);
    expect(failures[2]!.nextMs).toBeGreaterThan(0);
    expect(failures[1]!.atMs - droppedAt).toBeLessThan(1000);
    expect(c2.state).toBe('disconnected');
    // every attempt resumed the session
    expect(b.connections[0]?.connect?.sessionId).toBe(0x42n);
    expect(d.connections[0]?.connect?.sessionId).toBe(0x42n);
  });

  it('close({ keepSession: true }) drops the connection without closeSession; the session can be resumed', async () => {
    const c = await setup();
    const conn = await peer.accept(0, { sessionId: 0x51n });
    await c.waitUntilConnected(5000);
    const waiting = c.getData('/x');
    await conn.request(0);
    await c.close({ keepSession: true });
    expect(c.state).toBe('closed');
    expect((await keeperError(waiting)).code).toBe(ErrorCode.CONNECTIONLOSS);
    await until(() => conn.socket.destroyed || conn.socket.readableEnded, 'the connection closed');
    // nothing after the getData: no closeSession was sent
    expect(conn.requests.map((r) => r.request.type)).toEqual([OpCode.getData]);
    const resumed = createClient(`127.0.0.1:${peer.port}`, { sessionId: c.sessionId, sessionPasswd: c.sessionPasswd });
    client = resumed;
    const next = await peer.connection(1);
    expect(next.connect).toMatchObject({ sessionId: 0x51n, passwd: new Uint8Array(16).fill(7) });
  });

  it('unreachable hosts: keeps retrying without blocking close()', async () => {
    await setup();
    await peer.close();
    const c = createClient(`127.0.0.1:${peer.port}`, { sessionTimeoutMs: 2000 });
    const states: string[] = [];
    c.on('state', (s) => states.push(s));
    await expect(c.waitUntilConnected(300)).rejects.toThrow(/not connected/);
    await c.close();
    expect(c.state).toBe('closed');
    expect(states).toEqual(['closed']);
    peer = new ScriptedPeer();
    await peer.start();
  });
});
