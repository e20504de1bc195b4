import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isZooLabError } from '../common/errors';
import { makeZxid } from '../common/ids';
import { decodeTxnEntry, encodeTxnEntry } from '../jute/txns';
import { OpCode, type TxnEntry } from '../jute/types';
import { DEFAULT_PREALLOC_BYTES, recover, SnapshotStore, storageLayout, TxnLog, writeEpochFile } from '../storage';
import { DyingDisk, sampleSnapshot, SimulatedDeath, txnRange } from '../storage/test-support';
import { FsDisk } from './fs-disk';

let root = '';
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'zoolab-fsdisk-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));

async function died(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return false;
  } catch (e) {
    if (e instanceof SimulatedDeath) return true;
    throw e;
  }
}

describe('FsDisk', () => {
  it('fs-disk: size and readAt read part of a file; writeAtAsync lands off the loop, fsync after it keeps it', async () => {
    const disk = new FsDisk();
    const f = join(root, 'part');
    expect(disk.size(f)).toBeNull();
    expect(disk.readAt(f, 0, 4)).toBeNull();
    disk.write(f, bytes('0123456789'));
    expect(disk.size(f)).toBe(10);
    expect(text(disk.readAt(f, 2, 3))).toBe('234');
    expect(text(disk.readAt(f, 8, 100))).toBe('89'); // fewer past the end
    await Promise.all([disk.writeAtAsync(f, 10, bytes('ab')), disk.writeAtAsync(f, 12, bytes('cd'))]);
    await disk.fsync(f);
    expect(readFileSync(f, 'utf8')).toBe('0123456789abcd');
    const synced: string[] = [];
    const timed = new FsDisk({ onFsync: (p) => synced.push(p) });
    await timed.writeAtDurably(f, 14, bytes('EF')); // O_DSYNC descriptor, timed like an fsync
    expect(readFileSync(f, 'utf8')).toBe('0123456789abcdEF');
    expect(synced).toEqual([f]);
    timed.close();
    disk.remove(f); // its descriptor was cached by the writes: closed, not leaked
    await expect(disk.writeAtAsync(join(root, 'no', 'such'), 0, bytes('x'))).rejects.toThrow(/cannot open for writing/);
    disk.close();
  });

  it('fs-disk: list, read, append, write, truncate, rename, remove, mkdir on real files', async () => {
    const disk = new FsDisk();
    const dir = join(root, 'a', 'b');
    expect(disk.list(dir)).toEqual([]);
    disk.mkdir(dir);
    disk.mkdir(dir);
    const f = join(dir, 'f');
    expect(disk.read(f)).toBeNull();
    disk.append(f, bytes('hello '));
    disk.append(f, bytes('world'));
    await disk.fsync(f);
    expect(readFileSync(f, 'utf8')).toBe('hello world');
    disk.truncate(f, 5);
    disk.append(f, bytes('!'));
    expect(text(disk.read(f))).toBe('hello!');
    disk.write(f, bytes('new'));
    expect(text(disk.read(f))).toBe('new');
    disk.write(join(dir, 'g'), bytes('old g'));
    disk.rename(f, join(dir, 'g'));
    expect(disk.list(dir)).toEqual(['g']);
    expect(text(disk.read(join(dir, 'g')))).toBe('new');
    await disk.fsyncDir(dir);
    disk.remove(join(dir, 'g'));
    disk.remove(join(dir, 'missing'));
    expect(disk.list(dir)).toEqual([]);
    // reads are plain Uint8Arrays: slice copies (Buffer#slice would alias)
    writeFileSync(f, 'abc');
    const r = disk.read(f)!;
    const s = r.slice(0, 1);
    s[0] = 0x7a;
    expect(text(r)).toBe('abc');
    disk.close();
  });

  it('fs-disk: writeAt overwrites in place (pwrite), grows a file with zeros, creates a missing one; append still appends', async () => {
    const disk = new FsDisk();
    const f = join(root, 'w');
    disk.writeAt(f, 3, bytes('abc'));
    expect([...readFileSync(f)]).toEqual([0, 0, 0, 0x61, 0x62, 0x63]);
    disk.writeAt(f, 0, bytes('xy'));
    disk.writeAt(f, 4, bytes('Z'));
    expect(readFileSync(f)).toEqual(Buffer.from([0x78, 0x79, 0, 0x61, 0x5a, 0x63]));
    disk.append(f, bytes('!'));
    await disk.fsync(f);
    expect(readFileSync(f, 'latin1')).toBe('xy\0aZc!');
    expect(() => disk.writeAt(f, -1, bytes('x'))).toThrow(/bad offset/);
    disk.close();
  });

  it('fs-disk: appends to more files than the descriptor cache keeps all land, in order', async () => {
    const disk = new FsDisk({ openFilesMax: 2 });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5; i++) disk.append(join(root, `f${i}`), bytes(`${round}`));
    }
    await Promise.all([0, 1, 2, 3, 4].map((i) => disk.fsync(join(root, `f${i}`))));
    for (let i = 0; i < 5; i++) expect(readFileSync(join(root, `f${i}`), 'utf8')).toBe('012');
    disk.close();
  });

  it('fs-disk: a file renamed or removed while its fsync is in flight does not break the fsync', async () => {
    const disk = new FsDisk();
    const a = join(root, 'a');
    disk.append(a, bytes('x'));
    const syncing = disk.fsync(a);
    disk.rename(a, join(root, 'b'));
    await syncing;
    disk.append(join(root, 'c'), bytes('y'));
    const again = disk.fsync(join(root, 'c'));
    disk.remove(join(root, 'c'));
    await again;
    expect(readdirSync(root)).toEqual(['b']);
  });

  it('fs-disk: forceSync=false skips every fsync; forceSync=true reports each one', async () => {
    const synced: string[] = [];
    const on = new FsDisk({ onFsync: (p) => synced.push(p) });
    on.append(join(root, 'f'), bytes('x'));
    await on.fsync(join(root, 'f'));
    await on.fsyncDir(root);
    expect(synced).toEqual(process.platform === 'win32' ? [join(root, 'f')] : [join(root, 'f'), root]);
    const skipped: string[] = [];
    const off = new FsDisk({ forceSync: false, onFsync: (p) => skipped.push(p) });
    await off.fsync(join(root, 'f'));
    await off.fsync(join(root, 'does-not-exist'));
    expect(skipped).toEqual([]);
    on.close();
  });

  it('fs-disk: an IO failure is DATADIR_NOT_WRITABLE naming the path', async () => {
    const disk = new FsDisk();
    const bad = join(root, 'no-such-dir', 'f');
    for (const op of [() => disk.append(bad, bytes('x')), () => disk.write(bad, bytes('x')), () => disk.truncate(bad, 0)]) {
      try {
        op();
        throw new Error('expected a failure');
      } catch (e) {
        expect(isZooLabError(e, 'DATADIR_NOT_WRITABLE')).toBe(true);
        expect((e as Error).message).toContain(bad);
      }
    }
    await expect(disk.fsync(bad)).rejects.toThrow(/cannot open for fsync .*no-such-dir/);
  });
});

