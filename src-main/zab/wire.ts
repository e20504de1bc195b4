/**
 * Framing of peer messages, in jute (JuteWriter/JuteReader). Pure.
 *
 * encode* functions return whole frames (length prefix included); decode* functions take one
 * frame's payload (as FrameSplitter yields it).
 *
 * Election port (ZooKeeper's QuorumCnxManager): each frame is int32 length + payload.
 * - The dialer's first frame is a hello: long protocolVersion (-65536), long sid, int length +
 *   "host:port" text. Only one connection per pair is kept: the one the HIGHER sid dialled (a
 *   lower sid's connection is closed by the higher side, which dials back).
 * - Then notifications: int state, long leader, long zxid, long electionEpoch, long peerEpoch,
 *   int version (2), int config length + config bytes (ZooLab sends none). 28- and 40-byte
 *   legacy forms decode too.
 *
 * Quorum port (one connection per learner, opened by the learner): each frame is int32 length +
 * QuorumPacket{int type, long zxid, buffer data, vector<Id> authinfo (always empty here)}.
 * ZooKeeper writes QuorumPackets back to back; ZooLab adds the length so a reader never has to
 * parse a partial record. The data field per type:
 *
 * | type | zxid | data |
 * |---|---|---|
 * | FOLLOWERINFO / OBSERVERINFO | acceptedEpoch << 32 | LearnerInfo{long sid, int protocolVersion, long configVersion 0} |
 * | LEADERINFO | newEpoch << 32 | int protocolVersion |
 * | ACKEPOCH | lastZxid | int currentEpoch (-1: already accepted) |
 * | DIFF / TRUNC | zxid | long committedZxid |
 * | SNAP | zxid | the serialized snapshot |
 * | PROPOSAL / INFORM | txn zxid | long sessionId, int xid, buffer txn bytes |
 * | COMMIT / ACK / NEWLEADER / UPTODATE | zxid | null |
 * | REQUEST | -1 | long sessionId, int xid, buffer request bytes |
 * | PING | round | int count, then (long sessionId, int timeoutMs) each |
 * | REVALIDATE | -1 | long sessionId, int timeoutMs, boolean valid |
 * | SYNC | zxid | long sessionId, int xid |
 */
import { JuteReader, JuteWriter, JuteFormatError } from '../jute/buffer';
import { makeZxid, zxidEpoch } from '../common/ids';
import { PeerState, type Notification, type PeerStateValue } from './election';
import type { Sid } from './quorum';
import { ZabPacketType, type SessionTouch, type TxnRecord, type ZabMessage } from './types';

/** ZooKeeper caps election frames at 512 KB. */
export const electionFrameBytesMax = 512 * 1024;
/** A SNAP carries the whole tree in one frame here, so the quorum port allows large frames. */
export const quorumFrameBytesMax = 1024 * 1024 * 1024;
export const ELECTION_PROTOCOL_VERSION = -65536n;

export interface ElectionHello {
  readonly sid: Sid;
  readonly address: string;
}

export function encodeElectionHello(h: ElectionHello): Uint8Array {
  return new JuteWriter(64).long(ELECTION_PROTOCOL_VERSION).long(BigInt(h.sid)).ustring(h.address).frame();
}

export function decodeElectionHello(payload: Uint8Array): ElectionHello {
  const r = new JuteReader(payload);
  const version = r.long();
  if (version !== ELECTION_PROTOCOL_VERSION && version !== -65535n) throw new JuteFormatError(`unknown election protocol version ${version}`);
  const sid = Number(r.long());
  const address = r.ustring() ?? '';
  return { sid, address };
}

export function encodeNotification(n: Notification): Uint8Array {
  return new JuteWriter(64)
    .int(n.state)
    .long(BigInt(n.leader))
    .long(n.zxid)
    .long(BigInt(n.electionEpoch))
    .long(BigInt(n.peerEpoch))
    .int(n.version)
    .buffer(n.config === undefined ? new Uint8Array(0) : new TextEncoder().encode(n.config))
    .frame();
}

export function decodeNotification(payload: Uint8Array): Notification {
  const r = new JuteReader(payload);
  const state = r.int();
  if (state < PeerState.LOOKING || state > PeerState.OBSERVING) throw new JuteFormatError(`unknown peer state ${state}`);
  const leader = Number(r.long());
  const zxid = r.long();
  const electionEpoch = Number(r.long());
  // 28-byte notifications (3.3) end here; 40-byte ones (3.4) add peerEpoch
  const peerEpoch = r.remaining >= 8 ? Number(r.long()) : zxidEpoch(zxid);
  const version = r.remaining >= 4 ? r.int() : 0;
  // the sender's membership text (ZooKeeper 3.5+): a LOOKING server adopts a newer one
  const config = r.remaining >= 4 ? r.buffer() : null;
  const base = { state: state as PeerStateValue, leader, zxid, electionEpoch, peerEpoch, version };
  return config !== null && config.length > 0 ? { ...base, config: new TextDecoder().decode(config) } : base;
}

