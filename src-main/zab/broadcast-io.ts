/**
 * What a `ZabPeer` (broadcast.ts) is built from and speaks: its config, the durable state it
 * recovers from, and its inputs and effects (their ordering rules: broadcast.ts).
 */
import type { SessionId, Zxid } from '../common/ids';
import type { TraceEvent } from '../common/trace';
import type { Membership } from '../common/membership';
import type { QuorumMaj, Sid } from './quorum';
import type { PersistOp, SessionTouch, TxnRecord, ZabMessage } from './types';

export interface ZabConfig {
  readonly myid: Sid;
  readonly quorum: QuorumMaj;
  /** ticks a learner may take to connect and sync; a leader must be established within it */
  readonly initLimitTicks: number;
  /** ticks a synced learner (or the leader's quorum) may stay silent */
  readonly syncLimitTicks: number;
  /** committed txns kept in memory for DIFF (ZooKeeper keeps 500); older learners get SNAP */
  readonly committedLogMax?: number;
  /** proposals in flight at the leader; more are refused (`dropped`) */
  readonly outstandingProposalsMax?: number;
  /** syncs waiting at the leader */
  readonly pendingSyncsMax?: number;
  /** false when nothing reads the trace: the per-txn events (log append, fsync, proposal, ack,
   * quorum, commit, forward) are not built. Role, election and sync events stay. Default true. */
  readonly tracing?: boolean;
  /** the membership (addresses and version) this server starts with; its voters/observers must
   * be `quorum`'s. Default: made up from `quorum`, version 0 */
  readonly membership?: Membership;
  /** whether a txn is a reconfig, and the membership it makes (default: ZooKeeper's txn format,
   * see reconfig.ts) */
  readonly reconfigOf?: (txn: TxnRecord) => Membership | null;
  /** zoo.cfg reconfigEnabled: a leader stamps a version-0 membership with its epoch (as
   * ZooKeeper does only then; without it /zookeeper/config keeps version=0). Default false */
  readonly reconfigEnabled?: boolean;
}

/** What the server recovered from disk at start (snapshot + txn log + epoch files). */
export interface ZabDurableState {
  readonly acceptedEpoch: number;
  readonly currentEpoch: number;
  /** the zxid just before `log`: the snapshot's zxid, or the txn before the first one passed
   * when only the tail of the log is given (0n for an empty data dir) */
  readonly snapshotZxid: Zxid;
  /** logged txns after snapshotZxid, ascending (at least every txn after appliedZxid) */
  readonly log: readonly TxnRecord[];
  /** the zxid the state machine reflects (ZooKeeper replays the whole log: the last logged) */
  readonly appliedZxid: Zxid;
}

export type ZabRole = 'leading' | 'following' | 'observing';

export type ZabInput = { readonly nowMs: number } & (
  | { readonly type: 'lead' }
  | { readonly type: 'follow'; readonly leader: Sid }
  | { readonly type: 'message'; readonly from: Sid; readonly msg: ZabMessage }
  | { readonly type: 'disconnected'; readonly peer: Sid }
  | { readonly type: 'tick' }
  /**
   * learner: the shell's prompt retry after the link to the leader failed while connecting (the
   * new leader may not be listening yet). Without it the retry waits for the next tick, which
   * adds up to a whole tickTime to every election. initLimit still bounds the attempts.
   */
  | { readonly type: 'retryConnect' }
  | { readonly type: 'persisted'; readonly seq: number }
  /** leader: propose a prepped txn; txn.zxid must be nextZxid() */
  | { readonly type: 'propose'; readonly txn: TxnRecord }
  /** learner: send a client write to the leader */
  | { readonly type: 'forward'; readonly sessionId: SessionId; readonly xid: number; readonly data: Uint8Array }
  /** a client's sync: answered with `synced` once everything committed before it is applied here
   * and the leader has confirmed it still leads a quorum */
  | { readonly type: 'sync'; readonly sessionId: SessionId; readonly xid: number }
  /** learner: a local client session showed life; reported in the next PING reply */
  | { readonly type: 'touch'; readonly sessionId: SessionId; readonly timeoutMs: number }
  /** learner: a client reconnected here with this session; ask the leader */
  | { readonly type: 'revalidate'; readonly sessionId: SessionId; readonly timeoutMs: number }
  /** leader: answer a `revalidate` effect */
  | { readonly type: 'revalidateReply'; readonly to: Sid; readonly sessionId: SessionId; readonly valid: boolean }
  /** stop this role without a reason from ZAB (shutdown, or the election was restarted) */
  | { readonly type: 'stop' }
  /** while LOOKING: the election saw a newer membership in a peer's notification; take it */
  | { readonly type: 'adopt'; readonly membership: Membership }
);

export type ZabEffect =
  | { readonly type: 'send'; readonly to: Sid; readonly msg: ZabMessage }
  /** close the quorum connection to peer (the shell reports nothing back for it) */
  | { readonly type: 'disconnect'; readonly peer: Sid }
  /** make `op` durable; report `persisted(seq)` when it is (ordered with earlier ops) */
  | { readonly type: 'persist'; readonly seq: number; readonly op: PersistOp }
  /** apply to the state machine (zxid order) and answer the client if it is connected here */
  | { readonly type: 'commit'; readonly txn: TxnRecord }
  /** send SNAP{zxid, serialized state machine} to `to`, in order with the other sends */
  | { readonly type: 'sendSnapshot'; readonly to: Sid; readonly zxid: Zxid }
  /** leader: a learner forwarded a client write; prep it and feed `propose` */
  | { readonly type: 'request'; readonly from: Sid; readonly sessionId: SessionId; readonly xid: number; readonly data: Uint8Array }
  /** leader: sessions a learner's clients touched (feed the session tracker) */
  | { readonly type: 'sessionTouches'; readonly from: Sid; readonly touches: readonly SessionTouch[] }
  /** leader: a learner asks whether a session is valid; answer with `revalidateReply` */
  | { readonly type: 'revalidate'; readonly from: Sid; readonly sessionId: SessionId; readonly timeoutMs: number }
  /** learner: the leader's answer to `revalidate` */
  | { readonly type: 'revalidated'; readonly sessionId: SessionId; readonly valid: boolean }
  /** a client's sync is done: reads after it see every txn up to zxid */
  | { readonly type: 'synced'; readonly sessionId: SessionId; readonly xid: number; readonly zxid: Zxid }
  /** a propose / forward / sync this role cannot take now; the client sees no answer from ZAB */
  | { readonly type: 'dropped'; readonly sessionId: SessionId; readonly xid: number; readonly reason: string }
  /** the membership changed (a reconfig committed, the leader stamped the first version, or a
   * learner took its leader's): update /zookeeper/config, the dynamic config file and the
   * peers; `leader` is the designated leader when a reconfig named one */
  | { readonly type: 'activated'; readonly membership: Membership; readonly leader: Sid | null }
  /** start serving clients in this role and epoch */
  | { readonly type: 'serving'; readonly role: ZabRole; readonly epoch: number; readonly leader: Sid }
  /** this role is over: stop serving clients and restart the election */
  | {
      readonly type: 'abandoned';
      readonly role: ZabRole;
      readonly reason: string;
      /** a reconfig designated this leader: lead (if it is me) or follow it, without an election */
      readonly next?: Sid;
      /** a reconfig removed this server from the ensemble: stop taking part */
      readonly removed?: boolean;
    }
  | { readonly type: 'trace'; readonly event: TraceEvent };
