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

function dataOf(build: (w: JuteWriter) => void): Uint8Array {
  const w = new JuteWriter(64);
  build(w);
  return w.bytes();
}

export function encodeZabMessage(m: ZabMessage): Uint8Array {
  let type: number;
  let zxid: bigint;
  let data: Uint8Array | null = null;
  switch (m.type) {
    case 'FOLLOWERINFO':
    case 'OBSERVERINFO':
      type = m.type === 'FOLLOWERINFO' ? ZabPacketType.FOLLOWERINFO : ZabPacketType.OBSERVERINFO;
      zxid = makeZxid(m.acceptedEpoch, 0);
      data = dataOf((w) => w.long(BigInt(m.sid)).int(m.protocolVersion).long(0n));
      break;
    case 'LEADERINFO':
      type = ZabPacketType.LEADERINFO;
      zxid = makeZxid(m.newEpoch, 0);
      data = dataOf((w) => w.int(m.protocolVersion));
      break;
    case 'ACKEPOCH':
      type = ZabPacketType.ACKEPOCH;
      zxid = m.lastZxid;
      data = dataOf((w) => w.int(m.currentEpoch));
      break;
    case 'DIFF':
    case 'TRUNC':
      type = m.type === 'DIFF' ? ZabPacketType.DIFF : ZabPacketType.TRUNC;
      zxid = m.zxid;
      data = dataOf((w) => w.long(m.committedZxid));
      break;
    case 'SNAP':
      type = ZabPacketType.SNAP;
      zxid = m.zxid;
      data = m.snapshot;
      break;
    case 'PROPOSAL':
    case 'INFORM':
      type = m.type === 'PROPOSAL' ? ZabPacketType.PROPOSAL : ZabPacketType.INFORM;
      zxid = m.txn.zxid;
      data = dataOf((w) => txnData(w, m.txn));
      break;
    case 'COMMIT':
    case 'ACK':
    case 'UPTODATE':
      type = ZabPacketType[m.type];
      zxid = m.zxid;
      break;
    case 'NEWLEADER':
      type = ZabPacketType.NEWLEADER;
      zxid = m.zxid;
      if (m.config !== undefined) data = new TextEncoder().encode(m.config);
      break;
    case 'COMMITANDACTIVATE':
      type = ZabPacketType.COMMITANDACTIVATE;
      zxid = m.zxid;
      data = dataOf((w) => w.long(BigInt(m.leader)));
      break;
    case 'INFORMANDACTIVATE':
      // ZooKeeper: the designated leader's sid, then the txn as INFORM carries it
      type = ZabPacketType.INFORMANDACTIVATE;
      zxid = m.txn.zxid;
      data = dataOf((w) => {
        w.long(BigInt(m.leader));
        txnData(w, m.txn);
      });
      break;
    case 'REQUEST':
      type = ZabPacketType.REQUEST;
      zxid = -1n;
      data = dataOf((w) => w.long(m.sessionId).int(m.xid).buffer(m.data));
      break;
    case 'PING':
      type = ZabPacketType.PING;
      zxid = BigInt(m.round);
      data = dataOf((w) => w.vector(m.touches, (ww, t) => ww.long(t.sessionId).int(t.timeoutMs)));
      break;
    case 'REVALIDATE':
      type = ZabPacketType.REVALIDATE;
      zxid = -1n;
      data = dataOf((w) => w.long(m.sessionId).int(m.timeoutMs).bool(m.valid));
      break;
    case 'SYNC':
      type = ZabPacketType.SYNC;
      zxid = m.zxid;
      data = dataOf((w) => w.long(m.sessionId).int(m.xid));
      break;
  }
  return new JuteWriter(32 + (data?.length ?? 0)).int(type).long(zxid).buffer(data).int(0).frame();
}

