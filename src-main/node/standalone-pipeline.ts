/**
 * The request pipeline of a standalone server: the pure ServerCore wired to real sockets,
 * a real txn log and real time.
 *
 *   frames ─► jute decode ─► core.openConnection / core.request ─► effects, in order:
 *     connect-response / reply / notification ─► encode ─► that connection's socket
 *     log   ─► txn log append (sync, page cache) ─► group-commit fsync ─► core.logged(zxid)
 *     close ─► end the socket after what was written to it
 *
 * Group commit: at most one fsync is in flight; txns appended meanwhile ride on the next one,
 * so a burst of writes costs one fsync per batch, not one per txn. The first fsync of a burst
 * waits for the rest of the current event-loop turn (every readable socket read), and the
 * txn log writes the whole batch in one write just before it. Recovery on start: newest
 * valid snapshot + replay of the txn log after it (storage/recover); a fresh dataDir gets an
 * initial snapshot so its logs are never without one (ZOOKEEPER-3056). Snapshots follow
 * ZooKeeper's snapCount rule and are fuzzy, walked and written a few ms per event-loop turn
 * while requests go on (sliced-snapshot.ts); autopurge keeps autopurge.snapRetainCount of them.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { hex } from '../common/ids';
import type { TraceSink } from '../common/trace';
import { JuteWriter, decodeTxnEntry, writeTxnEntry } from '../jute/index';
import { ServerCore } from '../server/server-core';
import type { ServerEffect } from '../server/types';
import { DEFAULT_PREALLOC_BYTES, recover, SnapshotPolicy } from '../storage/index';
import type { Recovered } from '../storage/index';
import { DataTree } from '../tree/data-tree';
import type { ClientConnection, ConnectionHandler } from './client-listener';
import { applyClientEffect, feedClientFrame, type ClientTable } from './client-frames';
import { preallocBytesFrom } from './config';
import { FsDisk } from './fs-disk';
import type { ServerStatus } from './four-letter-words';
import type { PipelineDeps, RequestPipeline } from './pipeline';
import { traceWritesOf } from './trace-out';
import { ReadThrottle } from './read-throttle';
import { containerOptions, coreDetails } from './core-details';
import { sessionSecret } from './session-secret';
import { md5, saslServerSettings } from './jaas';
import { SlicedSnapshots } from './sliced-snapshot';
import { autopurge, scheduleAutopurge } from './autopurge';

export interface StandaloneDeps extends PipelineDeps {
  trace: TraceSink;
  env?: NodeJS.ProcessEnv;
}

function sha1(bytes: Uint8Array): Uint8Array {
  return createHash('sha1').update(bytes).digest();
}

export async function createStandalonePipeline(deps: StandaloneDeps): Promise<RequestPipeline> {
  const { cfg, log } = deps;
  const sys = cfg.systemProperties;
  // SASL DIGEST-MD5 users from the JAAS file (jaas.ts); a broken file stops the server, as ZooKeeper
  const { notes: saslNotes, ...saslOptions } = saslServerSettings(sys);
  for (const n of saslNotes) log.info(n);
  const fsyncWarnMs = Number(sys.get('zookeeper.fsync.warningthresholdms') ?? '1000');
  const disk = new FsDisk({
    forceSync: cfg.forceSync,
    onFsync: (path, ms) => {
      if (ms > fsyncWarnMs) log.warn(`fsync of ${path} took ${Math.round(ms)} ms (above zookeeper.fsync.warningthresholdms=${fsyncWarnMs})`);
    },
  });
  const layout = { snapDir: join(cfg.dataDir, 'version-2'), logDir: join(cfg.dataLogDir, 'version-2') };
  const rec: Recovered = await recover(disk, layout, { trustEmptySnapshot: sys.get('zookeeper.snapshot.trust.empty') === 'true', preallocBytes: preallocBytesFrom(sys, DEFAULT_PREALLOC_BYTES), asyncWrites: true });
  for (const n of rec.notes) log.info(`recovery: ${n}`);
  const tree = rec.snapshot ? DataTree.fromSnapshot(rec.snapshot) : new DataTree();
  for (const t of rec.txns) tree.applyTxn(decodeTxnEntry(t.bytes));
  log.info(
    `recovered zxid ${hex(tree.lastProcessedZxid)} from ${rec.snapshotName ?? 'no snapshot'} + ${rec.txns.length} logged txn(s); ${tree.nodeCount} znodes, ${tree.sessions.size} session(s)`,
  );
  // a fresh dataDir gets its initial snapshot while the server starts listening; no txn is
  // written to the log (groupCommit waits) before it is durable
  let initialSnapshot: Promise<unknown> | null = rec.snapshot === null ? rec.snapshots.save(tree.exportSnapshot()) : null;

  const core = new ServerCore(
    {
      clock: { nowMs: () => Date.now() },
      random: (n) => randomBytes(n),
      digestSha1: sha1,
      md5,
      trace: deps.trace,
      tracing: traceWritesOf(deps, deps.traceWrites),
      serverId: deps.myid ?? 0,
    },
    {
      tickTimeMs: cfg.tickTimeMs,
      minSessionTimeoutMs: cfg.minSessionTimeoutMs,
      maxSessionTimeoutMs: cfg.maxSessionTimeoutMs,
      superDigest: sys.get('zookeeper.DigestAuthenticationProvider.superDigest'),
      extendedTypesEnabled: cfg.extendedTypesEnabled,
      skipAcl: sys.get('zookeeper.skipACL') === 'yes',
      ...containerOptions(sys),
      tree,
      commitMode: 'standalone',
      // reconfigEnabled on a standalone server: reconfig answers UNIMPLEMENTED, as ZooKeeper's
      ...(cfg.reconfigEnabled
        ? { reconfig: { enabled: true, standaloneEnabled: cfg.standaloneEnabled, lastSeen: () => cfg.membership, inProgress: () => false, quorumSynced: () => false } }
        : {}),
      sessionSecret: sessionSecret(cfg, deps.env ?? process.env),
      ...saslOptions,
    },
  );
  const txnLog = rec.log;
  const snapshots = rec.snapshots;
  const policy = new SnapshotPolicy({ snapCount: cfg.snapCount, randomInt: (bound) => randomInt(Math.max(1, bound)) });

  const conns = new Map<number, ClientConnection>();
  const handshaken = new Set<number>();
  const clients: ClientTable = { conns, handshaken };
  /** fsyncs in flight: a batch written while one runs starts its own (the kernel lets them
   * overlap; each covers everything written before it began) instead of waiting a whole fsync
   * for the running one to end. TxnLog.sync resolves them in order. */
  let syncing = 0;
  const syncsInFlightMax = 2;
  let syncAgain = false;
  let failed: Error | null = null;
  let stopped = false;

  const fatal = (what: string, e: unknown): void => {
    if (failed) return;
    failed = e instanceof Error ? e : new Error(String(e));
    // a server that cannot make txns durable must not acknowledge more: stop, as ZooKeeper does
    log.error(`${what}: ${failed.message}; exiting`);
    process.exitCode = 1;
    process.kill(process.pid, 'SIGTERM');
  };

  if (initialSnapshot !== null) {
    initialSnapshot = initialSnapshot.then(
      (name) => {
        log.info(`saved initial snapshot ${String(name)}`);
        initialSnapshot = null;
      },
      (e: unknown) => fatal('initial snapshot failed', e),
    );
  }
  let waitingForInitialSnapshot = false;

  /** snapCount snapshots: fuzzy, walked and written in slices between requests (sliced-snapshot.ts) */
  const sliced = new SlicedSnapshots({
    snapshots,
    defer: (fn) => setImmediate(fn),
    nowMs: () => performance.now(),
    saved: (s) => {
      deps.trace.emit({ t: Date.now(), kind: 'snapshot.taken', server: deps.myid ?? 0, zxid: hex(s.zxid) });
      log.info(`snapshot ${s.name} saved (${s.nodeCount} znodes, ${Math.round(s.ms)} ms while serving)`);
      if (cfg.autopurgePurgeIntervalHours > 0) runAutopurge();
    },
    failed: (e) => log.warn(`snapshot failed: ${e.message}`),
  });
  // the log's file removal waits for its writes in flight; a snapshot being taken is a temp file
  // purge does not see (and newer than any it removes)
  const runAutopurge = (): void => {
    if (stopped || failed) return;
    try {
      autopurge(txnLog, snapshots, cfg.autopurgeSnapRetainCount, (m) => log.info(m));
    } catch (e) {
      log.warn(`autopurge failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  let stopAutopurge = (): void => {};
  const takeSnapshot = (): void => {
    if (sliced.inProgress !== null || initialSnapshot !== null || stopped || failed) return;
    txnLog.roll();
    sliced.start(tree);
  };

  const groupCommit = (): void => {
    if (initialSnapshot !== null) {
      if (!waitingForInitialSnapshot) {
        waitingForInitialSnapshot = true;
        void initialSnapshot.then(() => {
          waitingForInitialSnapshot = false;
          if (!failed && !stopped) groupCommit();
        });
      }
      return;
    }
    if (syncing >= syncsInFlightMax) {
      syncAgain = true;
      return;
    }
    syncing += 1;
    txnLog.sync().then(
      (upTo) => {
        syncing -= 1;
        if (stopped) return;
        core.logged(upTo);
        pump();
        if (syncAgain) {
          syncAgain = false;
          groupCommit();
        }
      },
      (e: unknown) => fatal('txn log fsync failed', e),
    );
  };

  // the fsync starts once this turn's sockets have all been read (setImmediate runs after the
  // poll phase), so the writes of every client that sent meanwhile share it
  let commitScheduled = false;
  const scheduleCommit = (): void => {
    if (commitScheduled) return;
    commitScheduled = true;
    setImmediate(() => {
      commitScheduled = false;
      groupCommit();
    });
  };

  const txnScratch = new JuteWriter(4096);
  const apply = (e: ServerEffect): void => {
    if (applyClientEffect(e, clients)) return;
    switch (e.kind) {
      case 'log': {
        if (failed) return;
        // one scratch writer for every batch: appendBatch copies the bytes into its framed write
        // before it returns (the snapshot policy below only reads their lengths)
        txnScratch.reset();
        const batch = e.entries.map((entry) => ({ zxid: entry.header.zxid, bytes: writeTxnEntry(txnScratch, entry) }));
        try {
          txnLog.appendBatch(batch);
        } catch (err) {
          fatal('txn log append failed', err);
          return;
        }
        let snap = false;
        for (const b of batch) snap = policy.txnLogged(b.bytes.length) || snap;
        scheduleCommit();
        if (snap) takeSnapshot();
        return;
      }
    }
  };

  // ZooKeeper's globalOutstandingLimit (1000): txns waiting for their fsync, server-wide
  const throttle = new ReadThrottle((id) => core.backlog(id), undefined, { backlog: () => core.pendingTxnCount, highWater: 1000 });

  function pump(): void {
    // each round applies what the core produced; bounded so a bug cannot spin forever
    for (let round = 0; round < 10_000; round += 1) {
      const effects = core.takeEffects();
      if (effects.length === 0) {
        throttle.afterPump();
        return;
      }
      for (const e of effects) apply(e);
    }
    log.error('effects never settled after 10000 rounds');
  }

  const handler: ConnectionHandler = {
    opened(conn) {
      conns.set(conn.id, conn);
    },
    frame(conn, payload) {
      if (failed || stopped) {
        conn.close('server shutting down');
        return;
      }
      feedClientFrame(core, clients, conn, payload, log);
      pump();
      throttle.afterFrames(conn);
    },
    closed(conn) {
      conns.delete(conn.id);
      throttle.forget(conn.id);
      if (handshaken.delete(conn.id)) {
        core.connectionClosed(conn.id);
        pump();
      }
    },
  };

  const tickEveryMs = Math.max(10, Math.min(1000, Math.floor(cfg.tickTimeMs / 2)));
  let timer: NodeJS.Timeout | null = null;

  return {
    handler,
    setTraceWrites(on) {
      core.tracing = traceWritesOf(deps, on);
    },
    status(): ServerStatus {
      const s = core.stats();
      return {
        mode: 'standalone',
        zxid: s.lastProcessedZxid,
        // ServerCore: upstream counts the root twice, add 1 for ZooKeeper's Node count
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
      timer = setInterval(() => {
        core.tick(Date.now());
        pump();
      }, tickEveryMs);
      stopAutopurge = scheduleAutopurge(cfg.autopurgePurgeIntervalHours, runAutopurge);
      deps.trace.emit({ t: Date.now(), kind: 'server.serving', server: deps.myid ?? 0, zxid: hex(tree.lastProcessedZxid), detail: { mode: 'standalone' } });
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      stopAutopurge();
      try {
        await initialSnapshot;
        await sliced.abandon();
        await txnLog.sync();
      } catch {
        // already reported by the group commit
      }
      disk.close();
    },
    resetStats: () => core.resetStats(),
    details: () => coreDetails(core, cfg.tickTimeMs),
    resetConnectionStats: () => core.resetConnectionStats(),
  };
}
