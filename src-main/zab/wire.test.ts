import { describe, expect, it } from 'vitest';
import { makeZxid } from '../common/ids';
import { PeerState, type Notification } from './election';
import type { ZabMessage } from './types';
import { JuteWriter } from '../jute/buffer';
import { FrameSplitter, decodeElectionHello, decodeNotification, decodeZabMessage, encodeElectionHello, encodeNotification, encodeZabMessage, writeZabFrame } from './wire';

const txn = { zxid: makeZxid(3, 7), sessionId: 0x1234_5678_9abcn, xid: 42, data: new Uint8Array([1, 2, 3, 255]) };
const samples: ZabMessage[] = [
  { type: 'FOLLOWERINFO', sid: 3, acceptedEpoch: 5, protocolVersion: 0x10000 },
  { type: 'OBSERVERINFO', sid: 9, acceptedEpoch: 0, protocolVersion: 0x10000 },
  { type: 'LEADERINFO', newEpoch: 6, protocolVersion: 0x10000 },
  { type: 'ACKEPOCH', currentEpoch: -1, lastZxid: makeZxid(5, 99) },
  { type: 'DIFF', zxid: makeZxid(5, 99), committedZxid: makeZxid(5, 98) },
  { type: 'TRUNC', zxid: makeZxid(4, 1), committedZxid: makeZxid(5, 98) },
  { type: 'SNAP', zxid: makeZxid(5, 98), snapshot: new Uint8Array([9, 8, 7]) },
  { type: 'PROPOSAL', txn },
  { type: 'INFORM', txn },
  { type: 'COMMIT', zxid: txn.zxid },
  { type: 'ACK', zxid: txn.zxid },
  { type: 'NEWLEADER', zxid: makeZxid(6, 0) },
  { type: 'NEWLEADER', zxid: makeZxid(6, 0), config: 'server.1=127.0.0.1:2881:3881:participant;0.0.0.0:2181\nversion=100000000' },
  { type: 'COMMITANDACTIVATE', zxid: txn.zxid, leader: 2 },
  { type: 'INFORMANDACTIVATE', txn, leader: 3 },
  { type: 'UPTODATE', zxid: makeZxid(6, 0) },
  { type: 'REQUEST', sessionId: -5n, xid: 1, data: new Uint8Array([0]) },
  { type: 'PING', round: 17, touches: [{ sessionId: 0x100n, timeoutMs: 30000 }, { sessionId: 0x200n, timeoutMs: 4000 }] },
  { type: 'PING', round: 18, touches: [] },
  { type: 'REVALIDATE', sessionId: 0x100n, timeoutMs: 30000, valid: true },
  { type: 'SYNC', sessionId: 0x100n, xid: 12, zxid: makeZxid(6, 3) },
];

/** samples' frames as ZooKeeper lays QuorumPackets out (plus ZooLab's int32 length prefix),
 * pinned: a faster encoder must write the same bytes */
const sampleFramesHex = [
  '000000280000000b000000050000000000000014000000000000000300010000000000000000000000000000',
  '0000002800000010000000000000000000000014000000000000000900010000000000000000000000000000',
  '00000018000000110000000600000000000000040001000000000000',
  '0000001800000012000000050000006300000004ffffffff00000000',
  '0000001c0000000d000000050000006300000008000000050000006200000000',
  '0000001c0000000e000000040000000100000008000000050000006200000000',
  '000000170000000f00000005000000620000000309080700000000',
  '00000028000000020000000300000007000000140000123456789abc0000002a00000004010203ff00000000',
  '00000028000000080000000300000007000000140000123456789abc0000002a00000004010203ff00000000',
  '00000014000000040000000300000007ffffffff00000000',
  '00000014000000030000000300000007ffffffff00000000',
  '000000140000000a0000000600000000ffffffff00000000',
  '0000005b0000000a0000000600000000000000477365727665722e313d3132372e302e302e313a323838313a333838313a7061727469636970616e743b302e302e302e303a323138310a76657273696f6e3d31303030303030303000000000',
  '0000001c00000009000000030000000700000008000000000000000200000000',
  '000000300000001300000003000000070000001c00000000000000030000123456789abc0000002a00000004010203ff00000000',
  '000000140000000c0000000600000000ffffffff00000000',
  '0000002500000001ffffffffffffffff00000011fffffffffffffffb00000001000000010000000000',
  '000000300000000500000000000000110000001c00000002000000000000010000007530000000000000020000000fa000000000',
  '00000018000000050000000000000012000000040000000000000000',
  '0000002100000006ffffffffffffffff0000000d0000000000000100000075300100000000',
  '000000200000000700000006000000030000000c00000000000001000000000c00000000',
];