function txnData(w: JuteWriter, t: TxnRecord): JuteWriter {
  return w.long(t.sessionId).int(t.xid).buffer(t.data);
}

/** the QuorumPacket type number and zxid of a message */
function headOf(m: ZabMessage): { type: number; zxid: bigint } {
  switch (m.type) {
    case 'FOLLOWERINFO':
    case 'OBSERVERINFO':
      return { type: ZabPacketType[m.type], zxid: makeZxid(m.acceptedEpoch, 0) };
    case 'LEADERINFO':
      return { type: ZabPacketType.LEADERINFO, zxid: makeZxid(m.newEpoch, 0) };
    case 'ACKEPOCH':
      return { type: ZabPacketType.ACKEPOCH, zxid: m.lastZxid };
    case 'PROPOSAL':
    case 'INFORM':
    case 'INFORMANDACTIVATE':
      return { type: ZabPacketType[m.type], zxid: m.txn.zxid };
    case 'REQUEST':
    case 'REVALIDATE':
      return { type: ZabPacketType[m.type], zxid: -1n };
    case 'PING':
      return { type: ZabPacketType.PING, zxid: BigInt(m.round) };
    default:
      return { type: ZabPacketType[m.type], zxid: m.zxid };
  }
}

/**
 * Appends one whole quorum-port frame for `m` to `w`: int32 length, then the QuorumPacket. The
 * data field is written in place (its length patched in after it), so a frame costs no buffer of
 * its own: a link writes a turn's frames into one writer (see node/link-writer.ts).
 */
export function writeZabFrame(w: JuteWriter, m: ZabMessage): void {
  const frameAt = w.length;
  w.int(0);
  // the hot messages first, without building a head object
  if (m.type === 'COMMIT' || m.type === 'ACK' || m.type === 'UPTODATE') {
    w.int(ZabPacketType[m.type]).long(m.zxid).int(-1).int(0);
    w.patchInt(frameAt, w.length - frameAt - 4);
    return;
  }
  if (m.type === 'PROPOSAL' || m.type === 'INFORM') {
    const t = m.txn;
    w.int(ZabPacketType[m.type]).long(t.zxid).int(16 + t.data.length);
    txnData(w, t).int(0);
    w.patchInt(frameAt, w.length - frameAt - 4);
    return;
  }
  if (m.type === 'REQUEST') {
    w.int(ZabPacketType.REQUEST).long(-1n).int(16 + m.data.length).long(m.sessionId).int(m.xid).buffer(m.data).int(0);
    w.patchInt(frameAt, w.length - frameAt - 4);
    return;
  }
  const { type, zxid } = headOf(m);
  w.int(type).long(zxid);
  const dataAt = w.length;
  w.int(0);
  switch (m.type) {
    case 'FOLLOWERINFO':
    case 'OBSERVERINFO':
      w.long(BigInt(m.sid)).int(m.protocolVersion).long(0n);
      break;
    case 'LEADERINFO':
      w.int(m.protocolVersion);
      break;
    case 'ACKEPOCH':
      w.int(m.currentEpoch);
      break;
    case 'DIFF':
    case 'TRUNC':
      w.long(m.committedZxid);
      break;
    case 'SNAP':
      w.raw(m.snapshot);
      break;
    case 'NEWLEADER':
      if (m.config === undefined) w.patchInt(dataAt, -1);
      else w.raw(new TextEncoder().encode(m.config));
      break;
    case 'COMMITANDACTIVATE':
      w.long(BigInt(m.leader));
      break;
    case 'INFORMANDACTIVATE':
      // ZooKeeper: the designated leader's sid, then the txn as INFORM carries it
      w.long(BigInt(m.leader));
      txnData(w, m.txn);
      break;
    case 'PING':
      w.vector(m.touches, (ww, t) => ww.long(t.sessionId).int(t.timeoutMs));
      break;
    case 'REVALIDATE':
      w.long(m.sessionId).int(m.timeoutMs).bool(m.valid);
      break;
    case 'SYNC':
      w.long(m.sessionId).int(m.xid);
      break;
    default:
      // COMMIT, ACK, UPTODATE, PROPOSAL, INFORM, REQUEST: written above
      throw new Error(`unreachable: ${type}`);
  }
  if (!(m.type === 'NEWLEADER' && m.config === undefined)) w.patchInt(dataAt, w.length - dataAt - 4);
  w.int(0); // authinfo: an empty vector
  w.patchInt(frameAt, w.length - frameAt - 4);
}

