/**
 * A quorum member's persistence: ZAB's `persist` effects (src-main/zab/README.md, step 3) carried
 * out over the txn log, the snapshots and the epoch files, in the order issued, with
 * `persisted(seq)` reported once every op up to seq is durable.
 *
 * - append: into the log at once (TxnLog.appendBatch, memory only); a run of appends shares one
 *   TxnLog.sync, started after the rest of this event-loop turn (`defer`), so every proposal
 *   that arrived meanwhile shares it. Up to two such syncs are in flight: appends that arrive
 *   while one runs start their own instead of waiting a whole fsync (the kernel overlaps them;
 *   TxnLog.sync resolves each only after the ones before it).
 * - truncate (TRUNC) and snapshot (SNAP): the log and the tree change at once (ZAB's next effect
 *   may read the tree, or append); their durability is an op like the epoch files: it waits for
 *   every sync before it and runs alone, and the appends after it wait for it.
 * - The log's writes run off the event loop (TxnLog asyncWrites): a sync resolves once its
 *   entries have landed and are durable; a cut or a removal of log files waits on the disk for
 *   the writes started before it and holds back the ones after it, so a write in flight never
 *   lands over a TRUNC's cut (see quorum-persist.test.ts).
 */
import { hex, type Zxid } from '../common/ids';
import { decodeTxnEntry } from '../jute/index';
import { decodeSnapshot, writeEpochFile } from '../storage/index';
import type { Disk, SnapshotPolicy, SnapshotStore, TxnLog } from '../storage/index';
import { DataTree } from '../tree/data-tree';
import type { PersistOp } from '../zab/types';
import { autopurge } from './autopurge';
import { SlicedSnapshots, type SnapshotTaken } from './sliced-snapshot';

export interface QuorumPersistDeps {
  disk: Disk;
  /** where the epoch files go (dataDir/version-2) */
  snapDir: string;
  txnLog: TxnLog;
  snapshots: SnapshotStore;
  /** snapCount: when to roll the log and take a snapshot */
  policy: SnapshotPolicy;
  /** the tree ZAB's commits are applied to, as it is now */
  tree: () => DataTree;
  /** TRUNC rolled the tree back (rebuilt from snapshot + log), or SNAP installed the leader's */
  replaceTree: (tree: DataTree, why: 'truncate' | 'snapshot') => void;
  /** every op up to seq is durable: feed ZAB `persisted(seq)` */
  persisted: (seq: number) => void;
  /** persisting failed: stop the server (no retry can tell what reached the disk); called once */
  failed: (e: Error) => void;
  /** a TRUNC cut the log after zxid (for the trace) */
  truncated: (zxid: Zxid) => void;
  info: (message: string) => void;
  warn: (message: string) => void;
  /** runs `fn` once the current event-loop turn's input is read (setImmediate); also paces snapshot slices */
  defer: (fn: () => void) => void;
  /** a monotonic clock in ms (performance.now), for the snapshot slices' length */
  nowMs: () => number;
  /** a snapCount snapshot is durable (for the trace) */
  snapshotTaken?: (taken: SnapshotTaken) => void;
  /** autopurge.snapRetainCount when autopurge is on: purge() after each snapCount snapshot saved */
  autopurgeSnapRetainCount?: number;
  /** tests: a slice's length (ms) and the nodes encoded between clock reads (sliced-snapshot.ts) */
  snapshotSliceMs?: number;
  snapshotStepNodes?: number;
}

/** seq null: an op of ours (autopurge), not a ZAB persist effect: nothing to report */
type Job = { seq: number | null; run: (() => Promise<void>) | null };

const SYNCS_IN_FLIGHT_MAX = 2;

export class QuorumPersistence {
  private readonly jobs: Job[] = [];
  private syncsInFlight = 0;
  private runningOp = false;
  /** the op running (or the last one): stop() lets it end, e.g. a TRUNC's cut and its fsync */
  private opDone: Promise<void> = Promise.resolve();
  private scheduled = false;
  private stopped = false;
  private broken = false;
  /** snapCount snapshots: fuzzy, taken in slices while ZAB's traffic goes on */
  private readonly sliced: SlicedSnapshots;

