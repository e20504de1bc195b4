/**
 * Fuzzy snapshots taken in slices while the server goes on serving, as ZooKeeper's snapshot
 * thread takes them "without stopping traffic"; used by the standalone server and by every
 * quorum member (leader, follower, observer).
 *
 * The tree is walked (DataTree.fuzzySnapshotNodes) and encoded in slices of at most `sliceMs`,
 * one per event-loop turn (`defer`: setImmediate, after that turn's sockets and fsync
 * completions), and written out as it is encoded (SnapshotStore.begin: ~1 MiB in memory at
 * most). The snapshot is named by the tree's last applied zxid when the walk starts; txns
 * applied during the walk may or may not show in it, and replaying the log after that zxid
 * (txns are idempotent) gives the right tree. The caller rolls the log when it starts one, so
 * the log after the zxid is kept. A tree of 165k znodes took ~0.8 s in one piece on the event
 * loop: a stall for every client (and, on a quorum member, for its ACKs or commits).
 *
 * abandon() gives the running snapshot up at whatever stage: a TRUNC or a SNAP makes it describe
 * a history that is gone, a server stopping does not wait for it. Nothing reaches its final
 * name after abandon() returns (one already renamed stays: its zxid tells the caller).
 */
import type { Zxid } from '../common/ids';
import { SnapshotEncoder } from '../storage/index';
import type { SnapshotSave, SnapshotStore } from '../storage/index';
import type { DataTree } from '../tree/data-tree';

/** a slice's share of one event-loop turn (ms), and the nodes encoded between clock reads */
export const SNAPSHOT_SLICE_MS = 4;
export const SNAPSHOT_STEP_NODES = 256;

export interface SnapshotTaken {
  name: string;
  zxid: Zxid;
  nodeCount: number;
  /** from start to durable, while serving */
  ms: number;
}

export interface SlicedSnapshotDeps {
  snapshots: SnapshotStore;
  /** runs `fn` on a later event-loop turn (setImmediate) */
  defer: (fn: () => void) => void;
  /** a monotonic clock in ms (performance.now) */
  nowMs: () => number;
  sliceMs?: number;
  stepNodes?: number;
  /** a snapshot is durable under its final name */
  saved: (taken: SnapshotTaken) => void;
  /** a snapshot failed (encoding or disk): nothing under its final name; the next one may work */
  failed: (e: Error) => void;
}

interface Run {
  readonly save: SnapshotSave;
  abandoned: boolean;
  /** the walk is over: done() is making the file durable */
  closing: boolean;
  /** resolves once the run touches the disk no more */
  readonly ended: Promise<void>;
  end: () => void;
}

export class SlicedSnapshots {
  private run: Run | null = null;

  constructor(private readonly deps: SlicedSnapshotDeps) {}

  /** The zxid of the snapshot being taken, or null. */
  get inProgress(): Zxid | null {
    return this.run === null ? null : this.run.save.zxid;
  }

  /**
   * Starts a snapshot of `tree` at its last applied zxid, its first slice on the next turn;
   * false (nothing started) while one is running.
   */
  start(tree: DataTree): boolean {
    if (this.run !== null) return false;
    const { deps } = this;
    const sliceMs = deps.sliceMs ?? SNAPSHOT_SLICE_MS;
    const stepNodes = deps.stepNodes ?? SNAPSHOT_STEP_NODES;
    const startedMs = deps.nowMs();
    const zxid = tree.lastProcessedZxid;
    const save = deps.snapshots.begin(zxid, tree.snapshotSessions(), tree.snapshotAcls(), tree.fuzzySnapshotNodes(zxid));
    let end = (): void => {};
    const ended = new Promise<void>((resolve) => (end = resolve));
    const run: Run = { save, abandoned: false, closing: false, ended, end };
    this.run = run;
    const finish = (): void => {
      if (this.run === run) this.run = null;
      run.end();
    };
    const slice = (): void => {
      if (run.abandoned) return; // abandon() removed the temp file and ended the run
      const until = deps.nowMs() + sliceMs;
      let more = true;
      try {
        do more = save.step(stepNodes);
        while (more && deps.nowMs() < until);
      } catch (e) {
        safely(() => save.abandon());
        finish();
        deps.failed(asError(e));
        return;
      }
      if (more) {
        deps.defer(slice);
        return;
      }
      run.closing = true;
      save.done().then(
        (name) => {
          finish();
          if (name !== null && !run.abandoned) deps.saved({ name, zxid, nodeCount: save.nodeCount, ms: deps.nowMs() - startedMs });
        },
        (e: unknown) => {
          finish();
          if (!run.abandoned) deps.failed(asError(e));
        },
      );
    };
    deps.defer(slice);
    return true;
  }

  /**
   * Gives up the running snapshot (if any): its temp file is removed and it never gets its final
   * name, unless done() renamed it already. A new one may start at once. Resolves once the
   * abandoned run touches the disk no more (a fsync in flight has ended).
   */
  abandon(): Promise<void> {
    const run = this.run;
    if (run === null) return Promise.resolve();
    this.run = null;
    run.abandoned = true;
    safely(() => run.save.abandon());
    if (!run.closing) run.end();
    return run.ended;
  }
}

const ALL_ZXIDS: Zxid = (1n << 63n) - 1n;

/**
 * The whole tree's snapshot bytes, now, in one piece (a leader's SNAP to a learner: one frame).
 * Encoded straight from the tree's walk: about half the time of exportSnapshot + encodeSnapshot
 * (no copy of every node's stat and ACL first; 200k znodes: ~0.5 s against ~1 s), still all of
 * it on the event loop.
 */
export function encodeTreeSnapshot(tree: DataTree): Uint8Array {
  const enc = new SnapshotEncoder(tree.snapshotSessions(), tree.snapshotAcls(), Number.MAX_SAFE_INTEGER);
  // every node, whatever its czxid (as exportSnapshot): nothing changes during this walk
  for (const n of tree.fuzzySnapshotNodes(ALL_ZXIDS)) enc.node(n);
  // the encoder is dropped: its last part is the whole file and nothing writes over it
  return enc.finish();
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** removing a temp file that is not there (or not removable) must not hide what went wrong first */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // the temp file stays; recovery removes leftover temp files
  }
}
