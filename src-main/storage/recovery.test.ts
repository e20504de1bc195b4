import { describe, expect, it } from 'vitest';
import { isZooLabError } from '../common/errors';
import { makeZxid, zxidCounter } from '../common/ids';
import { readEpochFile, writeEpochFile } from './epoch';
import { storageLayout } from './file-names';
import { MemoryDisk } from './memory-disk';
import { purge, recover, truncateStorage } from './recovery';
import { SnapshotPolicy } from './snapshot-policy';
import { SnapshotStore } from './snapshot-store';
import { DyingDisk, sampleSnapshot, SimulatedDeath, txnRange } from './test-support';
import { TxnLog } from './txn-log';

const layout = storageLayout('/zk/data', '/zk/log');

async function corruption(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isZooLabError(e, 'STORAGE_CORRUPT')) return e.message;
    throw e;
  }
  throw new Error('expected STORAGE_CORRUPT');
}

/** A server's life: snapshot at start, txns, snapshots every `every` txns (with a log roll). */
async function history(disk: MemoryDisk, txnCount: number, every: number): Promise<void> {
  // no preallocation: the tests cut files at their last bytes (txn-log.test covers preallocation)
  const log = await TxnLog.open(disk, layout.logDir, { preallocBytes: 0 });
  const snaps = new SnapshotStore(disk, layout.snapDir);
  await snaps.save(sampleSnapshot(0n));
  for (const t of txnRange(1, 1, txnCount)) {
    log.append(t);
    await log.sync();
    if (zxidCounter(t.zxid) % every === 0) {
      log.roll();
      await snaps.save(sampleSnapshot(t.zxid));
    }
  }
}