/** the frame's size for the common messages (a writer of this size never grows) */
function frameBytesOf(m: ZabMessage): number {
  switch (m.type) {
    case 'PROPOSAL':
    case 'INFORM':
    case 'INFORMANDACTIVATE':
      return 48 + m.txn.data.length;
    case 'REQUEST':
      return 40 + m.data.length;
    case 'SNAP':
      return 24 + m.snapshot.length;
    default:
      return 64;
  }
}

/** One quorum-port frame (length prefix included) in a buffer of its own. */
export function encodeZabMessage(m: ZabMessage): Uint8Array {
  const w = new JuteWriter(frameBytesOf(m));
  writeZabFrame(w, m);
  return w.take();
}

function need(r: JuteReader, end: number, n: number, type: number): void {
  if (r.offset + n > end) throw new JuteFormatError(`packet type ${type}: data of ${end - r.offset} bytes, needs ${n} more`);
}

/**
 * Decode one quorum-port frame payload (without its length prefix). The payload may be a view
 * into a socket's chunk (FrameSplitter): only the bytes a message keeps (a txn's, a snapshot's)
 * are copied, once; the rest is read in place. A REQUEST's data is a view into the payload
 * (the leader decodes it at once; keeping it would keep the chunk).
 */
export function decodeZabMessage(payload: Uint8Array): ZabMessage {
  const r = new JuteReader(payload);
  const type = r.int();
  const zxid = r.long();
  const dataLen = r.int();
  if (dataLen < -1) throw new JuteFormatError(`negative buffer length ${dataLen}`);
  const dataAt = r.offset;
  const end = dataLen === -1 ? dataAt : dataAt + dataLen;
  if (end > payload.length) throw new JuteFormatError(`packet type ${type}: data of ${dataLen} bytes in ${payload.length - dataAt}`);
  // the data's fields are read with the payload's reader, never past the data's end
  const d = (n: number): JuteReader => {
    if (dataLen === -1) throw new JuteFormatError(`packet type ${type} without data`);
    need(r, end, n, type);
    return r;
  };
  const bytesIn = (): Uint8Array => {
    const n = d(4).int();
    if (n === -1) return new Uint8Array(0);
    if (n < -1) throw new JuteFormatError(`negative buffer length ${n}`);
    need(r, end, n, type);
    const out = payload.slice(r.offset, r.offset + n);
    r.offset += n;
    return out;
  };
  // a REQUEST's bytes are decoded by the leader at once and dropped: a view will do
  const bytesView = (): Uint8Array => {
    const n = d(4).int();
    if (n === -1) return new Uint8Array(0);
    if (n < -1) throw new JuteFormatError(`negative buffer length ${n}`);
    need(r, end, n, type);
    const out = payload.subarray(r.offset, r.offset + n);
    r.offset += n;
    return out;
  };
  const txn = (): TxnRecord => {
    const sessionId = d(12).long();
    const xid = r.int();
    return { zxid, sessionId, xid, data: bytesIn() };
  };
  let m: ZabMessage;
  switch (type) {
    case ZabPacketType.COMMIT:
      m = { type: 'COMMIT', zxid };
      break;
    case ZabPacketType.ACK:
      m = { type: 'ACK', zxid };
      break;
    case ZabPacketType.PROPOSAL:
      m = { type: 'PROPOSAL', txn: txn() };
      break;
    case ZabPacketType.REQUEST: {
      const sessionId = d(12).long();
      const xid = r.int();
      m = { type: 'REQUEST', sessionId, xid, data: bytesView() };
      break;
    }
    case ZabPacketType.FOLLOWERINFO:
    case ZabPacketType.OBSERVERINFO: {
      const sid = Number(d(12).long());
      const protocolVersion = r.int();
      m = { type: type === ZabPacketType.FOLLOWERINFO ? 'FOLLOWERINFO' : 'OBSERVERINFO', sid, acceptedEpoch: zxidEpoch(zxid), protocolVersion };
      break;
    }
    case ZabPacketType.LEADERINFO:
      m = { type: 'LEADERINFO', newEpoch: zxidEpoch(zxid), protocolVersion: d(4).int() };
      break;
    case ZabPacketType.ACKEPOCH:
      m = { type: 'ACKEPOCH', lastZxid: zxid, currentEpoch: d(4).int() };
      break;
    case ZabPacketType.DIFF:
      m = { type: 'DIFF', zxid, committedZxid: d(8).long() };
      break;
    case ZabPacketType.TRUNC:
      m = { type: 'TRUNC', zxid, committedZxid: d(8).long() };
      break;
    case ZabPacketType.SNAP:
      m = { type: 'SNAP', zxid, snapshot: payload.slice(dataAt, end) };
      break;
    case ZabPacketType.INFORM:
      m = { type: 'INFORM', txn: txn() };
      break;
    case ZabPacketType.NEWLEADER:
      m = dataLen <= 0 ? { type: 'NEWLEADER', zxid } : { type: 'NEWLEADER', zxid, config: new TextDecoder().decode(payload.subarray(dataAt, end)) };
      break;
    case ZabPacketType.COMMITANDACTIVATE:
      m = { type: 'COMMITANDACTIVATE', zxid, leader: Number(d(8).long()) };
      break;
    case ZabPacketType.INFORMANDACTIVATE: {
      const leader = Number(d(8).long());
      m = { type: 'INFORMANDACTIVATE', leader, txn: txn() };
      break;
    }
    case ZabPacketType.UPTODATE:
      m = { type: 'UPTODATE', zxid };
      break;
    case ZabPacketType.PING: {
      const touches: SessionTouch[] = [];
      if (dataLen !== -1) {
        const count = d(4).int();
        if (count < -1 || count * 12 > end - r.offset) throw new JuteFormatError(`PING with ${count} touches in ${end - r.offset} bytes`);
        for (let i = 0; i < count; i++) touches.push({ sessionId: r.long(), timeoutMs: r.int() });
      }
      m = { type: 'PING', round: Number(zxid), touches };
      break;
    }
    case ZabPacketType.REVALIDATE: {
      const sessionId = d(13).long();
      m = { type: 'REVALIDATE', sessionId, timeoutMs: r.int(), valid: r.bool() };
      break;
    }
    case ZabPacketType.SYNC: {
      const sessionId = d(12).long();
      m = { type: 'SYNC', zxid, sessionId, xid: r.int() };
      break;
    }
    default:
      throw new JuteFormatError(`unknown quorum packet type ${type}`);
  }
  // authinfo (unused between ZooLab peers): its entries are read and dropped
  r.offset = end;
  const ids = r.int();
  if (ids < -1 || ids > r.remaining) throw new JuteFormatError(`authinfo of ${ids} entries in ${r.remaining} bytes`);
  for (let i = 0; i < ids; i++) {
    r.ustring();
    r.ustring();
  }
  return m;
}

