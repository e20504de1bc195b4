/**
 * The ServerCore's inputs (Env, options) and outputs (effects). The core is pure: time,
 * randomness, hashing and tracing come in through the Env; everything it wants done to the
 * outside world comes out as effects, in the order they must happen.
 */
import type { SessionId, Zxid } from '../common/ids';
import type { TraceSink } from '../common/trace';
import type { ConnectResponse, ReplyHeader, Response, TxnEntry, WatcherEvent } from '../jute/types';
import type { DataTree } from '../tree/data-tree';
import type { Membership } from '../common/membership';

/**
 * Dynamic reconfiguration as the leader's core sees it (ZooKeeper's reconfig in
 * PrepRequestProcessor). Absent: reconfig is disabled (RECONFIGDISABLED).
 */
export interface ReconfigSupport {
  /** zoo.cfg reconfigEnabled */
  readonly enabled: boolean;
  /** zoo.cfg standaloneEnabled: then a new config needs at least 2 participants */
  readonly standaloneEnabled: boolean;
  /** leader: the newest membership proposed or committed (ZooKeeper's lastSeenQuorumVerifier) */
  lastSeen(): Membership;
  /** leader: a proposed membership is not committed yet */
  inProgress(): boolean;
  /** leader: these voters include a quorum of (this leader +) followers connected and synced */
  quorumSynced(next: Membership): boolean;
}

export interface ServerEnv {
  clock: { nowMs(): number };
  random: (n: number) => Uint8Array;
  digestSha1: (bytes: Uint8Array) => Uint8Array;
  /** MD5 for SASL DIGEST-MD5 (opcode 102); without it SASL is answered as with no JAAS users */
  md5?: (bytes: Uint8Array) => Uint8Array;
  trace: TraceSink;
  /** false when nothing reads the trace: the per-request events (request received/replied,
   * read, txn applied, watch fired) are then not even built. Default true. */
  tracing?: boolean;
  /** myid; the top byte of this server's session ids (must be < 255: 0xff marks TTL nodes) */
  serverId: number;
}

export interface ServerCoreOptions {
  /** tickTime; default 3000 as ZooKeeper's code (zoo_sample.cfg uses 2000) */
  tickTimeMs?: number;
  /** default 2 × tickTime */
  minSessionTimeoutMs?: number;
  /** default 20 × tickTime */
  maxSessionTimeoutMs?: number;
  /** `super:<base64 sha1>`: a digest auth producing it adds the super id (bypasses ACLs) */
  superDigest?: string;
  /** SASL DIGEST-MD5 users (user → password) from the JAAS Server section; absent = no SASL */
  saslUsers?: ReadonlyMap<string, string>;
  /** zookeeper.superUser: this SASL user also gets the super id */
  saslSuperUser?: string;
  /** zookeeper.authProvider.N names SASLAuthenticationProvider: the `sasl` ACL scheme exists */
  saslAuthProvider?: boolean;
  /** zookeeper.extendedTypesEnabled: TTL nodes; otherwise createTTL → UNIMPLEMENTED */
  extendedTypesEnabled?: boolean;
  /** zookeeper.skipACL */
  skipAcl?: boolean;
  /**
   * Session passwords are SHA-1(secret ‖ session id). The secret must be the same on every
   * server of an ensemble AND across restarts, or clients that reconnect after a restart (or to
   * another server) are told their session expired. Default: a fixed secret, which makes
   * passwords as predictable as upstream's (java.util.Random seeded with the id).
   */
  sessionSecret?: Uint8Array;
  /** container/TTL reaper period (znode.container.checkIntervalMs), default 60000 */
  containerCheckIntervalMs?: number;
  /** znode.container.maxPerMinute, default 10000 */
  containerMaxPerMinute?: number;
  /** znode.container.maxNeverUsedIntervalMs, default 0 = never reap never-used containers */
  containerMaxNeverUsedIntervalMs?: number;
  /** the tree restored from snapshot + txn log (default: a fresh tree) */
  tree?: DataTree;
  /**
   * 'standalone' (default): `logged(zxid)` means durable, so the core commits and applies.
   * 'external': a quorum protocol decides; call `committed(zxid)`. (Roles other than
   * standalone always commit externally.)
   */
  commitMode?: 'standalone' | 'external';
  /**
   * The server's part in an ensemble, fixed for the life of this core: build a new ServerCore
   * (over the same tree) each time ZAB starts serving in a new role or epoch.
   * - 'standalone' (default): prep here, `log` effects, `logged()` commits.
   * - 'leader': prep here (also for learners' forwarded writes: `submitForwarded`), `propose`
   *   effects for ZAB, `applyCommitted` when ZAB commits; tracks and expires every session.
   * - 'learner' (follower or observer): writes, new sessions, syncs and resumes go to the
   *   leader as `forward` / `sync` / `revalidate` effects; `applyCommitted` applies what the
   *   leader committed and answers local clients.
   */
  role?: 'standalone' | 'leader' | 'learner';
  /** leader: the epoch being served; zxids are (epoch << 32) + 1, + 2, ... */
  epoch?: number;
  /**
   * hard bound on unanswered requests per connection (default 100 000); beyond it the connection
   * is closed. The shell should stop reading a socket long before (see ServerCore.backlog).
   */
  outstandingPerConnectionMax?: number;
  /** dynamic reconfiguration (op 16); absent = reconfigEnabled=false */
  reconfig?: ReconfigSupport;
}

