/**
 * autopurge (zoo.cfg autopurge.snapRetainCount, autopurge.purgeInterval in hours, 0 = off), as
 * ZooKeeper's DatadirCleanupManager in every mode: once at start-up, then every purgeInterval
 * hours; ZooLab also purges after each snapCount snapshot it saves, so the data dir stays bounded
 * between hours. Keeps the newest snapRetainCount (at least 3) valid snapshots and the txn logs
 * needed to replay from the oldest of them (storage/recovery.ts `purge`). The caller decides
 * when a purge may run: standalone at once (the log's file removal waits for its writes in
 * flight), a quorum member through its serialized persistence ops (quorum-persist.ts).
 */
import { purge, type PurgeResult, type SnapshotStore, type TxnLog } from '../storage/index';

/** ZooKeeper's floor for autopurge.snapRetainCount (config.ts also applies it). */
export const AUTOPURGE_SNAP_RETAIN_MIN = 3;

/** One purge now; logs what it removed (or that nothing was due). */
export function autopurge(txnLog: TxnLog, snapshots: SnapshotStore, snapRetainCount: number, info: (message: string) => void): PurgeResult {
  const keep = Math.max(AUTOPURGE_SNAP_RETAIN_MIN, snapRetainCount);
  const r = purge(txnLog, snapshots, keep);
  if (r.removedSnapshots.length === 0 && r.removedLogs.length === 0) {
    info(`autopurge: nothing to remove (keeping the newest ${keep} snapshots)`);
  } else {
    const names = (xs: string[]): string => (xs.length === 0 ? 'none' : xs.join(', '));
    info(`autopurge: removed ${r.removedSnapshots.length} snapshot(s) (${names(r.removedSnapshots)}) and ${r.removedLogs.length} txn log(s) (${names(r.removedLogs)}); keeping the newest ${keep} snapshots`);
  }
  return r;
}

/** the longest delay a Node timer takes (longer ones fire at once, with a warning) */
const TIMER_DELAY_MAX_MS = 2_147_483_647;

/**
 * Runs `run` now and every `intervalHours` hours (a no-op when intervalHours <= 0); intervals
 * past a Node timer's ~24.8 days are waited out in pieces. The timer does not hold the process
 * open. Returns the stop function.
 */
export function scheduleAutopurge(intervalHours: number, run: () => void): () => void {
  if (!(intervalHours > 0)) return () => {};
  const periodMs = intervalHours * 3_600_000;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let due = Date.now() + periodMs;
  const arm = (): void => {
    timer = setTimeout(() => {
      if (stopped) return;
      if (Date.now() >= due) {
        due = Date.now() + periodMs;
        run();
      }
      if (!stopped) arm();
    }, Math.min(TIMER_DELAY_MAX_MS, Math.max(0, due - Date.now())));
    timer.unref();
  };
  run();
  arm();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