  constructor(private readonly deps: QuorumPersistDeps) {
    this.sliced = new SlicedSnapshots({
      snapshots: deps.snapshots,
      defer: deps.defer,
      nowMs: deps.nowMs,
      ...(deps.snapshotSliceMs !== undefined ? { sliceMs: deps.snapshotSliceMs } : {}),
      ...(deps.snapshotStepNodes !== undefined ? { stepNodes: deps.snapshotStepNodes } : {}),
      saved: (t) => {
        deps.info(`snapshot ${t.name} saved (${t.nodeCount} znodes, ${Math.round(t.ms)} ms while serving)`);
        deps.snapshotTaken?.(t);
        if (deps.autopurgeSnapRetainCount !== undefined) this.purge(deps.autopurgeSnapRetainCount);
      },
      failed: (e) => deps.warn(`snapshot failed: ${e.message}`),
    });
  }

  /** The zxid of the snapCount snapshot being taken, or null. */
  get snapshotInProgress(): Zxid | null {
    return this.sliced.inProgress;
  }

  /**
   * Carries out one `persist` effect now (log and tree); its durability follows in order. Never
   * throws: a failure (the log unusable after a failed write) goes to `failed`, once, and every
   * op after it is ignored (the server is stopping).
   */
  persist(seq: number, op: PersistOp): void {
    if (this.broken) return;
    try {
      this.apply(seq, op);
    } catch (e) {
      this.fail(e);
    }
  }

  private apply(seq: number, op: PersistOp): void {
    const { txnLog, snapshots } = this.deps;
    switch (op.kind) {
      case 'append': {
        txnLog.appendBatch([{ zxid: op.txn.zxid, bytes: op.txn.data }]);
        this.jobs.push({ seq, run: null });
        // a fuzzy snapshot named by the last applied zxid (<= this one: commits trail appends);
        // the log rolled now keeps every txn after it. One at a time, as standalone's
        if (this.deps.policy.txnLogged(op.txn.data.length) && this.sliced.inProgress === null) {
          txnLog.roll();
          this.sliced.start(this.deps.tree());
        }
        break;
      }
      case 'acceptedEpoch':
      case 'currentEpoch': {
        const name = op.kind;
        const epoch = op.epoch;
        this.jobs.push({ seq, run: () => writeEpochFile(this.deps.disk, this.deps.snapDir, name, epoch) });
        break;
      }
      case 'truncate': {
        // a snapshot being taken may have walked txns the cut removes (or be named after one):
        // give it up before anything else; one already renamed is removed below if after zxid
        const abandoned = this.sliced.abandon();
        // the log as TxnLog shows it is cut now (its disk once the writes in flight have landed)
        const cut = txnLog.truncateAfter(op.zxid);
        const gone = snapshots.removeAfter(op.zxid);
        // a failure is reported when the op runs (not as an unhandled rejection before it)
        cut.catch(() => {});
        gone.catch(() => {});
        if (this.deps.tree().lastProcessedZxid > op.zxid) this.deps.replaceTree(this.rebuildTo(op.zxid), 'truncate');
        this.deps.truncated(op.zxid);
        this.jobs.push({ seq, run: async () => void (await Promise.all([cut, gone, abandoned])) });
        break;
      }
      case 'snapshot': {
        const data = decodeSnapshot(op.snapshot, op.zxid, `SNAP ${hex(op.zxid)} from the leader`);
        // the tree being walked is about to be replaced by the leader's: give that snapshot up
        const abandoned = this.sliced.abandon();
        this.deps.replaceTree(DataTree.fromSnapshot(data), 'snapshot');
        const cut = txnLog.lastZxid > op.zxid ? txnLog.truncateAfter(op.zxid) : Promise.resolve(0);
        // a snapshot of ours after the leader's would be loaded first at a restart, over a log
        // that now holds the leader's history
        const gone = snapshots.removeAfter(op.zxid);
        cut.catch(() => {}); // reported when the op runs
        gone.catch(() => {});
        txnLog.roll();
        this.jobs.push({
          seq,
          run: async () => {
            await Promise.all([cut, gone, abandoned]);
            // the leader's bytes as they came (decodeSnapshot checked them): no second encode of the tree
            await snapshots.saveEncoded(op.zxid, op.snapshot);
            // log files wholly covered by the snapshot would leave a gap before the next txns
            txnLog.removeFilesBefore(op.zxid);
          },
        });
        break;
      }
    }
    this.schedule();
  }