/** What the shell must do, in order. */
export type ServerEffect =
  /** write a bare ConnectResponse (jute `encodeConnectResponseFrame`) */
  | { kind: 'connect-response'; connId: number; response: ConnectResponse }
  /** write ReplyHeader + body (`encodeReplyFrame(header, response)`; no body when err ≠ 0, except a SetSASLResponse) */
  | { kind: 'reply'; connId: number; header: ReplyHeader; response: Response | null }
  /** write a watch notification (`encodeNotificationFrame(zxid, event)`) */
  | { kind: 'notification'; connId: number; zxid: Zxid; event: WatcherEvent }
  /** append these txns to the txn log, fsync, then call `logged(last zxid)` */
  | { kind: 'log'; entries: TxnEntry[] }
  /** flush what was written to this connection, then close it */
  | { kind: 'close'; connId: number; reason: string }
  /** leader: feed ZAB `propose` with this txn (encodeTxnEntry), in the order given */
  | { kind: 'propose'; entry: TxnEntry }
  /** learner: feed ZAB `forward` (the leader gets it as a `request` effect → submitForwarded) */
  | { kind: 'forward'; sessionId: SessionId; cxid: number; data: Uint8Array }
  /** leader and learner: feed ZAB `sync`; its `synced` effect goes back through `synced()` */
  | { kind: 'sync'; sessionId: SessionId; cxid: number }
  /** learner: feed ZAB `revalidate`; its `revalidated` effect goes back through `revalidated()` */
  | { kind: 'revalidate'; sessionId: SessionId; timeoutMs: number };

export interface LatencyStats {
  minMs: number;
  avgMs: number;
  maxMs: number;
  count: number;
}

/** Everything `srvr`, `stat` and `mntr` print about the request side. */
export interface ServerStats {
  packetsReceived: number;
  packetsSent: number;
  latency: LatencyStats;
  outstandingRequests: number;
  aliveConnections: number;
  lastProcessedZxid: Zxid;
  /** upstream counts the root twice: add 1 to print ZooKeeper's `Node count` */
  znodeCount: number;
  watchCount: number;
  watchedPathCount: number;
  ephemeralsCount: number;
  approximateDataSize: number;
  sessionCount: number;
}

/** One line of `cons`. */
export interface ConnectionInfo {
  connId: number;
  remoteAddress: string;
  sessionId: SessionId;
  queued: number;
  received: number;
  sent: number;
  /** opcode name of the last request, e.g. "getData" */
  lastOp: string;
  establishedMs: number;
  sessionTimeoutMs: number;
  lastCxid: number;
  lastZxid: Zxid;
  lastResponseMs: number;
  lastLatencyMs: number;
  latency: LatencyStats;
}

/** `dump`: sessions with their expiry and ephemerals. */
export interface SessionDump {
  sessions: { id: SessionId; timeoutMs: number; expiresAtMs: number; connId: number | null; closing: boolean }[];
  ephemerals: Map<SessionId, string[]>;
}
