/**
 * A quorum member: the pure FastLeaderElection and ZabPeer cores (src-main/zab) driven over
 * real TCP links (peer-network.ts), a real txn log, epoch files and snapshots (src-main/storage),
 * and a real data tree that ZAB commits are applied to. The shell contract is
 * src-main/zab/README.md; effects are carried out in order, synchronously.
 *
 * Clients: every server serves them once ZAB says it is serving, through a ServerCore built
 * for that role and epoch over the same tree: the leader preps writes (its own clients' and the
 * ones learners forward) and proposes them; a learner forwards writes, syncs and session
 * resumes to the leader and answers its clients when the leader's commits arrive.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { hex } from '../common/ids';
import type { TraceEvent, TraceSink } from '../common/trace';
import { decodeTxnEntry, TxnEntryEncoder } from '../jute/index';
import { ServerCore } from '../server/server-core';
import type { ServerEffect } from '../server/types';
import { DEFAULT_PREALLOC_BYTES, recover, SnapshotPolicy } from '../storage/index';
import type { Recovered } from '../storage/index';
import { DataTree } from '../tree/data-tree';
import { FastLeaderElection } from '../zab/election';
import type { ElectionEffect, ElectionTimer } from '../zab/election';
import { ZabPeer } from '../zab/broadcast';
import type { ZabEffect, ZabInput } from '../zab/broadcast';
import { QuorumMaj } from '../zab/quorum';
import type { Sid } from '../zab/quorum';
import type { TxnRecord } from '../zab/types';
import type { ClientConnection, ConnectionHandler } from './client-listener';
import { sessionSecret } from './session-secret';
import { md5, saslServerSettings } from './jaas';
import { writeStdout } from './stdout-lines';
import { applyClientEffect, feedClientFrame, type ClientTable } from './client-frames';
import { preallocBytesFrom } from './config';
import { Membership } from '../common/membership';
import { writeDynamicConfig } from './dynamic-config';
import { FsDisk } from './fs-disk';
import { QuorumPersistence } from './quorum-persist';
import { scheduleAutopurge } from './autopurge';
import { encodeTreeSnapshot } from './sliced-snapshot';
import type { ServerStatus } from './four-letter-words';
import { ElectionNetwork, FaultTable, QuorumNetwork } from './peer-network';
import type { LinkRule, PeerAddress } from './peer-network';
import type { PipelineDeps, RequestPipeline } from './pipeline';
import { traceWritesOf } from './trace-out';
import { ReadThrottle } from './read-throttle';
import { containerOptions, coreDetails } from './core-details';

/** how soon a learner redials a leader that refused it while connecting (bounded by initLimit) */
const CONNECT_RETRY_MS = 25;

function sha1(bytes: Uint8Array): Uint8Array {
  return createHash('sha1').update(bytes).digest();
}

function recordOf(bytes: Uint8Array): TxnRecord {
  const e = decodeTxnEntry(bytes);
  return { zxid: e.header.zxid, sessionId: e.header.clientId, xid: e.header.cxid, data: bytes };
}

export interface QuorumDeps extends PipelineDeps {
  trace: TraceSink;
  env?: NodeJS.ProcessEnv;
}

export type QuorumPipeline = RequestPipeline;

/** ZAB's bound on a leader's proposals in flight; the read throttle keeps well below it (learners'
 * forwarded writes cannot be paused from here, so leave them room) */
const OUTSTANDING_PROPOSALS_MAX = 10_000;

/** `zookeeper.fastleader.finalizeWait` (ms) if set, else 50. */
export function electionFinalizeWaitMs(sys: ReadonlyMap<string, string>): number {
  const v = Number(sys.get('zookeeper.fastleader.finalizeWait'));
  return Number.isInteger(v) && v >= 0 && v <= 60_000 ? v : 50;
}