describe('storage over real files', () => {
  it('recover: txn log, snapshot and epochs written with FsDisk come back through a fresh FsDisk', async () => {
    const layout = storageLayout(join(root, 'data'), join(root, 'datalog'));
    const disk = new FsDisk();
    const first = await recover(disk, layout);
    await first.snapshots.save(sampleSnapshot(0n));
    first.log.appendBatch(txnRange(1, 1, 10));
    await first.log.sync();
    first.log.roll();
    await first.snapshots.save(sampleSnapshot(makeZxid(1, 10)));
    first.log.appendBatch(txnRange(1, 11, 14));
    await first.log.sync();
    await writeEpochFile(disk, layout.snapDir, 'acceptedEpoch', 1);
    await writeEpochFile(disk, layout.snapDir, 'currentEpoch', 1);
    disk.close();

    expect(readdirSync(layout.logDir).sort()).toEqual(['log.100000001', 'log.10000000b']);
    expect(readFileSync(join(layout.snapDir, 'currentEpoch'), 'utf8')).toBe('1');
    const r = await recover(new FsDisk(), layout);
    expect(r.snapshot).toEqual(sampleSnapshot(makeZxid(1, 10)));
    expect(r.txns.map((t) => t.zxid)).toEqual(txnRange(1, 11, 14).map((t) => t.zxid));
    expect(r.txns.map((t) => t.bytes)).toEqual(txnRange(1, 11, 14).map((t) => t.bytes));
    expect([r.lastZxid, r.acceptedEpoch, r.currentEpoch]).toEqual([makeZxid(1, 14), 1, 1]);
    expect(r.notes).toEqual([]);
  });

  it('kill-safety: a snapshot save killed after any operation leaves the old or the new snapshot, never a partial one', async () => {
    const dir = join(root, 'version-2');
    const old = sampleSnapshot(makeZxid(1, 1));
    const next = sampleSnapshot(makeZxid(1, 2));
    for (let k = 0; k <= 5; k++) {
      rmSync(dir, { recursive: true, force: true });
      await new SnapshotStore(new FsDisk(), dir).save(old);
      const wasKilled = await died(new SnapshotStore(new DyingDisk(new FsDisk(), k), dir).save(next));
      expect(wasKilled).toBe(k < 5);
      const store = new SnapshotStore(new FsDisk(), dir); // the restarted process
      const loaded = store.loadNewest();
      expect(loaded?.data).toEqual(k < 4 ? old : next); // the rename (4th operation) is the commit point
      store.removeTemps();
      expect(readdirSync(dir).every((n) => n.startsWith('snapshot.'))).toBe(true);
    }
  });

  it('kill-safety: a txn log killed after any operation of an append+sync recovers a prefix that includes every synced txn', async () => {
    const dir = join(root, 'log');
    // 2.5 MiB blocks: the zeros are written in 1 MiB chunks, so a kill can land between them too
    const preallocBytes = 5 * 512 * 1024;
    for (let k = 0; k <= 14; k++) {
      rmSync(dir, { recursive: true, force: true });
      const setup = await TxnLog.open(new FsDisk(), dir, { preallocBytes });
      setup.appendBatch(txnRange(1, 1, 3));
      await setup.sync();
      const dying = new DyingDisk(new FsDisk(), k);
      const wasKilled = await died(
        (async () => {
          const log = await TxnLog.open(dying, dir, { preallocBytes });
          log.appendBatch(txnRange(1, 4, 6));
          await log.sync();
        })(),
      );
      const recovered = await TxnLog.open(new FsDisk(), dir, { preallocBytes });
      const zxids = [...recovered.read(0n)].map((t) => t.zxid);
      expect(zxids).toEqual(txnRange(1, 1, zxids.length).map((t) => t.zxid));
      expect(zxids.length === 3 || zxids.length === 6).toBe(true);
      if (!wasKilled) expect(zxids).toHaveLength(6);
    }
  });
});

