import { describe, expect, it } from 'vitest';
import { makeZxid } from '../common/ids';
import { PeerState, type Notification } from './election';
import type { ZabMessage } from './types';
import { FrameSplitter, decodeElectionHello, decodeNotification, decodeZabMessage, encodeElectionHello, encodeNotification, encodeZabMessage } from './wire';

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

describe('zab wire', () => {
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