describe('recover', () => {
  it('recover: an empty directory is an empty database at zxid 0, epochs 0 (with notes)', async () => {
    const r = await recover(new MemoryDisk(), layout);
    expect(r.snapshot).toBeNull();
    expect(r.txns).toEqual([]);
    expect(r.lastZxid).toBe(0n);
    expect([r.acceptedEpoch, r.currentEpoch]).toEqual([0, 0]);
    expect(r.notes).toEqual(['currentEpoch not found; using 0, the epoch of the last zxid 0x0', 'acceptedEpoch not found; using 0']);
  });

  it('recover: newest snapshot + the logged txns after it; dataDir and dataLogDir kept apart', async () => {
    const disk = new MemoryDisk();
    await history(disk, 23, 10);
    expect(disk.list(layout.logDir).sort()).toEqual(['log.100000001', 'log.10000000b', 'log.100000015']);
    await writeEpochFile(disk, layout.snapDir, 'acceptedEpoch', 2);
    await writeEpochFile(disk, layout.snapDir, 'currentEpoch', 1);
    const r = await recover(disk, layout);
    expect(r.snapshotName).toBe('snapshot.100000014');
    expect(r.snapshot).toEqual(sampleSnapshot(makeZxid(1, 20)));
    expect(r.txns.map((t) => t.zxid)).toEqual(txnRange(1, 21, 23).map((t) => t.zxid));
    expect(r.lastZxid).toBe(makeZxid(1, 23));
    expect([r.acceptedEpoch, r.currentEpoch]).toEqual([2, 1]);
    expect(r.notes).toEqual([]);
    // the returned log continues in a new file
    r.log.append(txnRange(1, 24, 24)[0]!);
    await r.log.sync();
    expect(disk.list(layout.logDir)).toContain('log.100000018');
  });

  it('recover: a torn log tail and a crashed snapshot save are repaired, each with a note', async () => {
    const disk = new MemoryDisk();
    await history(disk, 12, 10);
    const path = `${layout.logDir}/log.10000000b`;
    const bytes = disk.read(path)!;
    disk.write(path, bytes.slice(0, bytes.length - 3));
    disk.write(`${layout.snapDir}/tmp.snapshot.10000000c`, new Uint8Array(10));
    const r = await recover(disk, layout);
    expect(r.lastZxid).toBe(makeZxid(1, 11));
    expect(r.notes.slice(0, 2)).toEqual([
      'removed tmp.snapshot.10000000c: a snapshot save that did not finish',
      expect.stringMatching(/^txn log log.10000000b: torn tail at byte \d+ \(short entry/),
    ]);
  });

  it('recover: a corrupt newest snapshot falls back to an older one and replays the logs from there', async () => {
    const disk = new MemoryDisk();
    await history(disk, 25, 10);
    disk.write(`${layout.snapDir}/snapshot.100000014`, new Uint8Array(64));
    const r = await recover(disk, layout);
    expect(r.snapshotName).toBe('snapshot.10000000a');
    expect(r.txns.map((t) => t.zxid)).toEqual(txnRange(1, 11, 25).map((t) => t.zxid));
    expect(r.notes[0]).toMatch(/^snapshot snapshot.100000014: .*; falling back to an older snapshot$/);
  });

  it('recover: refuses a fallback that cannot reach the corrupt snapshot (logs purged) instead of rolling back', async () => {
    const disk = new MemoryDisk();
    await history(disk, 25, 10);
    disk.remove(`${layout.logDir}/log.10000000b`);
    disk.remove(`${layout.logDir}/log.100000015`);
    disk.write(`${layout.snapDir}/snapshot.100000014`, new Uint8Array(64));
    expect(await corruption(recover(disk, layout))).toContain('the newest snapshot snapshot.100000014 is corrupt and the fallback snapshot.10000000a');
  });

  it('recover: refuses a gap between the snapshot and the first logged txn after it', async () => {
    const disk = new MemoryDisk();
    await history(disk, 25, 10);
    disk.remove(`${layout.snapDir}/snapshot.100000014`);
    disk.remove(`${layout.logDir}/log.10000000b`);
    expect(await corruption(recover(disk, layout))).toContain('ends at zxid 0x10000000a but the txn log continues at 0x100000015');
  });

  it('recover: a gap inside the replayed txns of one epoch is reported', async () => {
    const disk = new MemoryDisk();
    await history(disk, 3, 10);
    const log = await TxnLog.open(disk, layout.logDir);
    log.appendBatch(txnRange(1, 5, 5));
    await log.sync();
    const r = await recover(disk, layout);
    expect(r.notes).toContain('txn log: zxid 0x100000005 follows 0x100000003 in the same epoch; the txns in between were never logged here');
  });

  it('recover: txn logs without any snapshot are refused unless trustEmptySnapshot (ZOOKEEPER-3056)', async () => {
    const disk = new MemoryDisk();
    const log = await TxnLog.open(disk, layout.logDir);
    log.appendBatch(txnRange(1, 1, 4));
    await log.sync();
    expect(await corruption(recover(disk, layout))).toContain('has txn logs (up to zxid 0x100000004) but /zk/data/version-2 has no snapshot');
    const r = await recover(disk, layout, { trustEmptySnapshot: true });
    expect(r.txns).toHaveLength(4);
    expect(r.lastZxid).toBe(makeZxid(1, 4));
  });

  it('recover: epochs — accepted below current, or current below the last zxid epoch, are refused; currentEpoch.tmp rescues the latter', async () => {
    const disk = new MemoryDisk();
    await history(disk, 3, 10);
    const log = await TxnLog.open(disk, layout.logDir);
    log.appendBatch(txnRange(2, 1, 1));
    await log.sync();
    await writeEpochFile(disk, layout.snapDir, 'acceptedEpoch', 2);
    await writeEpochFile(disk, layout.snapDir, 'currentEpoch', 1);
    expect(await corruption(recover(disk, layout))).toContain('currentEpoch is 1, older than the epoch 2 of the last zxid 0x200000001');
    disk.write(`${layout.snapDir}/currentEpoch.tmp`, new TextEncoder().encode('2'));
    const r = await recover(disk, layout);
    expect([r.acceptedEpoch, r.currentEpoch]).toEqual([2, 2]);
    expect(r.notes).toContain('currentEpoch.tmp found (an interrupted update); current epoch is 2');
    await writeEpochFile(disk, layout.snapDir, 'acceptedEpoch', 1);
    await writeEpochFile(disk, layout.snapDir, 'currentEpoch', 2);
    expect(await corruption(recover(disk, layout))).toContain('acceptedEpoch 1 is less than currentEpoch 2');
  });
});

describe('epoch files', () => {
  it('epoch file: decimal text without newline, replaced atomically, durable when written', async () => {
    const disk = new MemoryDisk();
    await writeEpochFile(disk, layout.snapDir, 'acceptedEpoch', 7);
    expect(new TextDecoder().decode(disk.read(`${layout.snapDir}/acceptedEpoch`)!)).toBe('7');
    expect(readEpochFile(disk.crash(), layout.snapDir, 'acceptedEpoch')).toBe(7);
    for (let k = 0; k < 5; k++) {
      const d = new MemoryDisk();
      await writeEpochFile(d, layout.snapDir, 'acceptedEpoch', 7);
      await writeEpochFile(new DyingDisk(d, k), layout.snapDir, 'acceptedEpoch', 8).catch((e: unknown) => {
        if (!(e instanceof SimulatedDeath)) throw e;
      });
      for (const after of [d, d.crash()]) expect([7, 8]).toContain(readEpochFile(after, layout.snapDir, 'acceptedEpoch'));
    }
  });

  it('epoch file: garbage is STORAGE_CORRUPT; ZooKeeper-written text with a newline is accepted', () => {
    const disk = new MemoryDisk();
    disk.mkdir(layout.snapDir);
    disk.write(`${layout.snapDir}/currentEpoch`, new TextEncoder().encode('12\n'));
    expect(readEpochFile(disk, layout.snapDir, 'currentEpoch')).toBe(12);
    disk.write(`${layout.snapDir}/currentEpoch`, new TextEncoder().encode('x1'));
    expect(() => readEpochFile(disk, layout.snapDir, 'currentEpoch')).toThrow(/does not hold an epoch number/);
  });
});

describe('truncate and purge', () => {
  it('truncateStorage: drops txns after the zxid and snapshots newer than it; recovery then ends there', async () => {
    const disk = new MemoryDisk();
    await history(disk, 25, 10);
    const { log, snapshots } = await recover(disk, layout);
    expect(await truncateStorage(log, snapshots, makeZxid(1, 15))).toEqual({ removedTxns: 10, removedSnapshots: ['snapshot.100000014'] });
    const r = await recover(disk.crash(), layout);
    expect(r.snapshotName).toBe('snapshot.10000000a');
    expect(r.lastZxid).toBe(makeZxid(1, 15));
  });

  it('purge: keeps the newest N valid snapshots and the logs needed to replay from the oldest kept', async () => {
    const disk = new MemoryDisk();
    await history(disk, 55, 10);
    const { log, snapshots } = await recover(disk, layout);
    const result = purge(log, snapshots, 3);
    expect(result.removedSnapshots.sort()).toEqual(['snapshot.0', 'snapshot.10000000a', 'snapshot.100000014']);
    expect(result.removedLogs).toEqual(['log.100000001', 'log.10000000b', 'log.100000015']); // 0x15..0x1e ≤ the oldest kept snapshot
    expect(disk.list(layout.snapDir).sort()).toEqual(['snapshot.10000001e', 'snapshot.100000028', 'snapshot.100000032']);
    const r = await recover(disk, layout);
    expect(r.lastZxid).toBe(makeZxid(1, 55));
    // with the newest snapshot corrupt, purge keeps an extra older one
    disk.write(`${layout.snapDir}/snapshot.100000032`, new Uint8Array(8));
    const again = await recover(disk, layout);
    expect(purge(again.log, again.snapshots, 3)).toEqual({ removedSnapshots: [], removedLogs: [] });
  });
});

describe('snapshot policy', () => {
  it('policy: snapshot after snapCount/2 + randRoll txns, randRoll drawn in [0, snapCount/2) after each snapshot', () => {
    const draws: number[] = [];
    const rolls = [0, 4, 2];
    const policy = new SnapshotPolicy({ snapCount: 10, snapSizeBytes: 0, randomInt: (bound) => (draws.push(bound), rolls.shift() ?? 0) });
    const fired: number[] = [];
    for (let i = 1; i <= 30; i++) if (policy.txnLogged(100)) fired.push(i);
    expect(fired).toEqual([6, 16, 24, 30]); // 5+0+1, then 5+4+1 later, then 5+2+1, then 5+0+1
    expect(draws.every((b) => b === 5)).toBe(true);
  });

  it('policy: the size rule fires on bytes; snapCount below 2 counts as 2', () => {
    const big = new SnapshotPolicy({ snapCount: 1_000_000, snapSizeBytes: 1000, randomInt: () => 0 });
    expect([big.txnLogged(400), big.txnLogged(101)]).toEqual([false, true]);
    const tiny = new SnapshotPolicy({ snapCount: 0, snapSizeBytes: 0, randomInt: () => 0 });
    expect([tiny.txnLogged(1), tiny.txnLogged(1)]).toEqual([false, true]);
  });

  it('policy: a randomInt outside [0, bound) is a bug', () => {
    expect(() => new SnapshotPolicy({ snapCount: 10, randomInt: (b) => b })).toThrow(/randomInt\(5\) returned 5/);
  });
});