/** Decode one quorum-port frame payload (without its length prefix). */
export function decodeZabMessage(payload: Uint8Array): ZabMessage {
  const r = new JuteReader(payload);
  const type = r.int();
  const zxid = r.long();
  const data = r.buffer();
  r.vector((rr) => ({ scheme: rr.string(), id: rr.string() })); // authinfo: unused between ZooLab peers
  const d = (): JuteReader => {
    if (data === null) throw new JuteFormatError(`packet type ${type} without data`);
    return new JuteReader(data);
  };
  const txn = (): TxnRecord => {
    const dr = d();
    return { zxid, sessionId: dr.long(), xid: dr.int(), data: dr.buffer() ?? new Uint8Array(0) };
  };
  switch (type) {
    case ZabPacketType.FOLLOWERINFO:
    case ZabPacketType.OBSERVERINFO: {
      const dr = d();
      const sid = Number(dr.long());
      const protocolVersion = dr.int();
      return { type: type === ZabPacketType.FOLLOWERINFO ? 'FOLLOWERINFO' : 'OBSERVERINFO', sid, acceptedEpoch: zxidEpoch(zxid), protocolVersion };
    }
    case ZabPacketType.LEADERINFO:
      return { type: 'LEADERINFO', newEpoch: zxidEpoch(zxid), protocolVersion: d().int() };
    case ZabPacketType.ACKEPOCH:
      return { type: 'ACKEPOCH', lastZxid: zxid, currentEpoch: d().int() };
    case ZabPacketType.DIFF:
      return { type: 'DIFF', zxid, committedZxid: d().long() };
    case ZabPacketType.TRUNC:
      return { type: 'TRUNC', zxid, committedZxid: d().long() };
    case ZabPacketType.SNAP:
      return { type: 'SNAP', zxid, snapshot: data ?? new Uint8Array(0) };
    case ZabPacketType.PROPOSAL:
      return { type: 'PROPOSAL', txn: txn() };
    case ZabPacketType.INFORM:
      return { type: 'INFORM', txn: txn() };
    case ZabPacketType.COMMIT:
      return { type: 'COMMIT', zxid };
    case ZabPacketType.ACK:
      return { type: 'ACK', zxid };
    case ZabPacketType.NEWLEADER:
      return data === null || data.length === 0 ? { type: 'NEWLEADER', zxid } : { type: 'NEWLEADER', zxid, config: new TextDecoder().decode(data) };
    case ZabPacketType.COMMITANDACTIVATE:
      return { type: 'COMMITANDACTIVATE', zxid, leader: Number(d().long()) };
    case ZabPacketType.INFORMANDACTIVATE: {
      const dr = d();
      const leader = Number(dr.long());
      return { type: 'INFORMANDACTIVATE', leader, txn: { zxid, sessionId: dr.long(), xid: dr.int(), data: dr.buffer() ?? new Uint8Array(0) } };
    }
    case ZabPacketType.UPTODATE:
      return { type: 'UPTODATE', zxid };
    case ZabPacketType.REQUEST: {
      const dr = d();
      return { type: 'REQUEST', sessionId: dr.long(), xid: dr.int(), data: dr.buffer() ?? new Uint8Array(0) };
    }
    case ZabPacketType.PING: {
      const touches: SessionTouch[] = data === null ? [] : (new JuteReader(data).vector((rr) => ({ sessionId: rr.long(), timeoutMs: rr.int() })) ?? []);
      return { type: 'PING', round: Number(zxid), touches };
    }
    case ZabPacketType.REVALIDATE: {
      const dr = d();
      return { type: 'REVALIDATE', sessionId: dr.long(), timeoutMs: dr.int(), valid: dr.bool() };
    }
    case ZabPacketType.SYNC: {
      const dr = d();
      return { type: 'SYNC', zxid, sessionId: dr.long(), xid: dr.int() };
    }
    default:
      throw new JuteFormatError(`unknown quorum packet type ${type}`);
  }
}

/**
 * Splits a byte stream into int32-length-prefixed frames. Feed chunks as they arrive; complete
 * payloads come out in order. A length above `frameBytesMax` or below 0 throws (close the
 * connection).
 */
export class FrameSplitter {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  constructor(private readonly frameBytesMax: number) {}

  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.buffered < 4) return out;
      const head = this.peek(4);
      const len = new DataView(head.buffer, head.byteOffset, 4).getInt32(0);
      if (len < 0 || len > this.frameBytesMax) throw new JuteFormatError(`frame of ${len} bytes (max ${this.frameBytesMax})`);
      if (this.buffered < 4 + len) return out;
      const all = this.take(4 + len);
      out.push(all.subarray(4));
    }
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0] as Uint8Array;
    if (first.length >= n) return first.subarray(0, n);
    this.chunks = [this.concat()];
    return (this.chunks[0] as Uint8Array).subarray(0, n);
  }

  private take(n: number): Uint8Array {
    const all = this.chunks.length === 1 ? (this.chunks[0] as Uint8Array) : this.concat();
    const frame = all.slice(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return frame;
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
