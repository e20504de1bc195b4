/**
 * Restart recovery, TRUNC and purge over a Disk. Pure.
 *
 * recover():
 *  1. removes temp files of snapshot saves that crashed;
 *  2. opens the txn log (cutting a torn tail, refusing corruption in the middle);
 *  3. loads the newest valid snapshot, falling back to older ones;
 *  4. collects the logged txns after the snapshot's zxid (the caller replays them: snapshots
 *     may be fuzzy, so replay must tolerate txns already applied);
 *  5. reads the epoch files.
 * Every repair or fallback is a line in `notes`. It refuses (STORAGE_CORRUPT), where ZooKeeper
 * would silently roll back, when a fallback snapshot plus the remaining logs cannot reach the
 * newest (corrupt) snapshot's zxid, or when txns between the snapshot and the log are missing.
 * Like ZooKeeper (ZOOKEEPER-3056) it refuses txn logs without any snapshot unless
 * `trustEmptySnapshot`: the server must save a snapshot when it starts on an empty directory.
 */
import { assert } from '../common/assert';
import { ZooLabError, isZooLabError } from '../common/errors';
import { hex, zxidCounter, zxidEpoch, type Zxid } from '../common/ids';
import type { Disk } from './disk';
import { readEpochFile } from './epoch';
import { ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE, SNAPSHOT_PREFIX, TEMP_SUFFIX, type StorageLayout } from './file-names';
import type { LoggedTxn } from './log-format';
import type { SnapshotData } from './snapshot-model';
import { SnapshotStore } from './snapshot-store';
import { TxnLog } from './txn-log';

export interface RecoverOptions {
  /** start from the txn logs alone when there is no snapshot (zoo.cfg snapshot.trust.empty) */
  trustEmptySnapshot?: boolean;
  /** dbid for new txn log headers (ZooKeeper writes 0) */
  dbId?: bigint;
  /** txn log preallocation block in bytes (zookeeper.preAllocSize is in KiB); see TxnLogOptions */
  preallocBytes?: number;
  /** the log's writes off the event loop; see TxnLogOptions.asyncWrites */
  asyncWrites?: boolean;
}

export interface Recovered {
  snapshot: SnapshotData | null;
  /** file name of the snapshot loaded, null when none */
  snapshotName: string | null;
  /** logged txns with zxid > snapshot zxid, in order; replay them on top of the snapshot */
  txns: LoggedTxn[];
  /** max(snapshot zxid, last logged zxid); 0n for an empty directory */
  lastZxid: Zxid;
  acceptedEpoch: number;
  currentEpoch: number;
  /** what recovery repaired or fell back on, one sentence each, for the server log */
  notes: string[];
  /** the txn log, open and ready for appends (the next append starts a new file) */
  log: TxnLog;
  snapshots: SnapshotStore;
}

function corrupt(message: string): ZooLabError {
  return new ZooLabError('STORAGE_CORRUPT', message);
}

export async function recover(disk: Disk, layout: StorageLayout, options: RecoverOptions = {}): Promise<Recovered> {
  const notes: string[] = [];
  const note = (m: string): void => {
    notes.push(m);
  };
  disk.mkdir(layout.snapDir);
  disk.mkdir(layout.logDir);
  const snapshots = new SnapshotStore(disk, layout.snapDir);
  for (const t of snapshots.removeTemps()) note(`removed ${t}: a snapshot save that did not finish`);
  for (const n of disk.list(layout.snapDir)) {
    if (n.startsWith(SNAPSHOT_PREFIX) && /\.(gz|snappy)$/.test(n)) note(`ignored ${n}: compressed snapshots are not supported`);
  }

  const log = await TxnLog.open(disk, layout.logDir, { note, dbId: options.dbId, preallocBytes: options.preallocBytes, asyncWrites: options.asyncWrites });
  const all = snapshots.list();
  const loaded = snapshots.loadNewest(note);
  if (loaded === null && log.lastZxid !== 0n && options.trustEmptySnapshot !== true) {
    throw corrupt(
      `${layout.logDir} has txn logs (up to zxid ${hex(log.lastZxid)}) but ${layout.snapDir} has no snapshot: ` +
        `something deleted the snapshots, or dataDir/dataLogDir point at different places. ` +
        `Fix the paths, restore the snapshots, or set snapshot.trust.empty=true to replay the logs alone.`,
    );
  }
  const snapZxid = loaded?.data.zxid ?? 0n;
  const txns = [...log.read(snapZxid + 1n)];

  if (loaded !== null) {
    const first = txns[0];
    if (first !== undefined && zxidEpoch(first.zxid) === zxidEpoch(snapZxid) && zxidCounter(first.zxid) > zxidCounter(snapZxid) + 1) {
      throw corrupt(
        `snapshot ${loaded.name} ends at zxid ${hex(snapZxid)} but the txn log continues at ${hex(first.zxid)}: ` +
          `the txns in between are missing (purged or deleted logs).`,
      );
    }
    const newest = all[0]!;
    const reach = txns.length > 0 ? txns[txns.length - 1]!.zxid : snapZxid;
    if (newest.zxid > reach) {
      throw corrupt(
        `the newest snapshot ${newest.name} is corrupt and the fallback ${loaded.name} plus the txn logs only reach zxid ${hex(reach)}: ` +
          `starting would silently lose the txns up to ${hex(newest.zxid)}. Restore the data directory or let the server resync from the ensemble.`,
      );
    }
  }

  for (let i = 1; i < txns.length; i++) {
    const a = txns[i - 1]!.zxid;
    const b = txns[i]!.zxid;
    if (zxidEpoch(a) === zxidEpoch(b) && zxidCounter(b) !== zxidCounter(a) + 1) {
      note(`txn log: zxid ${hex(b)} follows ${hex(a)} in the same epoch; the txns in between were never logged here`);
    }
  }

  const lastZxid = txns.length > 0 ? txns[txns.length - 1]!.zxid : snapZxid > log.lastZxid ? snapZxid : log.lastZxid;
  const { acceptedEpoch, currentEpoch } = readEpochs(disk, layout.snapDir, lastZxid, note);
  return { snapshot: loaded?.data ?? null, snapshotName: loaded?.name ?? null, txns, lastZxid, acceptedEpoch, currentEpoch, notes, log, snapshots };
}