// ---- Apache ZooKeeper's own tools read what ZooLab writes, and ZooLab reads what ZooKeeper writes ----

const JARS = ['zookeeper.jar', 'zookeeper-jute.jar', 'slf4j-api.jar', 'slf4j-nop.jar', 'commons-cli.jar'].map((j) => `/usr/share/java/${j}`);

function zooKeeperMissing(): string | null {
  const missing = JARS.find((j) => !existsSync(j));
  if (missing !== undefined) return `Apache ZooKeeper is not installed (${missing} missing)`;
  const java = spawnSync('java', ['-version'], { stdio: 'ignore', timeout: 20_000 });
  if (java.error !== undefined || java.status !== 0) return 'java is not on PATH';
  return null;
}

const skipReason = zooKeeperMissing();
if (skipReason !== null) console.warn(`skipping the Apache ZooKeeper format tests: ${skipReason}`);

function java(args: string[], cwd: string): string {
  const r = spawnSync('java', ['-cp', JARS.join(':'), ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`java ${args.join(' ')} exited ${r.status}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

function entry(zxid: bigint, type: number, txn: TxnEntry['txn']): TxnEntry {
  return { header: { clientId: 0x100000000000abn, cxid: Number(zxid & 0xffn), zxid, time: 1_764_000_000_000n, type }, txn };
}

describe.skipIf(skipReason !== null)('Apache ZooKeeper 3.8 reads and writes the same files', () => {
  it("compat: ZooKeeper's TxnLogToolkit reads every txn of a log written by ZooLab, checksums included", async () => {
    const entries = [
      entry(makeZxid(1, 1), OpCode.createSession, { type: OpCode.createSession, timeOut: 30_000 }),
      entry(makeZxid(1, 2), OpCode.create, { type: OpCode.create, path: '/zoolab', data: bytes('hi'), acl: OPEN_ACL, ephemeral: false, parentCVersion: 1 }),
      entry(makeZxid(1, 3), OpCode.setData, { type: OpCode.setData, path: '/zoolab', data: bytes('there'), version: 1 }),
      entry(makeZxid(1, 4), OpCode.delete, { type: OpCode.delete, path: '/zoolab' }),
      entry(makeZxid(1, 5), OpCode.closeSession, { type: OpCode.closeSession, paths2Delete: [] }),
    ];
    const log = await TxnLog.open(new FsDisk(), root);
    log.appendBatch(entries.slice(0, 2).map((e) => ({ zxid: e.header.zxid, bytes: encodeTxnEntry(e) })));
    log.appendBatch(entries.slice(2).map((e) => ({ zxid: e.header.zxid, bytes: encodeTxnEntry(e) })));
    await log.sync();
    expect(statSync(join(root, 'log.100000001')).size).toBe(DEFAULT_PREALLOC_BYTES); // zero-filled ahead, as ZooKeeper
    const out = java(['org.apache.zookeeper.server.persistence.TxnLogToolkit', '-d', join(root, 'log.100000001')], root);
    expect(out).toContain('ZooKeeper Transactional Log File with dbid 0 txnlog format version 2');
    for (const [zxid, what] of [
      ['0x100000001', 'createSession 30000'],
      ['0x100000002', 'create /zoolab'],
      ['0x100000003', 'setData /zoolab'],
      ['0x100000004', "delete '/zoolab"], // ZooKeeper prints a DeleteTxn with a quote
      ['0x100000005', 'closeSession'],
    ]) {
      expect(out).toMatch(new RegExp(`session 0x100000000000ab cxid 0x\\d zxid ${zxid} ${what}`));
    }
    expect(out).toContain('EOF reached after 5 txns.');
    expect(out).not.toMatch(/CRC|error/i);
  }, 60_000);

  it("compat: ZooKeeper's SnapshotFormatter reads a snapshot written by ZooLab (nodes, data, sessions, ephemerals)", async () => {
    const name = await new SnapshotStore(new FsDisk(), root).save(sampleSnapshot(makeZxid(1, 3)));
    const out = java(['org.apache.zookeeper.server.SnapshotFormatter', '-d', join(root, name)], root);
    for (const path of ['/', '/zookeeper', '/zookeeper/quota', '/app', '/app/e']) expect(out).toContain(`----\n${path}\n`);
    expect(out).toContain(`data = ${btoa('state at 4294967299')}`);
    expect(out).toContain('ephemeralOwner = 0x00001000000abc');
    expect(out).toContain('0x00001000000abc, 30000, 1');
    expect(out).toContain('0x00002000000001, 4000, 0');
    expect(out).toContain('Last zxid: 0x100000003');
  }, 60_000);

  it("compat: ZooLab recovers a data directory written by ZooKeeper's FileTxnLog (preallocated) and FileSnap (with digest)", async () => {
    const dataDir = join(root, 'data');
    mkdirSync(join(dataDir, 'version-2'), { recursive: true });
    writeFileSync(join(root, 'WriteWithZooKeeper.java'), WRITE_WITH_ZOOKEEPER);
    java(['WriteWithZooKeeper.java', join(dataDir, 'version-2')], root);
    const logPath = join(dataDir, 'version-2', 'log.100000001');
    expect(statSync(logPath).size).toBeGreaterThan(100_000); // zero-padded by ZooKeeper

    const r = await recover(new FsDisk(), storageLayout(dataDir));
    expect(r.snapshotName).toBe('snapshot.100000001');
    const zk1 = r.snapshot?.nodes.find((n) => n.path === '/zk1');
    expect(text(zk1?.data ?? null)).toBe('v1');
    expect(zk1?.stat.ephemeralOwner).toBe(0x1234n);
    expect(r.snapshot?.nodes.map((n) => n.path)).toEqual(expect.arrayContaining(['/', '/zookeeper', '/zookeeper/quota', '/zk1']));
    expect(r.snapshot?.sessions).toEqual([{ id: 0x1234n, timeoutMs: 30_000 }]);
    expect(r.txns.map((t) => t.zxid)).toEqual([2, 3, 4, 5].map((c) => makeZxid(1, c)));
    expect(r.txns.map((t) => decodeTxnEntry(t.bytes).txn)).toEqual(
      [2, 3, 4, 5].map((i) => ({ type: OpCode.create, path: `/zk${i}`, data: bytes(`v${i}`), acl: OPEN_ACL, ephemeral: false, parentCVersion: i })),
    );
    // ZooKeeper's zero padding is the clean end of the log: no note, nothing cut
    expect(r.notes).toEqual(['currentEpoch not found; using 1, the epoch of the last zxid 0x100000005', 'acceptedEpoch not found; using 1']);
    expect(statSync(logPath).size).toBeGreaterThan(100_000);
    // and ZooKeeper still reads the log after ZooLab opened it
    expect(java(['org.apache.zookeeper.server.persistence.TxnLogToolkit', '-d', logPath], root)).toContain('EOF reached after 5 txns.');
  }, 60_000);
});

/** Uses ZooKeeper's own writer classes (not a copy of them) to produce a reference data directory. */
const WRITE_WITH_ZOOKEEPER = `
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.server.DataTree;
import org.apache.zookeeper.server.persistence.FileSnap;
import org.apache.zookeeper.server.persistence.FileTxnLog;
import org.apache.zookeeper.txn.CreateTxn;
import org.apache.zookeeper.txn.TxnHeader;

public class WriteWithZooKeeper {
  public static void main(String[] args) throws Exception {
    File dir = new File(args[0]);
    FileTxnLog.setPreallocSize(128 * 1024);
    FileTxnLog log = new FileTxnLog(dir);
    for (int i = 1; i <= 5; i++) {
      long zxid = (1L << 32) | i;
      TxnHeader hdr = new TxnHeader(0x1234L, i, zxid, 1700000000000L + i, ZooDefs.OpCode.create);
      log.append(hdr, new CreateTxn("/zk" + i, ("v" + i).getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE, false, i));
    }
    log.commit();
    log.close();
    DataTree dt = new DataTree();
    dt.createNode("/zk1", "v1".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE, 0x1234L, 1, (1L << 32) | 1, 1700000000001L);
    Map<Long, Integer> sessions = new HashMap<>();
    sessions.put(0x1234L, 30000);
    new FileSnap(dir).serialize(dt, sessions, new File(dir, "snapshot.100000001"), true);
  }
}
`;
