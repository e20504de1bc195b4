/**
 * The values ZAB moves around: replicated txns (opaque bytes tagged with their zxid and the
 * originating session + xid), peer messages on the quorum port, and persistence operations.
 * Pure data, no behaviour.
 */
import type { SessionId, Zxid } from '../common/ids';
import type { Sid } from './quorum';

/** One replicated transaction. `data` is opaque to ZAB (the server's serialized TxnHeader + txn). */
export interface TxnRecord {
  readonly zxid: Zxid;
  /** originating client session (0n when none), for tracing and for matching the reply */
  readonly sessionId: SessionId;
  readonly xid: number;
  readonly data: Uint8Array;
}

export interface SessionTouch {
  readonly sessionId: SessionId;
  readonly timeoutMs: number;
}

/** ZooKeeper's protocol version in LearnerInfo / LEADERINFO. */
export const ZAB_PROTOCOL_VERSION = 0x10000;

/** QuorumPacket types, with ZooKeeper's numbers (wire.ts uses them on the wire). */
export const ZabPacketType = {
  REQUEST: 1,
  PROPOSAL: 2,
  ACK: 3,
  COMMIT: 4,
  PING: 5,
  REVALIDATE: 6,
  SYNC: 7,
  INFORM: 8,
  COMMITANDACTIVATE: 9,
  NEWLEADER: 10,
  FOLLOWERINFO: 11,
  UPTODATE: 12,
  DIFF: 13,
  TRUNC: 14,
  SNAP: 15,
  OBSERVERINFO: 16,
  LEADERINFO: 17,
  ACKEPOCH: 18,
  INFORMANDACTIVATE: 19,
} as const;

/**
 * Messages between a leader and its learners. One TCP connection per learner, opened by the
 * learner; per-connection FIFO; everything in flight is lost when it drops.
 */
export type ZabMessage =
  /** learner → leader, first message on a connection. zxid on the wire = acceptedEpoch << 32 */
  | { readonly type: 'FOLLOWERINFO' | 'OBSERVERINFO'; readonly sid: Sid; readonly acceptedEpoch: number; readonly protocolVersion: number }
  /** leader → learner: the epoch this leader will establish */
  | { readonly type: 'LEADERINFO'; readonly newEpoch: number; readonly protocolVersion: number }
  /** learner → leader: currentEpoch (-1 when it had already accepted newEpoch) and last logged zxid */
  | { readonly type: 'ACKEPOCH'; readonly currentEpoch: number; readonly lastZxid: Zxid }
  /** leader → learner: your log up to zxid is part of my history, and everything up to
   * committedZxid of it is committed (the rest waits for COMMIT); missing txns follow */
  | { readonly type: 'DIFF'; readonly zxid: Zxid; readonly committedZxid: Zxid }
  /** leader → learner: drop every logged txn after zxid (and roll state back to it); then as DIFF */
  | { readonly type: 'TRUNC'; readonly zxid: Zxid; readonly committedZxid: Zxid }
  /** leader → learner: replace your state with this snapshot taken at zxid; later txns follow */
  | { readonly type: 'SNAP'; readonly zxid: Zxid; readonly snapshot: Uint8Array }
  | { readonly type: 'PROPOSAL'; readonly txn: TxnRecord }
  | { readonly type: 'COMMIT'; readonly zxid: Zxid }
  /** leader → observer: a committed txn with its data (observers do not ACK) */
  | { readonly type: 'INFORM'; readonly txn: TxnRecord }
  /** leader → follower: commit this reconfig txn and switch to its membership; `leader` is the
   * designated leader of the new membership (ZooKeeper's COMMITANDACTIVATE) */
  | { readonly type: 'COMMITANDACTIVATE'; readonly zxid: Zxid; readonly leader: Sid }
  /** leader → observer: a committed reconfig txn with its data, as INFORM, plus the designated leader */
  | { readonly type: 'INFORMANDACTIVATE'; readonly txn: TxnRecord; readonly leader: Sid }
  /** leader → learner: zxid = newEpoch << 32; ack it once everything before it is durable.
   * `config`: the leader's membership text (/zookeeper/config), as ZooKeeper sends it */
  | { readonly type: 'NEWLEADER'; readonly zxid: Zxid; readonly config?: string }
  /** leader → learner: sync is over, serve clients */
  | { readonly type: 'UPTODATE'; readonly zxid: Zxid }
  /** learner → leader: durable up to zxid (a PROPOSAL, or NEWLEADER's zxid) */
  | { readonly type: 'ACK'; readonly zxid: Zxid }
  /** learner → leader: a client write to prep and propose */
  | { readonly type: 'REQUEST'; readonly sessionId: SessionId; readonly xid: number; readonly data: Uint8Array }
  /** both ways: leader heartbeat carrying a round number; the learner echoes the round with the
   * sessions its clients touched since its last reply */
  | { readonly type: 'PING'; readonly round: number; readonly touches: readonly SessionTouch[] }
  /** learner → leader: {sessionId, timeoutMs}; leader → learner: {sessionId, valid} */
  | { readonly type: 'REVALIDATE'; readonly sessionId: SessionId; readonly timeoutMs: number; readonly valid: boolean }
  /** learner → leader: a client's sync (zxid ignored); leader → learner: answer, every txn up to
   * zxid was committed before it and has been sent ahead of it on this connection */
  | { readonly type: 'SYNC'; readonly sessionId: SessionId; readonly xid: number; readonly zxid: Zxid };

export type ZabMessageType = ZabMessage['type'];

/**
 * What the shell must make durable, in the order issued. `persisted(seq)` reports that every
 * op with a seq up to and including it is durable (one fsync may cover many).
 */
export type PersistOp =
  /** append to the txn log */
  | { readonly kind: 'append'; readonly txn: TxnRecord }
  /** drop every logged txn with a zxid above `zxid`; if the state machine has applied beyond
   * it, rebuild the state machine from snapshot + log up to `zxid` before the next effect */
  | { readonly kind: 'truncate'; readonly zxid: Zxid }
  /** install a snapshot received from the leader: the state machine becomes exactly this
   * snapshot (before the next effect), the log restarts after `zxid` */
  | { readonly kind: 'snapshot'; readonly zxid: Zxid; readonly snapshot: Uint8Array }
  /** dataDir/version-2/acceptedEpoch */
  | { readonly kind: 'acceptedEpoch'; readonly epoch: number }
  /** dataDir/version-2/currentEpoch */
  | { readonly kind: 'currentEpoch'; readonly epoch: number };