/** QuorumPeer.loadDataBase's epoch rules, with a note instead of a silent default. */
function readEpochs(disk: Disk, dir: string, lastZxid: Zxid, note: (m: string) => void): { acceptedEpoch: number; currentEpoch: number } {
  const lastEpoch = zxidEpoch(lastZxid);
  let currentEpoch = readEpochFile(disk, dir, CURRENT_EPOCH_FILE);
  if (currentEpoch === null) {
    currentEpoch = lastEpoch;
    note(`${CURRENT_EPOCH_FILE} not found; using ${lastEpoch}, the epoch of the last zxid ${hex(lastZxid)}`);
  } else if (currentEpoch < lastEpoch) {
    // ZooKeeper: a currentEpoch.tmp left by an interrupted update wins in this case
    let pending: number | null = null;
    try {
      pending = readEpochFile(disk, dir, `${CURRENT_EPOCH_FILE}${TEMP_SUFFIX}`);
    } catch (e) {
      if (!isZooLabError(e, 'STORAGE_CORRUPT')) throw e;
    }
    if (pending === null || pending < lastEpoch) {
      throw corrupt(`${CURRENT_EPOCH_FILE} is ${currentEpoch}, older than the epoch ${lastEpoch} of the last zxid ${hex(lastZxid)}`);
    }
    note(`${CURRENT_EPOCH_FILE}${TEMP_SUFFIX} found (an interrupted update); current epoch is ${pending}`);
    currentEpoch = pending;
  }
  let acceptedEpoch = readEpochFile(disk, dir, ACCEPTED_EPOCH_FILE);
  if (acceptedEpoch === null) {
    acceptedEpoch = Math.max(lastEpoch, currentEpoch);
    note(`${ACCEPTED_EPOCH_FILE} not found; using ${acceptedEpoch}`);
  }
  if (acceptedEpoch < currentEpoch) throw corrupt(`${ACCEPTED_EPOCH_FILE} ${acceptedEpoch} is less than ${CURRENT_EPOCH_FILE} ${currentEpoch}`);
  return { acceptedEpoch, currentEpoch };
}

/**
 * After a ZAB TRUNC to `zxid`: drops logged txns after it and snapshots newer than it (they
 * describe txns that no longer exist). Durable when it resolves.
 */
export async function truncateStorage(log: TxnLog, snapshots: SnapshotStore, zxid: Zxid): Promise<{ removedTxns: number; removedSnapshots: string[] }> {
  const removedSnapshots = await snapshots.removeAfter(zxid);
  const removedTxns = await log.truncateAfter(zxid);
  return { removedTxns, removedSnapshots };
}

export interface PurgeResult {
  removedSnapshots: string[];
  removedLogs: string[];
}

/**
 * autopurge: keeps the newest `snapRetainCount` valid snapshots and the txn logs needed to
 * replay from the oldest of them; removes older snapshots and the logs holding only txns at
 * or before it (PurgeTxnLog's rule, minus the one extra file it keeps because it cannot see
 * inside files). Removals need no fsync: a removal undone by a power cut is harmless.
 * ZooKeeper enforces snapRetainCount >= 3 for autopurge; the caller applies that minimum.
 */
export function purge(log: TxnLog, snapshots: SnapshotStore, snapRetainCount: number): PurgeResult {
  assert(Number.isInteger(snapRetainCount) && snapRetainCount >= 1, `purge: snapRetainCount ${snapRetainCount} must be a positive integer`);
  const kept: Zxid[] = [];
  for (const s of snapshots.list()) {
    if (kept.length === snapRetainCount) break;
    if (snapshots.isValid(s)) kept.push(s.zxid);
  }
  if (kept.length === 0) return { removedSnapshots: [], removedLogs: [] };
  const oldestKept = kept[kept.length - 1]!;
  const removedSnapshots: string[] = [];
  for (const s of snapshots.list()) {
    if (s.zxid < oldestKept) {
      snapshots.remove(s);
      removedSnapshots.push(s.name);
    }
  }
  return { removedSnapshots, removedLogs: log.removeFilesBefore(oldestKept) };
}