  /**
   * autopurge (autopurge.ts) as an op: it runs alone, after every sync and op queued before it
   * (a TRUNC's cut, a SNAP's save) and before those after it, so it never races the log's cuts
   * or rolls; it keeps the file being appended (TxnLog.removeFilesBefore) and cannot see a
   * snapshot being taken (a temp file, newer than any it removes).
   */
  purge(snapRetainCount: number): void {
    if (this.broken || this.stopped) return;
    this.jobs.push({
      seq: null,
      run: async () => {
        try {
          autopurge(this.deps.txnLog, this.deps.snapshots, snapRetainCount, this.deps.info);
        } catch (e) {
          // old files left behind are harmless: not a reason to stop the server
          this.deps.warn(`autopurge failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      },
    });
    this.schedule();
  }

  /**
   * Starts no more syncs or ops; resolves once the op running has ended and every write in
   * flight has landed (with any cut waiting for them) and is durable.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    // a snapshot being taken is given up (its temp file removed): the next start recovers from
    // the previous one and the log after it, which the roll kept
    await this.sliced.abandon();
    await this.opDone;
    await this.deps.txnLog.sync();
  }

  // the fsync waits for the rest of this event-loop turn, so every proposal (and ack) that
  // arrived meanwhile shares it (like the standalone group commit)
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.deps.defer(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private fail(e: unknown): void {
    if (this.broken) return;
    this.broken = true;
    void this.sliced.abandon();
    this.deps.failed(e instanceof Error ? e : new Error(String(e)));
  }

  private drain(): void {
    const { jobs, deps } = this;
    while (jobs.length > 0 && !this.stopped && !this.broken && !this.runningOp) {
      if ((jobs[0] as Job).run === null) {
        if (this.syncsInFlight >= SYNCS_IN_FLIGHT_MAX) return; // a sync's end drains again
        let last = -1;
        let k = 0;
        while (k < jobs.length && (jobs[k] as Job).run === null) last = (jobs[k++] as Job).seq as number;
        jobs.splice(0, k);
        this.syncsInFlight += 1;
        deps.txnLog.sync().then(
          () => {
            this.syncsInFlight -= 1;
            if (this.stopped) return;
            deps.persisted(last);
            this.drain();
          },
          (e: unknown) => this.fail(e),
        );
        continue;
      }
      if (this.syncsInFlight > 0) return; // the op waits for the appends before it
      const job = jobs.shift() as Job;
      this.runningOp = true;
      this.opDone = deps.txnLog
        .sync()
        .then(() => (job.run as () => Promise<void>)())
        .then(
          () => {
            this.runningOp = false;
            if (this.stopped) return;
            if (job.seq !== null) deps.persisted(job.seq);
            this.drain();
          },
          (e: unknown) => this.fail(e),
        );
    }
  }

  /** The tree from the newest snapshot at or before zxid plus the log up to zxid. */
  private rebuildTo(zxid: Zxid): DataTree {
    const { snapshots, txnLog } = this.deps;
    let t = new DataTree();
    let from = 0n;
    for (const info of snapshots.list()) {
      if (info.zxid > zxid) continue;
      try {
        t = DataTree.fromSnapshot(snapshots.load(info));
        from = info.zxid;
        break;
      } catch {
        // corrupt: try an older one
      }
    }
    for (const l of txnLog.read(from + 1n)) {
      if (l.zxid > zxid) break;
      t.applyTxn(decodeTxnEntry(l.bytes));
    }
    return t;
  }
}