/**
 * Splits a byte stream into int32-length-prefixed frames. Feed chunks as they arrive; complete
 * payloads come out in order. A length above `frameBytesMax` or below 0 throws (close the
 * connection).
 *
 * A payload is a view into the chunk it arrived in (no copy) when it arrived whole, else into one
 * copy of the chunks it spans: read it before the next push, and copy what must be kept
 * (decodeZabMessage does). A socket's chunks are never reused by Node, so views stay valid.
 */
export class FrameSplitter {
  /** the start of a frame not complete yet, as received */
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  constructor(private readonly frameBytesMax: number) {}

  push(chunk: Uint8Array): Uint8Array[] {
    let data = chunk;
    if (this.chunks.length > 0) {
      if (chunk.length > 0) {
        this.chunks.push(chunk);
        this.buffered += chunk.length;
      }
      // wait for the whole frame before copying anything (a SNAP may span many chunks)
      if (this.buffered < 4) return [];
      if (this.buffered < 4 + this.lengthOf(this.head())) return [];
      data = this.concat();
      this.chunks = [];
      this.buffered = 0;
    }
    const out: Uint8Array[] = [];
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let o = 0;
    while (data.length - o >= 4) {
      const len = this.lengthOf(view.getInt32(o));
      if (data.length - o < 4 + len) break;
      out.push(data.subarray(o + 4, o + 4 + len));
      o += 4 + len;
    }
    if (o < data.length) {
      this.chunks = [data.subarray(o)];
      this.buffered = data.length - o;
    }
    return out;
  }

  private lengthOf(len: number): number {
    if (len < 0 || len > this.frameBytesMax) throw new JuteFormatError(`frame of ${len} bytes (max ${this.frameBytesMax})`);
    return len;
  }

  /** the int32 at the start of what is buffered (at least 4 bytes) */
  private head(): number {
    let first = this.chunks[0] as Uint8Array;
    if (first.length < 4) {
      first = this.concat();
      this.chunks = [first];
    }
    return new DataView(first.buffer, first.byteOffset, 4).getInt32(0);
  }

  private concat(): Uint8Array {
    const all = new Uint8Array(this.buffered);
    let o = 0;
    for (const c of this.chunks) {
      all.set(c, o);
      o += c.length;
    }
    return all;
  }
}
