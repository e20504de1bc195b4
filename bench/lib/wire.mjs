/**
 * A minimal ZooKeeper client for the bench: one socket, pipelined requests, replies matched in
 * order. Only what the bench sends (ConnectRequest, create, getData, setData, closeSession), so
 * the client costs the same against both servers and adds as little as possible to latency.
 * Byte layout as in ../../src-main/jute (wire.test.ts checks the frames are identical).
 */
import { connect } from 'node:net';

export const OP = { create: 1, getData: 4, setData: 5, closeSession: -11 };

const WORLD_ANYONE = encodeAcl();

function encodeAcl() {
  const scheme = Buffer.from('world');
  const id = Buffer.from('anyone');
  const b = Buffer.alloc(4 + 4 + 4 + scheme.length + 4 + id.length);
  let o = b.writeInt32BE(1, 0); // vector of 1 ACL
  o = b.writeInt32BE(31, o);
  o = b.writeInt32BE(scheme.length, o);
  o += scheme.copy(b, o);
  o = b.writeInt32BE(id.length, o);
  id.copy(b, o);
  return b;
}

function str(s) {
  const bytes = Buffer.from(s, 'utf8');
  const b = Buffer.alloc(4 + bytes.length);
  b.writeInt32BE(bytes.length, 0);
  bytes.copy(b, 4);
  return b;
}

function buf(data) {
  if (data === null) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(-1, 0);
    return b;
  }
  const b = Buffer.alloc(4 + data.length);
  b.writeInt32BE(data.length, 0);
  data.copy(b, 4);
  return b;
}

function int(v) {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v, 0);
  return b;
}

export function createBody(path, data, flags = 0) {
  return Buffer.concat([str(path), buf(data), WORLD_ANYONE, int(flags)]);
}
export function getDataBody(path, watch = false) {
  return Buffer.concat([str(path), Buffer.from([watch ? 1 : 0])]);
}
export function setDataBody(path, data, version = -1) {
  return Buffer.concat([str(path), buf(data), int(version)]);
}

export function requestFrame(xid, type, body) {
  const head = Buffer.alloc(12);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(xid, 4);
  head.writeInt32BE(type, 8);
  return Buffer.concat([head, body]);
}

export function connectRequestFrame(timeOutMs = 30_000) {
  const b = Buffer.alloc(4 + 45);
  let o = b.writeInt32BE(45, 0);
  o = b.writeInt32BE(0, o); // protocolVersion
  o = b.writeBigInt64BE(0n, o); // lastZxidSeen
  o = b.writeInt32BE(timeOutMs, o);
  o = b.writeBigInt64BE(0n, o); // sessionId
  o = b.writeInt32BE(16, o); // passwd: 16 zero bytes
  o += 16;
  b.writeUInt8(0, o); // readOnly
  return b;
}

/** One session: `send` pipelines; replies resolve in request order. */
export class WireSession {
  constructor(socket) {
    this.socket = socket;
    this.pending = [];
    this.nextXid = 1;
    this.chunks = [];
    this.buffered = 0;
    this.onConnect = null;
    this.closed = false;
    this.error = null;
    socket.on('data', (c) => this.onData(c));
    socket.on('error', (e) => {
      this.error = e;
    });
    socket.on('close', () => {
      this.closed = true;
      const err = this.error ?? new Error('connection closed');
      for (const p of this.pending.splice(0)) p.reject(err);
      if (this.onConnect) this.onConnect.reject(err);
    });
  }

  /** Opens a connection and a session; resolves once the ConnectResponse came. */
  static open(port, host = '127.0.0.1', timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.setNoDelay(true);
      const session = new WireSession(socket);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no session from ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      session.onConnect = {
        resolve: (timeOut) => {
          clearTimeout(timer);
          if (timeOut > 0) resolve(session);
          else reject(new Error('session refused'));
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      socket.once('connect', () => socket.write(connectRequestFrame()));
    });
  }

  onData(chunk) {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < 4) return;
    let data = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    let o = 0;
    while (data.length - o >= 4) {
      const len = data.readInt32BE(o);
      if (data.length - o - 4 < len) break;
      this.onFrame(data, o + 4, len);
      o += 4 + len;
    }
    data = data.subarray(o);
    this.chunks = data.length > 0 ? [data] : [];
    this.buffered = data.length;
  }

  onFrame(data, at, len) {
    if (this.onConnect) {
      const timeOut = data.readInt32BE(at + 4);
      const c = this.onConnect;
      this.onConnect = null;
      c.resolve(timeOut);
      return;
    }
    const xid = data.readInt32BE(at);
    if (xid < 0) return; // notification or ping
    const err = data.readInt32BE(at + 12);
    const head = this.pending.shift();
    if (head === undefined || head.xid !== xid) {
      this.socket.destroy(new Error(`xid out of order: got ${xid}, expected ${head?.xid}`));
      return;
    }
    head.resolve(err);
    void len;
  }

  /** Sends one request; resolves with the reply's err code. */
  send(type, body) {
    const xid = this.nextXid++;
    return new Promise((resolve, reject) => {
      this.pending.push({ xid, resolve, reject });
      this.socket.write(requestFrame(xid, type, body));
    });
  }

  async close() {
    if (!this.closed) {
      await Promise.race([this.send(OP.closeSession, Buffer.alloc(0)).catch(() => 0), new Promise((r) => setTimeout(r, 2000))]);
    }
    this.socket.destroy();
  }
}