export async function createQuorumPipeline(deps: QuorumDeps): Promise<QuorumPipeline> {
  const { cfg, log } = deps;
  const myid = deps.myid as number;
  const env = deps.env ?? process.env;
  const sys = cfg.systemProperties;
  const disk = new FsDisk({ forceSync: cfg.forceSync });
  const layout = { snapDir: join(cfg.dataDir, 'version-2'), logDir: join(cfg.dataLogDir, 'version-2') };
  const rec: Recovered = await recover(disk, layout, {
    trustEmptySnapshot: sys.get('zookeeper.snapshot.trust.empty') === 'true',
    preallocBytes: preallocBytesFrom(sys, DEFAULT_PREALLOC_BYTES),
    // the log's writes (entries: one O_DSYNC pwrite per group commit; preallocated zeros) run on
    // the thread pool, not the event loop; TRUNC / SNAP still see the log cut at once (TxnLog.truncateAfter)
    asyncWrites: true,
  });
  for (const n of rec.notes) log.info(`recovery: ${n}`);
  let tree = rec.snapshot ? DataTree.fromSnapshot(rec.snapshot) : new DataTree();
  const records = rec.txns.map((t) => recordOf(t.bytes));
  for (const t of rec.txns) tree.applyTxn(decodeTxnEntry(t.bytes));
  if (rec.snapshot === null) await rec.snapshots.save(tree.exportSnapshot());
  const txnLog = rec.log;
  const snapshots = rec.snapshots;
  log.info(`recovered zxid ${hex(tree.lastProcessedZxid)} (${records.length} logged txn(s) after ${rec.snapshotName ?? 'the initial snapshot'}); acceptedEpoch ${rec.acceptedEpoch}, currentEpoch ${rec.currentEpoch}`);

  // the membership: zoo.cfg's (or its dynamic file's). A newer reconfig in the log (proposed,
  // or committed before its file was written) is ZAB's to settle: it takes effect with the next
  // established epoch (ZabPeer.lead / NEWLEADER)
  const membership: Membership = cfg.membership;
  const peers = new Map<Sid, PeerAddress>();
  const own = membership.members.get(myid);
  if (!own) throw new Error(`server ${myid} is not in the server.N lines`);
  const self: PeerAddress = { sid: myid, host: own.host, quorumPort: own.quorumPort, electionPort: own.electionPort };
  const addPeers = (m: Membership): void => {
    for (const s of m.members.values()) {
      if (s.id !== myid) peers.set(s.id, { sid: s.id, host: s.host, quorumPort: s.quorumPort, electionPort: s.electionPort });
    }
  };
  addPeers(membership);
  const voters = membership.voters;
  const observers = membership.observers;
  const quorum = new QuorumMaj(voters, observers);
  /** a reconfig removed this server: it keeps looking (to learn of a membership that adds it
   * back, from peers' notifications) but follows no leader until one does, as ZooKeeper */
  let removed = false;
  let rejoinTimer: NodeJS.Timeout | null = null;
  /**
   * /zookeeper/config shows the active membership (ZKDatabase.initConfigInZKDatabase). Its mtime
   * is 0 here where ZooKeeper puts each server's own clock: every member then holds the same
   * tree (a reconfig txn sets the txn's time, the same everywhere).
   */
  const initConfigNode = (m: Membership): void => {
    // never older than what the txns replayed into the tree say
    const shown = Membership.parse(new TextDecoder().decode(tree.getData('/zookeeper/config')?.data ?? new Uint8Array()));
    if (typeof shown !== 'string' && shown.members.size > 0 && shown.version >= m.version) return;
    tree.setConfigNode(new TextEncoder().encode(m.toText()), m.version, 0n);
  };
  initConfigNode(membership);

  /** the trace level: per-write events only while the supervisor asks for them */
  let traceWrites = traceWritesOf(deps, deps.traceWrites);
  const keep = 500;
  const base = records.length > keep ? (records[records.length - keep - 1] as TxnRecord).zxid : (rec.snapshot?.zxid ?? 0n);
  const zab = new ZabPeer(
    { myid, quorum, membership, reconfigEnabled: cfg.reconfigEnabled, initLimitTicks: cfg.initLimitTicks ?? 10, syncLimitTicks: cfg.syncLimitTicks ?? 5, outstandingProposalsMax: OUTSTANDING_PROPOSALS_MAX, tracing: traceWrites },
    {
      acceptedEpoch: rec.acceptedEpoch,
      currentEpoch: rec.currentEpoch,
      snapshotZxid: base,
      log: records.filter((r) => r.zxid > base),
      appliedZxid: records.length > 0 ? (records[records.length - 1] as TxnRecord).zxid : (rec.snapshot?.zxid ?? 0n),
    },
  );
  // ZooKeeper waits 200 ms for a better vote once a quorum agrees; on one host votes arrive in
  // well under a millisecond, and 50 ms keeps kill -9 of the leader → first write under 200 ms
  const election = new FastLeaderElection({ myid, quorum, membership, finalizeWaitMs: electionFinalizeWaitMs(sys) });
  const faults = new FaultTable();
  const secret = sessionSecret(cfg, env);
  // SASL DIGEST-MD5 users from the JAAS file (jaas.ts); a broken file stops the server, as ZooKeeper
  const { notes: saslNotes, ...saslOptions } = saslServerSettings(sys);
  for (const n of saslNotes) log.info(n);
  const policy = new SnapshotPolicy({ snapCount: cfg.snapCount, randomInt: (bound) => randomInt(Math.max(1, bound)) });

  let stopped = false;
  let retryTimer: NodeJS.Timeout | null = null;
  const emitTrace = (e: TraceEvent): void => deps.trace.emit(e);

  // ---- clients: served by the leader's ServerCore ---------------------------------------------
  let core: ServerCore | null = null;
  let coreRole: 'leading' | 'following' | 'observing' | null = null;
  const conns = new Map<number, ClientConnection>();
  const handshaken = new Set<number>();
  const clients: ClientTable = { conns, handshaken };
  /** session → the connection it was established on here (to close it when ZAB drops its request) */
  const sessionConn = new Map<bigint, number>();
  /** leader: session → the learner that last forwarded one of its requests (to drop that learner
   * when ZAB drops the request: its client must not see a later write of the session commit) */
  const forwardedBy = new Map<bigint, Sid>();
  /** leader: the core was retired because ZAB refused one of its proposals (its zxid sequence is
   * broken); a new one starts once every proposal ZAB took is applied (see maybeRebuild) */
  let rebuildEpoch: number | null = null;

  const closeClients = (reason: string): void => {
    for (const c of [...conns.values()]) c.close(reason);
    conns.clear();
    handshaken.clear();
    sessionConn.clear();
    forwardedBy.clear();
  };

  /** a leader's proposals' bytes, carved from shared blocks */
  const txnEncoder = new TxnEntryEncoder();

  const applyCore = (e: ServerEffect): void => {
    // the leader learns which connection holds a session (a move closes the old one)
    if (e.kind === 'connect-response' && e.response.sessionId !== 0n && conns.has(e.connId)) sessionConn.set(e.response.sessionId, e.connId);
    if (applyClientEffect(e, clients)) return;
    switch (e.kind) {
      case 'propose': {
        const entry = e.entry;
        const next = zab.nextZxid();
        if (next === null || next !== entry.header.zxid) {
          log.warn(`cannot propose ${hex(entry.header.zxid)} (ZAB expects ${next === null ? 'no proposal' : hex(next)}); closing client connections`);
          retireCore('leadership changed');
          return;
        }
        zabStep({ type: 'propose', nowMs: Date.now(), txn: { zxid: entry.header.zxid, sessionId: entry.header.clientId, xid: entry.header.cxid, data: txnEncoder.encode(entry) } });
        return;
      }
      case 'forward':
        zabStep({ type: 'forward', nowMs: Date.now(), sessionId: e.sessionId, xid: e.cxid, data: e.data });
        return;
      case 'sync':
        zabStep({ type: 'sync', nowMs: Date.now(), sessionId: e.sessionId, xid: e.cxid });
        return;
      case 'revalidate':
        zabStep({ type: 'revalidate', nowMs: Date.now(), sessionId: e.sessionId, timeoutMs: e.timeoutMs });
        return;
      case 'log':
        // standalone only; a quorum member's core proposes through ZAB
        log.error('unexpected log effect from a quorum member core');
        return;
    }
  };

  // a leader's prepped txns not yet committed = ZAB's proposals in flight: pausing clients well
  // before ZAB's bound means no proposal is ever refused for that reason
  const throttle = new ReadThrottle((id) => core?.backlog(id) ?? 0, undefined, {
    backlog: () => core?.pendingTxnCount ?? 0,
    highWater: Math.floor(OUTSTANDING_PROPOSALS_MAX / 4),
  });
  let pumping = false;
  /** Carries out the core's effects in order; not re-entered (effects produced meanwhile wait). */
  function pumpCore(): void {
    if (pumping) return;
    pumping = true;
    try {
      for (let round = 0; round < 10_000 && core; round += 1) {
        const c = core;
        const effects = c.takeEffects();
        if (effects.length === 0) break;
        // a core retired midway (ZAB refused a proposal) leaves the rest of its effects undone
        for (const e of effects) {
          if (core !== c) break;
          applyCore(e);
        }
      }
    } finally {
      pumping = false;
    }
    throttle.afterPump();
  }

  const startCore = (zabRole: 'leading' | 'following' | 'observing', epoch: number): void => {
    core = new ServerCore(
      { clock: { nowMs: () => Date.now() }, random: (n) => randomBytes(n), digestSha1: sha1, md5, trace: deps.trace, tracing: traceWrites, serverId: myid },
      {
        tickTimeMs: cfg.tickTimeMs,
        minSessionTimeoutMs: cfg.minSessionTimeoutMs,
        maxSessionTimeoutMs: cfg.maxSessionTimeoutMs,
        superDigest: sys.get('zookeeper.DigestAuthenticationProvider.superDigest'),
        extendedTypesEnabled: cfg.extendedTypesEnabled,
        skipAcl: sys.get('zookeeper.skipACL') === 'yes',
        ...containerOptions(sys),
        tree,
        role: zabRole === 'leading' ? 'leader' : 'learner',
        ...(zabRole === 'leading' ? { epoch } : {}),
        reconfig: {
          enabled: cfg.reconfigEnabled,
          standaloneEnabled: cfg.standaloneEnabled,
          lastSeen: () => zab.lastSeenMembership,
          inProgress: () => zab.reconfigInProgress,
          quorumSynced: (next) => zab.isQuorumSynced(next),
        },
        sessionSecret: secret,
        ...saslOptions,
      },
    );
    coreRole = zabRole;
  };

  const stopCore = (reason: string): void => {
    rebuildEpoch = null;
    if (!core) return;
    core = null;
    coreRole = null;
    closeClients(reason);
  };

  /**
   * The leader's core assigned a zxid that ZAB did not take: every later proposal of that core
   * would be refused too. Retire it (its clients reconnect) and drop the learners whose forwarded
   * requests it held; a new core starts over the same tree once ZAB's proposals are all applied.
   */
  const retireCore = (reason: string): void => {
    const role = coreRole;
    const epoch = zab.currentEpoch;
    const learners = new Set(forwardedBy.values());
    stopCore(reason);
    for (const sid of learners) dropLearner(sid, reason);
    if (role === 'leading' && servingRole === 'leading') {
      rebuildEpoch = epoch;
      log.warn(`leader core retired (${reason}); a new one starts when the proposals in flight are applied`);
      queueMicrotask(maybeRebuild);
    }
  };

  function maybeRebuild(): void {
    if (rebuildEpoch === null || core || stopped) return;
    const next = zab.nextZxid();
    if (servingRole !== 'leading' || next === null) {
      rebuildEpoch = null;
      return;
    }
    if (next !== tree.lastProcessedZxid + 1n) return; // proposals still in flight
    const epoch = rebuildEpoch;
    rebuildEpoch = null;
    startCore('leading', epoch);
    log.info(`leader core rebuilt at ${hex(tree.lastProcessedZxid)}`);
  }

  /** Close the quorum link of a learner and tell ZAB (the learner re-syncs; its clients reconnect). */
  const dropLearner = (sid: Sid, reason: string): void => {
    log.warn(`dropping learner ${sid}: ${reason}`);
    quorumNet.disconnect(sid);
    zabStep({ type: 'disconnected', nowMs: Date.now(), peer: sid });
  };

  // ---- persistence: ZAB's persist effects, in order, appends batched into one fsync ----------
  const persistence = new QuorumPersistence({
    disk,
    snapDir: layout.snapDir,
    txnLog,
    snapshots,
    policy,
    tree: () => tree,
    replaceTree: (t, why) => {
      tree = t;
      if (why === 'truncate') initConfigNode(zab.activeMembership);
    },
    persisted: (seq) => zabStep({ type: 'persisted', nowMs: Date.now(), seq }),
    failed: (e) => {
      log.error(`persisting failed: ${e.message}; exiting`);
      process.exitCode = 1;
      process.kill(process.pid, 'SIGTERM');
    },
    truncated: (zxid) => emitTrace({ t: Date.now(), kind: 'txnlog.truncated', server: myid, zxid: hex(zxid) }),
    info: (m) => log.info(m),
    warn: (m) => log.warn(m),
    defer: (fn) => setImmediate(fn),
    nowMs: () => performance.now(),
    snapshotTaken: (t) => emitTrace({ t: Date.now(), kind: 'snapshot.taken', server: myid, zxid: hex(t.zxid) }),
    ...(cfg.autopurgePurgeIntervalHours > 0 ? { autopurgeSnapRetainCount: cfg.autopurgeSnapRetainCount } : {}),
  });
  // autopurge at start-up and every purgeInterval hours (and after each snapshot, above), in
  // every role, through the persistence's serialized ops
  let stopAutopurge = (): void => {};

  // ---- election ------------------------------------------------------------------------------
  const timers = new Map<ElectionTimer, NodeJS.Timeout>();
  const electionNet = new ElectionNetwork({
    myid,
    self,
    peers,
    faults,
    log,
    onMessage: (from, n) => electionStep({ type: 'message', nowMs: Date.now(), from, msg: n }),
    // a joiner (not yet a member) is answered so it finds the leader (ports but the election one unknown yet)
    learnPeer: (sid, host, electionPort) => {
      if (sid === myid || peers.has(sid)) return peers.has(sid);
      peers.set(sid, { sid, host, quorumPort: 0, electionPort });
      return true;
    },
    // a voter known down is not waited for (the election decides without finalizeWait)
    onReachability: (peer, reachable) => electionStep({ type: 'reachability', nowMs: Date.now(), peer, reachable }),
  });
  const quorumNet = new QuorumNetwork({
    myid,
    self,
    peers,
    faults,
    log,
    onMessage: (from, msg) => zabStep({ type: 'message', nowMs: Date.now(), from, msg }),
    onDisconnected: (peer) => {
      zabStep({ type: 'disconnected', nowMs: Date.now(), peer });
      // a learner whose dial to a new leader was refused retries soon, not a tick later (the
      // core ignores this unless it is still connecting to that leader)
      if (retryTimer === null && !stopped) {
        retryTimer = setTimeout(() => {
          retryTimer = null;
          if (!stopped) zabStep({ type: 'retryConnect', nowMs: Date.now() });
        }, CONNECT_RETRY_MS);
      }
    },
    // step mode: the supervisor learns of each held message on our stdout (one JSON line)
    onHeld: (m) => writeStdout(`${JSON.stringify({ held: m })}\n`),
  });

  let servingRole: 'leading' | 'following' | 'observing' | null = null;
  let leaderId: Sid | null = null;

  function electionStep(input: Parameters<FastLeaderElection['step']>[0]): void {
    if (stopped) return;
    runElection(election.step(input));
  }

  function runElection(effects: ElectionEffect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'send':
          electionNet.send(e.to, e.msg);
          break;
        case 'setTimer': {
          const old = timers.get(e.timer);
          if (old) clearTimeout(old);
          const { timer, gen } = e;
          timers.set(
            timer,
            setTimeout(() => {
              timers.delete(timer);
              electionStep({ type: 'timer', nowMs: Date.now(), timer, gen });
            }, e.delayMs),
          );
          break;
        }
        case 'cancelTimer': {
          const t = timers.get(e.timer);
          if (t) clearTimeout(t);
          timers.delete(e.timer);
          break;
        }
        case 'decided':
          if (removed && !zab.activeMembership.members.has(myid)) {
            // not a member: look again a little later (peers' answers carry any newer membership)
            if (rejoinTimer === null) {
              rejoinTimer = setTimeout(() => {
                rejoinTimer = null;
                if (!stopped) startElection();
              }, Math.max(200, 5 * cfg.tickTimeMs));
            }
            break;
          }
          leaderId = e.leader;
          log.info(`election: ${e.role === 'leading' ? 'leading' : `${e.role} server ${e.leader}`} (peerEpoch ${e.peerEpoch}, zxid ${hex(e.zxid)})`);
          if (e.role === 'leading') zabStep({ type: 'lead', nowMs: Date.now() });
          else zabStep({ type: 'follow', nowMs: Date.now(), leader: e.leader });
          // after `lead`: learners parked while we elected are taken now, by the leader
          quorumNet.setAccepting(e.role === 'leading' ? 'accept' : 'refuse');
          break;
        case 'membership':
          log.info(`a peer's election notification carries membership ${hex(e.membership.version)}, newer than mine: taking it`);
          zabStep({ type: 'adopt', nowMs: Date.now(), membership: e.membership });
          break;
        case 'trace':
          emitTrace(e.event);
          break;
      }
    }
  }

  const startElection = (): void => {
    leaderId = null;
    quorumNet.setAccepting('park');
    electionStep({ type: 'start', nowMs: Date.now(), lastZxid: zab.lastLoggedZxid, currentEpoch: zab.currentEpoch });
  };

  // ---- ZAB -----------------------------------------------------------------------------------
  let inZab = false;
  const zabQueue: ZabInput[] = [];

  /** Inputs fed while effects are being carried out wait their turn (effects run to completion first). */
  function zabStep(input: ZabInput): void {
    if (stopped) return;
    zabQueue.push(input);
    if (inZab) return;
    inZab = true;
    try {
      for (let guard = 0; zabQueue.length > 0 && guard < 100_000; guard += 1) {
        const next = zabQueue.shift() as ZabInput;
        runZab(zab.step(next));
      }
    } finally {
      inZab = false;
    }
  }

  const applyCommitted = (txn: TxnRecord): void => {
    // the leader's own proposal: its core holds the entry it prepped (no decode per commit)
    if (core?.commitOwn(txn.zxid) === true) {
      pumpCore();
      return;
    }
    // a committed txn's bytes are never changed: the tree may keep views into them (a large
    // node value) instead of a copy each, when they have a buffer of their own (a follower's
    // PROPOSAL; not a leader's, carved from a shared block a view would keep alive)
    const d = txn.data;
    const entry = decodeTxnEntry(d, d.byteOffset === 0 && d.byteLength === d.buffer.byteLength);
    if (core) {
      core.applyCommitted(entry);
      pumpCore();
      return;
    }
    // sync replay before serving (or a retired leader core): the tree alone (a repeated txn changes nothing)
    if (entry.header.zxid > tree.lastProcessedZxid) tree.applyTxn(entry);
    if (rebuildEpoch !== null) maybeRebuild();
  };

  function runZab(effects: ZabEffect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'send':
          quorumNet.send(e.to, e.msg);
          break;
        case 'disconnect':
          quorumNet.disconnect(e.peer);
          break;
        case 'persist':
          persistence.persist(e.seq, e.op);
          break;
        case 'commit':
          applyCommitted(e.txn);
          break;
        case 'sendSnapshot':
          // the whole tree in one frame, encoded on the event loop (~0.5 s for 200k znodes; see README)
          quorumNet.send(e.to, { type: 'SNAP', zxid: e.zxid, snapshot: encodeTreeSnapshot(tree) });
          break;
        case 'revalidate': {
          const valid = core ? core.revalidateSession(e.sessionId, e.timeoutMs) : tree.sessions.has(e.sessionId);
          zabQueue.push({ type: 'revalidateReply', nowMs: Date.now(), to: e.from, sessionId: e.sessionId, valid });
          break;
        }
        case 'request':
          if (core && coreRole === 'leading') {
            forwardedBy.set(e.sessionId, e.from);
            try {
              core.submitForwarded(e.sessionId, e.xid, e.data, e.from);
            } catch (err) {
              log.warn(`server ${e.from} forwarded a request this leader cannot read (${(err as Error).message}); dropping that learner`);
              quorumNet.disconnect(e.from);
            }
            pumpCore();
          } else if (servingRole === 'leading') {
            // no core to take it (being rebuilt): its client must not see later writes commit
            dropLearner(e.from, `request of session ${hex(e.sessionId)} arrived while no leader core serves`);
          }
          break;
        case 'sessionTouches':
          if (core && coreRole === 'leading') core.touchSessions(e.touches);
          break;
        case 'revalidated':
          core?.revalidated(e.sessionId, e.valid);
          pumpCore();
          break;
        case 'synced':
          core?.synced(e.sessionId, e.xid, e.zxid);
          pumpCore();
          break;
        case 'dropped': {
          // the request will never be answered: close its client, which reconnects and retries
          log.warn(`ZAB dropped a request of session ${hex(e.sessionId)} (xid ${e.xid}): ${e.reason}; closing its connection`);
          const connId = sessionConn.get(e.sessionId);
          const conn = connId === undefined ? undefined : conns.get(connId);
          const learner = forwardedBy.get(e.sessionId);
          if (e.reason === 'not leading' || e.reason === 'too many outstanding proposals') {
            // a refused proposal: the core already counted its zxid (closes every client here)
            retireCore(`proposal of session ${hex(e.sessionId)} refused: ${e.reason}`);
          } else if (connId !== undefined && conn) {
            conns.delete(connId);
            if (handshaken.delete(connId) && core) core.connectionClosed(connId);
            conn.close(`request ${e.xid} dropped: ${e.reason}`);
            sessionConn.delete(e.sessionId);
            pumpCore();
          } else if (learner !== undefined && servingRole === 'leading') {
            forwardedBy.delete(e.sessionId);
            dropLearner(learner, `its request of session ${hex(e.sessionId)} was dropped: ${e.reason}`);
          }
          break;
        }
        case 'serving':
          servingRole = e.role;
          leaderId = e.leader;
          log.info(`serving clients as ${e.role} in epoch ${e.epoch} (leader ${e.leader})`);
          stopCore('role changed');
          startCore(e.role, e.epoch);
          // from now on this server reports the established leader to LOOKING peers, so servers
          // that start (or lose their link) later join it instead of looking forever
          electionStep({ type: 'established', nowMs: Date.now(), leader: e.leader, epoch: e.epoch });
          break;
        case 'abandoned': {
          servingRole = null;
          stopCore('leadership changed');
          quorumNet.disconnectAll();
          if (e.removed === true) {
            removed = true;
            log.info(`${e.role} abandoned: ${e.reason}; this server is no longer a member: it serves no clients until a reconfig adds it back`);
            queueMicrotask(() => !stopped && startElection());
            break;
          }
          const next = e.next;
          if (next !== undefined) {
            log.info(`${e.role} abandoned: ${e.reason}; going to leader ${next} without an election`);
            queueMicrotask(() => !stopped && electionStep({ type: 'designate', nowMs: Date.now(), leader: next, lastZxid: zab.lastLoggedZxid, currentEpoch: zab.currentEpoch }));
            break;
          }
          log.info(`${e.role} abandoned: ${e.reason}; electing again`);
          // after the current effects: the election restarts from the log as it is now
          queueMicrotask(() => !stopped && startElection());
          break;
        }
        case 'activated': {
          const m = e.membership;
          if (removed && m.members.has(myid)) {
            removed = false;
            log.info(`membership ${hex(m.version)} adds this server back`);
          }
          initConfigNode(m);
          addPeers(m);
          electionStep({ type: 'reconfig', nowMs: Date.now(), membership: m });
          log.info(`membership ${hex(m.version)} active: voters ${m.voters.join(',')}${m.observers.length > 0 ? `, observers ${m.observers.join(',')}` : ''}${e.leader !== null ? `, designated leader ${e.leader}` : ''}`);
          // a joiner keeps its own zoo.cfg until a membership includes it (a restart must find itself)
          if (cfg.reconfigEnabled && m.members.has(myid)) {
            try {
              const file = writeDynamicConfig(cfg.path, m);
              log.info(`wrote ${file} and pointed ${cfg.path} at it`);
            } catch (err) {
              log.warn(`could not write the dynamic config file: ${(err as Error).message}`);
            }
          }
          break;
        }
        case 'trace':
          emitTrace(e.event);
          break;
      }
    }
  }

  // ---- client connections ----------------------------------------------------------------------
  const handler: ConnectionHandler = {
    opened(conn) {
      conns.set(conn.id, conn);
    },
    frame(conn, payload) {
      const c = core;
      if (!c || stopped) {
        conns.delete(conn.id);
        conn.close(servingRole === null ? 'not serving: no leader yet' : `not serving: ${servingRole} of leader ${leaderId}, not yet in sync`);
        return;
      }
      feedClientFrame(c, clients, conn, payload, log);
      pumpCore();
      throttle.afterFrames(conn);
    },
    closed(conn) {
      conns.delete(conn.id);
      throttle.forget(conn.id);
      for (const [sid, id] of sessionConn) if (id === conn.id) sessionConn.delete(sid);
      if (handshaken.delete(conn.id) && core) {
        core.connectionClosed(conn.id);
        pumpCore();
      }
    },
  };

  let tickTimer: NodeJS.Timeout | null = null;
  let coreTimer: NodeJS.Timeout | null = null;

  return {
    handler,
    status(): ServerStatus {
      const c = core;
      if (!c) {
        return { mode: null, zxid: tree.lastProcessedZxid, nodeCount: tree.nodeCount + 1, outstanding: 0, watchCount: 0, ephemeralsCount: tree.ephemeralCount, approximateDataSize: 0 };
      }
      const s = c.stats();
      return {
        mode: coreRole === 'leading' ? 'leader' : coreRole === 'observing' ? 'observer' : 'follower',
        zxid: s.lastProcessedZxid,
        nodeCount: s.znodeCount + 1,
        outstanding: s.outstandingRequests,
        watchCount: s.watchCount,
        ephemeralsCount: s.ephemeralsCount,
        approximateDataSize: s.approximateDataSize,
        counters: {
          packetsReceived: s.packetsReceived,
          packetsSent: s.packetsSent,
          minLatencyMs: s.latency.minMs,
          avgLatencyMs: s.latency.avgMs,
          maxLatencyMs: s.latency.maxMs,
          connections: s.aliveConnections,
        },
      };
    },
    async start() {
      await electionNet.listen();
      await quorumNet.listen();
      log.info(`peers: election ${self.host}:${self.electionPort}, quorum ${self.host}:${self.quorumPort}; ${voters.length} voter(s), ${observers.length} observer(s)`);
      tickTimer = setInterval(() => {
        // a learner reports its clients' session activity; the leader's PINGs carry it on
        if (core && coreRole !== 'leading') {
          for (const t of core.takeSessionTouches()) zabStep({ type: 'touch', nowMs: Date.now(), sessionId: t.sessionId, timeoutMs: t.timeoutMs });
        }
        zabStep({ type: 'tick', nowMs: Date.now() });
      }, cfg.tickTimeMs);
      coreTimer = setInterval(() => {
        if (!core) return;
        core.tick(Date.now());
        pumpCore();
      }, Math.max(10, Math.min(1000, Math.floor(cfg.tickTimeMs / 2))));
      stopAutopurge = scheduleAutopurge(cfg.autopurgePurgeIntervalHours, () => persistence.purge(cfg.autopurgeSnapRetainCount));
      startElection();
    },
    async stop() {
      stopped = true;
      stopAutopurge();
      if (tickTimer) clearInterval(tickTimer);
      if (coreTimer) clearInterval(coreTimer);
      if (retryTimer) clearTimeout(retryTimer);
      if (rejoinTimer) clearTimeout(rejoinTimer);
      for (const t of timers.values()) clearTimeout(t);
      closeClients('server shutting down');
      await electionNet.close();
      await quorumNet.close();
      try {
        // every write in flight lands (and any cut waiting for them runs) before the files close
        await persistence.stop();
      } catch {
        // reported already
      }
      disk.close();
    },
    resetStats: () => core?.resetStats(),
    details: () => (core ? coreDetails(core, cfg.tickTimeMs) : null),
    membership: () => zab.activeMembership,
    resetConnectionStats: () => core?.resetConnectionStats(),
    setTraceWrites(on) {
      traceWrites = traceWritesOf(deps, on);
      zab.tracing = traceWrites;
      if (core) core.tracing = traceWrites;
    },
    control(message) {
      const m = message as { faults?: unknown; step?: unknown; release?: unknown };
      if (typeof m.step === 'boolean') {
        quorumNet.setHolding(m.step);
        log.info(`step mode ${m.step ? 'on: quorum messages wait to be released' : 'off'}`);
      }
      if (Array.isArray(m.release)) quorumNet.release(m.release.filter((x): x is number => Number.isInteger(x)));
      if (!Array.isArray(m.faults)) return;
      const rules = (m.faults as LinkRule[]).filter(
        (r) => r && (r.from === '*' || Number.isInteger(r.from)) && (r.to === '*' || Number.isInteger(r.to)),
      );
      faults.set(rules);
      quorumNet.applyFaults();
      log.info(`link faults: ${rules.length === 0 ? 'none' : JSON.stringify(rules)}`);
      emitTrace({ t: Date.now(), kind: rules.length === 0 ? 'fault.healed' : 'fault.set', server: myid, detail: { rules: JSON.stringify(rules) } });
    },
  };
}