const hexOf = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('zab wire', () => {
  it('quorum packets: every message type encodes to the same bytes as before', () => {
    expect(samples.map((m) => hexOf(encodeZabMessage(m)))).toEqual(sampleFramesHex);
  });

  it('quorum packets: frames written back to back into one writer are the frames one by one', () => {
    const w = new JuteWriter(16);
    for (const m of samples) writeZabFrame(w, m);
    expect(hexOf(w.take())).toEqual(sampleFramesHex.join(''));
  });

  it('quorum packets: a data field shorter than its message needs is refused', () => {
    // a PROPOSAL whose data length says 8 (it needs at least 16: session, xid, txn length)
    const bad = encodeZabMessage({ type: 'PROPOSAL', txn: { zxid: 1n, sessionId: 2n, xid: 3, data: new Uint8Array(0) } });
    const payload = bad.slice(4);
    new DataView(payload.buffer).setInt32(12, 8);
    expect(() => decodeZabMessage(payload)).toThrow(/packet type 2/);
    // authinfo claiming more entries than bytes
    const commit = encodeZabMessage({ type: 'COMMIT', zxid: 1n }).slice(4);
    new DataView(commit.buffer).setInt32(16, 1000);
    expect(() => decodeZabMessage(commit)).toThrow(/authinfo/);
  });

  it('quorum packets: a decoded txn owns its bytes (the frame may be a view into a reused buffer)', () => {
    const frame = encodeZabMessage({ type: 'PROPOSAL', txn });
    const [payload] = new FrameSplitter(1 << 20).push(frame);
    const m = decodeZabMessage(payload as Uint8Array);
    frame.fill(0);
    expect(m).toEqual({ type: 'PROPOSAL', txn });
  });

  it('quorum packets: every message type survives encode → decode', () => {
    for (const m of samples) {
      const frame = encodeZabMessage(m);
      const [payload] = new FrameSplitter(1 << 20).push(frame);
      expect(decodeZabMessage(payload as Uint8Array)).toEqual(m);
    }
  });

  it('frame splitter: a stream split at every byte yields the same messages', () => {
    const stream = samples.map(encodeZabMessage);
    const all = new Uint8Array(stream.reduce((n, f) => n + f.length, 0));
    let o = 0;
    for (const f of stream) {
      all.set(f, o);
      o += f.length;
    }
    for (let cut = 0; cut <= all.length; cut++) {
      const s = new FrameSplitter(1 << 20);
      const got = [...s.push(all.subarray(0, cut)), ...s.push(all.subarray(cut))].map(decodeZabMessage);
      expect(got).toEqual(samples);
    }
  });

  it('frame splitter: an oversized length is refused', () => {
    expect(() => new FrameSplitter(10).push(new Uint8Array([0, 0, 0, 11]))).toThrow(/frame of 11 bytes/);
  });

  it('election: notification (version 2) round-trips; legacy 28-byte form decodes', () => {
    const n: Notification = { state: PeerState.FOLLOWING, leader: 3, zxid: makeZxid(2, 5), electionEpoch: 7, peerEpoch: 2, version: 2 };
    const [payload] = new FrameSplitter(1 << 19).push(encodeNotification(n));
    expect(decodeNotification(payload as Uint8Array)).toEqual(n);
    const legacy = (payload as Uint8Array).subarray(0, 28);
    expect(decodeNotification(legacy)).toEqual({ ...n, peerEpoch: 2, version: 0 });
    // with the sender's membership text (ZooKeeper 3.5+ config field)
    const withConfig: Notification = { ...n, config: 'server.1=127.0.0.1:2881:3881:participant;0.0.0.0:2181\nversion=100000000' };
    const [p2] = new FrameSplitter(1 << 19).push(encodeNotification(withConfig));
    expect(decodeNotification(p2 as Uint8Array)).toEqual(withConfig);
  });

  it('election: hello carries sid and address', () => {
    const [payload] = new FrameSplitter(1 << 19).push(encodeElectionHello({ sid: 4, address: '127.0.0.1:3888' }));
    expect(decodeElectionHello(payload as Uint8Array)).toEqual({ sid: 4, address: '127.0.0.1:3888' });
  });
});
