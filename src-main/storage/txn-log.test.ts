import { describe, expect, it } from 'vitest';
import { AssertionError } from '../common/assert';
import { isZooLabError } from '../common/errors';
import { makeZxid } from '../common/ids';
import { adler32 } from './adler32';
import type { Disk } from './disk';
import { encodeLogEntry, scanLogFile, txnZxid, type LoggedTxn } from './log-format';
import { MemoryDisk } from './memory-disk';
import { createTxn, HeldWritesDisk, txnRange } from './test-support';
import { DEFAULT_PREALLOC_BYTES, TxnLog } from './txn-log';

const DIR = '/data/version-2';
/**
 * Most tests here check exact bytes and cut files at their end, so they write files without
 * preallocation (as older ZooLab did); 'txn log: preallocation' covers the default.
 */
const PLAIN = { preallocBytes: 0 };

async function logWith(disk: Disk, ...batches: LoggedTxn[][]): Promise<TxnLog> {
  const log = await TxnLog.open(disk, DIR, PLAIN);
  batches.forEach((b, i) => {
    if (i > 0) log.roll();
    log.appendBatch(b);
  });
  await log.sync();
  return log;
}

async function reopen(disk: Disk): Promise<{ log: TxnLog; notes: string[] }> {
  const notes: string[] = [];
  const log = await TxnLog.open(disk, DIR, { ...PLAIN, note: (m) => notes.push(m) });
  return { log, notes };
}

function zxids(txns: Iterable<LoggedTxn>): bigint[] {
  return [...txns].map((t) => t.zxid);
}

function corruptionOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isZooLabError(e, 'STORAGE_CORRUPT')) return e.message;
    throw e;
  }
  throw new Error('expected STORAGE_CORRUPT');
}

async function corruptionOfAsync(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isZooLabError(e, 'STORAGE_CORRUPT')) return e.message;
    throw e;
  }
  throw new Error('expected STORAGE_CORRUPT');
}

describe('txn log format', () => {
  it('file: ZKLG header, version 2, dbid 0, then checksum long + length int + txn + "B" per entry', async () => {
    const disk = new MemoryDisk();
    const t = createTxn(makeZxid(1, 1));
    await logWith(disk, [t]);
    expect(disk.list(DIR)).toEqual(['log.100000001']);
    const bytes = disk.read(`${DIR}/log.100000001`)!;
    const v = new DataView(bytes.buffer, bytes.byteOffset);
    expect(new TextDecoder().decode(bytes.slice(0, 4))).toBe('ZKLG');
    expect(v.getInt32(4)).toBe(2);
    expect(v.getBigInt64(8)).toBe(0n);
    expect(v.getBigInt64(16)).toBe(BigInt(adler32(t.bytes)));
    expect(v.getInt32(24)).toBe(t.bytes.length);
    expect(bytes.slice(28, 28 + t.bytes.length)).toEqual(t.bytes);
    expect(bytes[28 + t.bytes.length]).toBe(0x42);
    expect(bytes.length).toBe(28 + t.bytes.length + 1);
  });

  it('txnZxid: reads the zxid from the TxnHeader jute wrote', () => {
    expect(txnZxid(createTxn(0x500000007n).bytes)).toBe(0x500000007n);
  });
});

describe('txn log: append, sync, read', () => {
  it('round trip: txns appended and synced are read back byte-identical after reopening', async () => {
    const disk = new MemoryDisk();
    const txns = txnRange(1, 1, 20);
    const log = await logWith(disk, txns.slice(0, 7), txns.slice(7));
    expect(log.lastZxid).toBe(makeZxid(1, 20));
    const { log: again, notes } = await reopen(disk);
    expect(notes).toEqual([]);
    expect(again.lastZxid).toBe(makeZxid(1, 20));
    const read = [...again.read(0n)];
    expect(read.map((t) => t.zxid)).toEqual(txns.map((t) => t.zxid));
    read.forEach((t, i) => expect(t.bytes).toEqual(txns[i]!.bytes));
  });

  it('multi-file: each roll starts log.<hex first zxid>; read(from) crosses files from that zxid on', async () => {
    const disk = new MemoryDisk();
    const log = await logWith(disk, txnRange(1, 1, 5), txnRange(1, 6, 10), [...txnRange(1, 11, 12), ...txnRange(2, 1, 3)]);
    expect(disk.list(DIR).sort()).toEqual(['log.100000001', 'log.100000006', 'log.10000000b']);
    expect(log.logFiles().map((f) => [f.name, f.entryCount])).toEqual([
      ['log.100000001', 5],
      ['log.100000006', 5],
      ['log.10000000b', 5],
    ]);
    expect(zxids(log.read(makeZxid(1, 7)))).toEqual([...txnRange(1, 7, 12), ...txnRange(2, 1, 3)].map((t) => t.zxid));
    expect(zxids(log.read(makeZxid(2, 0)))).toEqual(txnRange(2, 1, 3).map((t) => t.zxid));
    expect(zxids(log.read(makeZxid(3, 0)))).toEqual([]);
    const { log: again } = await reopen(disk);
    expect(zxids(again.read(makeZxid(1, 5)))).toHaveLength(11); // inclusive: 1/5..1/12 and 2/1..2/3
  });

  it('append: after reopening, the next append starts a new file (ZooKeeper never appends to an old log)', async () => {
    const disk = new MemoryDisk();
    await logWith(disk, txnRange(1, 1, 3));
    const { log } = await reopen(disk);
    log.append(createTxn(makeZxid(1, 4)));
    await log.sync();
    expect(disk.list(DIR).sort()).toEqual(['log.100000001', 'log.100000004']);
  });

  it('append: a zxid that does not increase, or that differs from the TxnHeader, is a bug (assert)', async () => {
    const log = await logWith(new MemoryDisk(), txnRange(1, 1, 3));
    expect(() => log.append(createTxn(makeZxid(1, 3)))).toThrow(AssertionError);
    expect(() => log.append({ zxid: makeZxid(1, 9), bytes: createTxn(makeZxid(1, 8)).bytes })).toThrow(AssertionError);
  });

  it('group commit: only what was synced survives a power cut; a new file needs its directory synced too', async () => {
    const disk = new MemoryDisk();
    const log = await logWith(disk, txnRange(1, 1, 3));
    log.appendBatch(txnRange(1, 4, 6)); // not synced
    expect([log.lastZxid, log.durableZxid]).toEqual([makeZxid(1, 6), makeZxid(1, 3)]);
    const after = disk.crash();
    const { log: recovered } = await reopen(after);
    expect(recovered.lastZxid).toBe(makeZxid(1, 3));

    // a file whose contents were fsynced but whose directory entry was not, vanishes
    const d2 = new MemoryDisk();
    const l2 = await TxnLog.open(d2, DIR);
    l2.append(createTxn(makeZxid(1, 1)));
    await d2.fsync(`${DIR}/log.100000001`);
    expect(d2.crash().list(DIR)).toEqual([]);
    await l2.sync();
    expect(d2.crash().list(DIR)).toEqual(['log.100000001']);
  });

  it('group commit: a sync with nothing new still waits for the fsync already in flight', async () => {
    const gate: (() => void)[] = [];
    class SlowDisk extends MemoryDisk {
      override fsync(path: string): Promise<void> {
        return super.fsync(path).then(() => new Promise<void>((resolve) => gate.push(resolve)));
      }
    }
    const log = await TxnLog.open(new SlowDisk(), DIR);
    log.append(createTxn(makeZxid(1, 1)));
    let firstDone = false;
    let secondDone = false;
    const first = log.sync().then(() => (firstDone = true));
    const second = log.sync().then(() => (secondDone = true));
    for (let i = 0; i < 10 && gate.length === 0; i++) await Promise.resolve();
    expect(gate).toHaveLength(1);
    expect(secondDone).toBe(false);
    gate[0]!();
    await Promise.all([first, second]);
    expect(firstDone && secondDone).toBe(true);
  });

  it('sync: a failed fsync makes the log unusable (no retry can know what reached the disk)', async () => {
    class FailingDisk extends MemoryDisk {
      override fsync(): Promise<void> {
        return Promise.reject(new Error('EIO'));
      }
    }
    const log = await TxnLog.open(new FailingDisk(), DIR);
    log.append(createTxn(makeZxid(1, 1)));
    await expect(log.sync()).rejects.toThrow('EIO');
    expect(() => log.append(createTxn(makeZxid(1, 2)))).toThrow(/unusable after a failed fsync/);
  });
});

describe('txn log: torn tails', () => {
  it('torn tail: cut at every byte of the last entry → the good prefix is recovered and the file cut there', async () => {
    const disk = new MemoryDisk();
    const txns = txnRange(1, 1, 4);
    await logWith(disk, txns);
    const full = disk.read(`${DIR}/log.100000001`)!;
    const lastLen = encodeLogEntry(txns[3]!.bytes).length;
    const goodEnd = full.length - lastLen;
    for (let cut = goodEnd + 1; cut < full.length; cut++) {
      const d = new MemoryDisk();
      d.mkdir(DIR);
      d.write(`${DIR}/log.100000001`, full.slice(0, cut));
      const { log, notes } = await reopen(d);
      expect(zxids(log.read(0n))).toEqual(txns.slice(0, 3).map((t) => t.zxid));
      if (full.subarray(goodEnd, cut).every((b) => b === 0)) {
        // only the checksum's zero high bytes landed: indistinguishable from preallocation, the clean end
        expect(notes).toEqual([]);
        expect(d.read(`${DIR}/log.100000001`)!.length).toBe(cut);
        continue;
      }
      expect(d.read(`${DIR}/log.100000001`)!.length).toBe(goodEnd);
      expect(notes).toHaveLength(1);
      expect(notes[0]).toContain(`torn tail at byte ${goodEnd}`);
      expect(notes[0]).toContain('after zxid 0x100000003');
    }
  });

  it('torn tail: a power cut keeping any part of an unsynced batch recovers exactly the synced txns', async () => {
    const disk = new MemoryDisk();
    const log = await logWith(disk, txnRange(1, 1, 3));
    log.appendBatch(txnRange(1, 4, 5));
    // appends wait in memory until a sync or a roll writes them out; a roll writes without fsync
    log.roll();
    const unsynced = encodeLogEntry(createTxn(makeZxid(1, 4)).bytes).length;
    for (const keep of [1, 4, 5, 11, 12, 13, unsynced - 1]) {
      const { log: recovered, notes } = await reopen(disk.crash({ tornBytes: () => keep }));
      expect(recovered.lastZxid).toBe(makeZxid(1, 3));
      // the first 4 bytes of an entry are the checksum's zero high bytes: a zero tail, the clean end
      if (keep <= 4) expect(notes).toEqual([]);
      else expect(notes.join()).toContain('torn tail');
    }
    // a whole unsynced entry that happened to land is a valid entry, kept
    const { log: lucky } = await reopen(disk.crash({ tornBytes: () => unsynced }));
    expect(lucky.lastZxid).toBe(makeZxid(1, 4));
  });

  const tails: [string, (entry: Uint8Array) => Uint8Array, string][] = [
    ['bad checksum', (e) => flip(e, 30), 'checksum mismatch'],
    ["missing 'B'", (e) => set(e, e.length - 1, 0x41), "missing end-of-record 'B'"],
    ['length past the end', (e) => set(e, 8, 0x7f), 'short entry'],
  ];
  for (const [what, damage, reason] of tails) {
    it(`torn tail: last entry with ${what} → cut with a note naming the reason`, async () => {
      const disk = new MemoryDisk();
      const txns = txnRange(1, 1, 3);
      await logWith(disk, txns);
      const path = `${DIR}/log.100000001`;
      const full = disk.read(path)!;
      const lastLen = encodeLogEntry(txns[2]!.bytes).length;
      const damaged = full.slice();
      damaged.set(damage(full.slice(full.length - lastLen)), full.length - lastLen);
      disk.write(path, damaged);
      const { log, notes } = await reopen(disk);
      expect(log.lastZxid).toBe(makeZxid(1, 2));
      expect(notes[0]).toContain(reason);
      expect(disk.read(path)!.length).toBe(full.length - lastLen);
    });
  }

  it('zeros: padding after the last entry (preallocation, or a zeroed last entry) is the clean end: kept, no note', async () => {
    const disk = new MemoryDisk();
    await logWith(disk, txnRange(1, 1, 2));
    const path = `${DIR}/log.100000001`;
    const size = disk.read(path)!.length;
    disk.append(path, new Uint8Array(64 * 1024));
    const { log, notes } = await reopen(disk);
    expect(log.lastZxid).toBe(makeZxid(1, 2));
    expect(notes).toEqual([]);
    expect(disk.read(path)!.length).toBe(size + 64 * 1024);
    expect(log.logFiles()[0]!.sizeBytes).toBe(size);
    expect(zxids(log.read(0n))).toEqual(txnRange(1, 1, 2).map((t) => t.zxid));
  });

  it('zeros: a bad last entry followed by 16 MB of padding is cut in linear time', async () => {
    const disk = new MemoryDisk();
    const txns = txnRange(1, 1, 3);
    await logWith(disk, txns);
    const path = `${DIR}/log.100000001`;
    const full = disk.read(path)!;
    const padded = new Uint8Array(full.length + 16 * 1024 * 1024);
    padded.set(full);
    padded[full.length - 30] = padded[full.length - 30]! ^ 0x01; // inside the last entry's txn bytes
    disk.write(path, padded);
    const { log, notes } = await reopen(disk);
    expect(log.lastZxid).toBe(makeZxid(1, 2));
    expect(notes[0]).toContain('checksum mismatch');
  });

  it('torn tail in an older file (crash, then a restart wrote a newer file) is cut, the newer file kept', async () => {
    const disk = new MemoryDisk();
    await logWith(disk, txnRange(1, 1, 4));
    const path = `${DIR}/log.100000001`;
    const full = disk.read(path)!;
    disk.write(path, full.slice(0, full.length - 5));
    const { log } = await reopen(disk);
    log.appendBatch(txnRange(1, 4, 6));
    await log.sync();
    disk.write(path, full.slice(0, full.length - 5)); // as if the cut had not survived
    const { log: again, notes } = await reopen(disk);
    expect(zxids(again.read(0n))).toEqual(txnRange(1, 1, 6).map((t) => t.zxid));
    expect(notes[0]).toContain('log.100000001: torn tail');
  });

  it('a bad tail in an older file whose successor skips counters in the same epoch is lost data, not a torn write', async () => {
    const disk = new MemoryDisk();
    await logWith(disk, txnRange(1, 1, 4), txnRange(1, 6, 7));
    const path = `${DIR}/log.100000001`;
    const full = disk.read(path)!;
    disk.write(path, flip(full, full.length - 30)); // entry 4 damaged; the next file starts at 6
    expect(await corruptionOfAsync(reopen(disk))).toContain('the next file log.100000006 continues at 0x100000006: the txns in between are lost');
    // the same damage before a new epoch's file is a torn write the leader resynced
    const d2 = new MemoryDisk();
    await logWith(d2, txnRange(1, 1, 4), txnRange(2, 1, 2));
    d2.write(path, flip(d2.read(path)!, full.length - 30));
    const { log, notes } = await reopen(d2);
    expect(zxids(log.read(0n))).toEqual([...txnRange(1, 1, 3), ...txnRange(2, 1, 2)].map((t) => t.zxid));
    expect(notes[0]).toContain('checksum mismatch');
  });

  it('a file cut short inside its header is removed; one with nothing after the header too', async () => {
    const disk = new MemoryDisk();
    await logWith(disk, txnRange(1, 1, 2));
    disk.write(`${DIR}/log.100000003`, new TextEncoder().encode('ZKL'));
    disk.write(`${DIR}/log.100000004`, disk.read(`${DIR}/log.100000001`)!.slice(0, 16));
    const { log, notes } = await reopen(disk);
    expect(log.lastZxid).toBe(makeZxid(1, 2));
    expect(disk.list(DIR)).toEqual(['log.100000001']);
    expect(notes).toEqual([
      'txn log log.100000003: 3 bytes without a complete file header (crash while creating it); removed',
      'txn log log.100000004: no complete entry; removed',
    ]);
  });
});

describe('txn log: corruption that is not a torn tail', () => {
  it('a flipped bit in the middle (good entries after a bad one) is an error with offsets, never a silent cut', async () => {
    const disk = new MemoryDisk();
    const txns = txnRange(1, 1, 6);
    await logWith(disk, txns);
    const path = `${DIR}/log.100000001`;
    const full = disk.read(path)!;
    const entryLen = encodeLogEntry(txns[0]!.bytes).length;
    const third = 16 + 2 * entryLen;
    for (const at of [third + 40, third + 8 /* length field */, third + 2 /* checksum */, third + entryLen - 1 /* 'B' */]) {
      disk.write(path, flip(full, at));
      const message = await corruptionOfAsync(reopen(disk));
      expect(message).toContain(`corrupt in the middle: the entry at byte ${third} is bad`);
      expect(message).toContain('(zxid 0x100000004) follows');
      expect(disk.read(path)!.length).toBe(full.length); // nothing was cut
    }
  });

  it('wrong magic or version, and zxids going backwards, are errors', () => {
    const ok = headerPlus([createTxn(makeZxid(1, 1)), createTxn(makeZxid(1, 2))]);
    expect(scanLogFile(ok, 'x').entries).toHaveLength(2);
    expect(corruptionOf(() => scanLogFile(set(ok, 0, 0x41), 'log.1'))).toContain('is not "ZKLG"');
    expect(corruptionOf(() => scanLogFile(set(ok, 7, 3), 'log.1'))).toContain('format version 3');
    const backwards = headerPlus([createTxn(makeZxid(1, 2)), createTxn(makeZxid(1, 1))]);
    expect(corruptionOf(() => scanLogFile(backwards, 'log.1'))).toContain('zxids must increase');
    expect(corruptionOf(() => scanLogFile(new TextEncoder().encode('hello'), 'log.1'))).toContain('not the start of a txn log header');
  });
});

describe('txn log: truncate (ZAB TRUNC)', () => {
  it('truncateAfter: removes every entry after the zxid across files, durably; appends continue in a new file', async () => {
    const disk = new MemoryDisk();
    const log = await logWith(disk, txnRange(1, 1, 5), txnRange(1, 6, 10), txnRange(1, 11, 12));
    expect(await log.truncateAfter(makeZxid(1, 7))).toBe(5);
    expect(log.lastZxid).toBe(makeZxid(1, 7));
    expect(disk.list(DIR).sort()).toEqual(['log.100000001', 'log.100000006']);
    log.appendBatch(txnRange(2, 1, 2));
    await log.sync();
    const { log: again } = await reopen(disk.crash());
    expect(zxids(again.read(0n))).toEqual([...txnRange(1, 1, 7), ...txnRange(2, 1, 2)].map((t) => t.zxid));
    expect(disk.list(DIR).sort()).toEqual(['log.100000001', 'log.100000006', 'log.200000001']);
  });

  it('truncateAfter: a zxid before the whole log empties it; one after it removes nothing', async () => {
    const disk = new MemoryDisk();
    const log = await logWith(disk, txnRange(1, 5, 8));
    expect(await log.truncateAfter(makeZxid(1, 9))).toBe(0);
    expect(await log.truncateAfter(makeZxid(1, 2))).toBe(4);
    expect(log.lastZxid).toBe(0n);
    expect(disk.list(DIR)).toEqual([]);
  });

  it('removeFilesBefore: removes files holding only txns at or before the zxid, never the file being appended', async () => {
    const disk = new MemoryDisk();
    const log = await logWith(disk, txnRange(1, 1, 5), txnRange(1, 6, 10), txnRange(1, 11, 12));
    expect(log.removeFilesBefore(makeZxid(1, 8))).toEqual(['log.100000001']);
    expect(log.removeFilesBefore(makeZxid(1, 8))).toEqual([]);
    expect(zxids(log.read(0n))[0]).toBe(makeZxid(1, 6));
    expect(log.removeFilesBefore(makeZxid(1, 12))).toEqual(['log.100000006']);
    expect(disk.list(DIR)).toEqual(['log.10000000b']);
  });
});

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  out[at] = out[at]! ^ 0x10;
  return out;
}

function set(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const out = bytes.slice();
  out[at] = value;
  return out;
}

function headerPlus(txns: LoggedTxn[]): Uint8Array {
  const parts = [new Uint8Array([0x5a, 0x4b, 0x4c, 0x47, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]), ...txns.map((t) => encodeLogEntry(t.bytes))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('txn log: appends are written in one batch', () => {
  it('appendBatch: nothing reaches the disk until sync, which writes every pending txn in one write', async () => {
    const disk = new MemoryDisk();
    const log = await logWith(disk, txnRange(1, 1, 2));
    const appends: number[] = [];
    const writeAt = disk.writeAt.bind(disk);
    disk.writeAt = (path: string, offset: number, bytes: Uint8Array): void => {
      appends.push(bytes.length);
      writeAt(path, offset, bytes);
    };
    for (let i = 3; i <= 7; i += 1) log.appendBatch(txnRange(1, i, i));
    expect(appends).toEqual([]);
    expect(zxids(log.read(0n))).toHaveLength(7); // a read writes them out first
    expect(appends).toHaveLength(1);
    for (let i = 8; i <= 9; i += 1) log.appendBatch(txnRange(1, i, i));
    expect(await log.sync()).toBe(makeZxid(1, 9));
    expect(appends).toHaveLength(2);
    const { log: recovered } = await reopen(disk.crash());
    expect(recovered.lastZxid).toBe(makeZxid(1, 9));
  });
});

describe('txn log: preallocation (as ZooKeeper: zeros ahead, entries written in place)', () => {
  const BLOCK = 4096;
  const opts = (notes: string[] = []) => ({ preallocBytes: BLOCK, note: (m: string) => notes.push(m) });
  const path = `${DIR}/log.100000001`;

  it('prealloc: a new file is zero-filled to a block boundary; the size grows only by whole blocks', async () => {
    const disk = new MemoryDisk();
    const log = await TxnLog.open(disk, DIR, opts());
    log.appendBatch(txnRange(1, 1, 3));
    await log.sync();
    const first = disk.read(path)!;
    expect(first.length).toBe(BLOCK);
    const entriesEnd = log.logFiles()[0]!.sizeBytes;
    expect(entriesEnd).toBe(16 + txnRange(1, 1, 3).reduce((n, t) => n + encodeLogEntry(t.bytes).length, 0));
    expect(first.subarray(entriesEnd).every((b) => b === 0)).toBe(true);
    // fill past the first block: the file grows to the next boundary, the entries stay contiguous
    let z = 4;
    while (log.logFiles()[0]!.sizeBytes < BLOCK + 100) {
      log.appendBatch(txnRange(1, z, z + 4));
      z += 5;
      await log.sync();
      expect(disk.read(path)!.length % BLOCK).toBe(0);
    }
    expect(disk.read(path)!.length).toBe(2 * BLOCK);
    const notes: string[] = [];
    const again = await TxnLog.open(disk.crash(), DIR, opts(notes));
    expect(notes).toEqual([]);
    expect(zxids(again.read(0n))).toEqual(txnRange(1, 1, z - 1).map((t) => t.zxid));
    expect(again.logFiles()[0]!.sizeBytes).toBe(log.logFiles()[0]!.sizeBytes);
  });

  it('prealloc: the default block is DEFAULT_PREALLOC_BYTES (16 MiB)', async () => {
    expect(DEFAULT_PREALLOC_BYTES).toBe(16 * 1024 * 1024);
    const disk = new MemoryDisk();
    const log = await TxnLog.open(disk, DIR);
    log.append(createTxn(makeZxid(1, 1)));
    await log.sync();
    expect(disk.read(path)!.length).toBe(DEFAULT_PREALLOC_BYTES);
  });

  it('prealloc: a power cut tearing an in-place write at any byte recovers exactly the synced txns (+ whole entries that landed)', async () => {
    const disk = new MemoryDisk();
    const log = await TxnLog.open(disk, DIR, opts());
    log.appendBatch(txnRange(1, 1, 3));
    await log.sync();
    const syncedEnd = log.logFiles()[0]!.sizeBytes;
    log.appendBatch(txnRange(1, 4, 5));
    expect(zxids(log.read(0n))).toHaveLength(5); // a read writes the batch out (page cache only)
    const entry4End = syncedEnd + encodeLogEntry(txnRange(1, 4, 4)[0]!.bytes).length;
    let unsynced = -1;
    disk.crash({ tornBytes: (_p, n) => (unsynced = n) });
    expect(unsynced).toBeGreaterThan(20);
    for (let keep = 0; keep <= unsynced; keep++) {
      const notes: string[] = [];
      const after = disk.crash({ tornBytes: () => keep });
      const recovered = await TxnLog.open(after, DIR, opts(notes));
      const got = zxids(recovered.read(0n));
      expect(got).toEqual(txnRange(1, 1, got.length).map((t) => t.zxid));
      expect(got.length).toBeGreaterThanOrEqual(3);
      const size = after.read(path)!.length;
      if (notes.length === 0) expect(size).toBe(BLOCK); // a zero tail: nothing cut, the preallocation stays
      else {
        expect(notes).toEqual([expect.stringMatching(/^txn log log.100000001: torn tail at byte \d+/)]);
        expect(size === syncedEnd || size === entry4End).toBe(true); // cut after the last whole entry
      }
      // whatever survived, the log goes on in a new file
      recovered.append(createTxn(makeZxid(2, 1)));
      await recovered.sync();
      expect(after.list(DIR).sort()).toEqual(['log.100000001', 'log.200000001']);
    }
    const all = await TxnLog.open(disk.crash({ tornBytes: (_p, n) => n }), DIR, opts());
    expect(all.lastZxid).toBe(makeZxid(1, 5));
  });

  it('prealloc: a file whose zeros landed but not its header (crash while creating it) is removed', async () => {
    const disk = new MemoryDisk();
    await logWith(disk, txnRange(1, 1, 2));
    disk.write(`${DIR}/log.100000003`, new Uint8Array(BLOCK));
    const half = new Uint8Array(BLOCK);
    half.set([0x5a, 0x4b, 0, 0]); // "ZK" then zeros
    disk.write(`${DIR}/log.100000004`, half);
    const notes: string[] = [];
    const log = await TxnLog.open(disk, DIR, opts(notes));
    expect(log.lastZxid).toBe(makeZxid(1, 2));
    expect(disk.list(DIR)).toEqual(['log.100000001']);
    expect(notes).toEqual([
      `txn log log.100000003: ${BLOCK} bytes without a complete file header (crash while creating it); removed`,
      `txn log log.100000004: ${BLOCK} bytes without a complete file header (crash while creating it); removed`,
    ]);
  });

  it('prealloc: open() and read() never hold a preallocated file whole, only up to its entries; a torn tail note counts the zeros cut too', async () => {
    const disk = new MemoryDisk();
    const log = await TxnLog.open(disk, DIR); // 16 MiB blocks
    log.appendBatch(txnRange(1, 1, 50));
    await log.sync();
    log.roll();
    log.appendBatch(txnRange(1, 51, 60));
    await log.sync();
    let largestRead = 0;
    const watched: Disk = Object.assign(Object.create(disk) as MemoryDisk, {
      read: (p: string) => {
        const b = disk.read(p);
        largestRead = Math.max(largestRead, b?.length ?? 0);
        return b;
      },
      readAt: (p: string, offset: number, length: number) => {
        const b = disk.readAt(p, offset, length);
        largestRead = Math.max(largestRead, b?.length ?? 0);
        return b;
      },
    });
    const notes: string[] = [];
    const again = await TxnLog.open(watched, DIR, { note: (m) => notes.push(m) });
    expect(zxids(again.read(0n))).toEqual(txnRange(1, 1, 60).map((t) => t.zxid));
    expect(notes).toEqual([]);
    expect(largestRead).toBeLessThanOrEqual(1024 * 1024); // the chunks read back from the end
    // garbage after the entries of the newest file: cut, and the note counts the zeros as well
    const newest = `${DIR}/log.100000033`;
    const end = again.logFiles()[1]!.sizeBytes;
    disk.writeAt(newest, end, new Uint8Array([1, 2, 3]));
    const cut: string[] = [];
    const third = await TxnLog.open(watched, DIR, { note: (m) => cut.push(m) });
    expect(zxids(third.read(0n))).toHaveLength(60);
    expect(cut).toEqual([expect.stringContaining(`cut ${DEFAULT_PREALLOC_BYTES - end} bytes after zxid 0x10000003c`)]);
    expect(disk.read(newest)!.length).toBe(end);
  });

  it('prealloc: rolls, truncateAfter and read work across preallocated files', async () => {
    const disk = new MemoryDisk();
    const log = await TxnLog.open(disk, DIR, opts());
    log.appendBatch(txnRange(1, 1, 5));
    await log.sync();
    log.roll();
    log.appendBatch(txnRange(1, 6, 10));
    await log.sync();
    expect(disk.list(DIR).sort().map((n) => disk.read(`${DIR}/${n}`)!.length)).toEqual([BLOCK, BLOCK]);
    expect(zxids(log.read(makeZxid(1, 4)))).toEqual(txnRange(1, 4, 10).map((t) => t.zxid));
    expect(await log.truncateAfter(makeZxid(1, 7))).toBe(3);
    expect(zxids(log.read(0n))).toEqual(txnRange(1, 1, 7).map((t) => t.zxid));
    log.appendBatch(txnRange(2, 1, 2));
    await log.sync();
    expect(disk.read(`${DIR}/log.200000001`)!.length).toBe(BLOCK);
    const notes: string[] = [];
    const again = await TxnLog.open(disk.crash(), DIR, opts(notes));
    expect(notes).toEqual([]);
    expect(zxids(again.read(0n))).toEqual([...txnRange(1, 1, 7), ...txnRange(2, 1, 2)].map((t) => t.zxid));
  });
});

describe('txn log: writes off the event loop (Disk.writeAtAsync)', () => {
  const opts = { preallocBytes: 4096, asyncWrites: true };
  const ASYNC = { ...PLAIN, asyncWrites: true };

  it('async writes: read() sees entries still in flight; each sync resolves once its entries landed and are durable', async () => {
    const disk = new MemoryDisk({ asyncWrites: true });
    const log = await TxnLog.open(disk, DIR, opts);
    log.appendBatch(txnRange(1, 1, 3));
    const first = log.sync();
    log.appendBatch(txnRange(1, 4, 6));
    log.roll();
    log.appendBatch(txnRange(1, 7, 9));
    // nothing has landed yet (the writes wait a few microtasks; the file comes with its first
    // write), the log reads whole anyway
    expect(disk.read(`${DIR}/log.100000001`)).toBeNull();
    expect(zxids(log.read(0n))).toEqual(txnRange(1, 1, 9).map((t) => t.zxid));
    const second = log.sync();
    expect(await first).toBe(makeZxid(1, 3));
    expect(zxids((await reopen(disk.crash())).log.read(0n)).slice(0, 3)).toEqual(txnRange(1, 1, 3).map((t) => t.zxid));
    expect(await second).toBe(makeZxid(1, 9));
    const { log: again, notes } = await reopen(disk.crash());
    expect(notes).toEqual([]);
    expect(zxids(again.read(0n))).toEqual(txnRange(1, 1, 9).map((t) => t.zxid));
  });

  it('async writes: entries written into zeros still on their way wait for them (the pool may run writes in any order)', async () => {
    const disk = new MemoryDisk({ asyncWrites: true });
    // zeros (plain async writes) land late, entries (durable writes) at once
    const slowZeros: Disk = Object.assign(Object.create(disk) as MemoryDisk, {
      writeAtAsync: async (p: string, offset: number, bytes: Uint8Array) => {
        await new Promise((r) => setTimeout(r, 5));
        disk.writeAt(p, offset, bytes);
      },
    });
    const log = await TxnLog.open(slowZeros, DIR, opts);
    log.appendBatch(txnRange(1, 1, 3));
    const first = log.sync(); // header + entries, then zeros to the 4 KiB boundary
    log.appendBatch(txnRange(1, 4, 6)); // into those zeros
    const second = log.sync();
    expect(await first).toBe(makeZxid(1, 3));
    expect(await second).toBe(makeZxid(1, 6));
    const { log: again, notes } = await reopen(disk.crash());
    expect(notes).toEqual([]);
    expect(zxids(again.read(0n))).toEqual(txnRange(1, 1, 6).map((t) => t.zxid));
  });

  it('async writes: truncateAfter waits for writes in flight, so none lands after the cut and brings entries back', async () => {
    const disk = new MemoryDisk({ asyncWrites: true });
    const log = await TxnLog.open(disk, DIR, ASYNC);
    log.appendBatch(txnRange(1, 1, 4));
    await log.sync();
    log.appendBatch(txnRange(1, 5, 8));
    expect(await log.truncateAfter(makeZxid(1, 2))).toBe(6);
    await log.sync();
    const { log: again } = await reopen(disk.crash());
    expect(zxids(again.read(0n))).toEqual(txnRange(1, 1, 2).map((t) => t.zxid));
  });

  it('async writes are opt-in: without asyncWrites every write lands at once and truncateAfter cuts before it returns', async () => {
    const disk = new MemoryDisk({ asyncWrites: true });
    const log = await TxnLog.open(disk, DIR, PLAIN);
    log.appendBatch(txnRange(1, 1, 4));
    void log.sync();
    expect(disk.read(`${DIR}/log.100000001`)!.length).toBeGreaterThan(16);
    const cut = log.truncateAfter(makeZxid(1, 2));
    expect(log.lastZxid).toBe(makeZxid(1, 2)); // the quorum pipeline appends right after
    log.appendBatch(txnRange(1, 3, 3));
    expect(await cut).toBe(2);
  });

  it('async writes: a failed write fails the next sync and leaves the log unusable', async () => {
    const disk = new MemoryDisk({ asyncWrites: true });
    const log = await TxnLog.open(disk, DIR, ASYNC);
    const failing: Disk = Object.assign(Object.create(disk) as MemoryDisk, {
      writeAtAsync: () => Promise.reject(new Error('EIO')),
      writeAtDurably: () => Promise.reject(new Error('EIO')),
    });
    const broken = await TxnLog.open(failing, `${DIR}-b`, ASYNC);
    broken.appendBatch(txnRange(1, 1, 2));
    await expect(broken.sync()).rejects.toThrow('EIO');
    expect(() => broken.appendBatch(txnRange(1, 3, 3))).toThrow(/unusable/);
    await expect(broken.truncateAfter(0n)).rejects.toThrow(/unusable/); // (a TRUNC's failure is a rejection, not a throw)
    log.appendBatch(txnRange(1, 1, 1)); // another log on the same disk is fine
    expect(await log.sync()).toBe(makeZxid(1, 1));
  });
});

describe('txn log: TRUNC and purge while writes are in flight (a quorum member, asyncWrites)', () => {
  const opts = { preallocBytes: 4096, asyncWrites: true };
  const path1 = `${DIR}/log.100000001`;
  const zx = (txns: LoggedTxn[]) => txns.map((t) => t.zxid);

  for (const order of ['oldest first', 'newest first'] as const) {
    it(`TRUNC with the tail's write held: the log is cut at once, the disk only after that write lands, later writes after the cut (${order})`, async () => {
      const disk = new HeldWritesDisk();
      const log = await TxnLog.open(disk, DIR, opts);
      log.appendBatch(txnRange(1, 1, 2));
      const first = log.sync();
      await disk.releaseAll(order);
      expect(await first).toBe(makeZxid(1, 2));
      // an uncommitted tail, its write (entries 3..8, O_DSYNC) on the thread pool
      log.appendBatch(txnRange(1, 3, 8));
      const tail = log.sync();
      await Promise.resolve();
      expect(disk.held.map((w) => [w.path, w.durably])).toEqual([[path1, true]]);
      // TRUNC: the tree is rebuilt from read() and the leader's txns are appended right away
      const cut = log.truncateAfter(makeZxid(1, 2));
      expect(log.lastZxid).toBe(makeZxid(1, 2));
      expect(zxids(log.read(0n))).toEqual(zx(txnRange(1, 1, 2)));
      log.appendBatch(txnRange(2, 1, 3));
      const after = log.sync();
      expect(zxids(log.read(0n))).toEqual([...zx(txnRange(1, 1, 2)), ...zx(txnRange(2, 1, 3))]);
      // the disk: nothing cut yet, and the new file's writes wait for the cut (none issued)
      await Promise.resolve();
      expect(disk.inner.size(path1)).toBe(4096);
      expect(disk.held.map((w) => w.path)).toEqual([path1]);
      // the tail's write lands first, then the cut, then the new file's writes
      await disk.release(0);
      expect(disk.inner.size(path1)).toBeLessThan(4096);
      expect(disk.held.length).toBeGreaterThan(0);
      expect(disk.held.every((w) => w.path === `${DIR}/log.200000001`)).toBe(true);
      await disk.releaseAll(order);
      expect(await cut).toBe(6);
      expect(await tail).toBe(makeZxid(1, 8)); // (what was appended before its call; cut since)
      expect(await after).toBe(makeZxid(2, 3));
      const notes: string[] = [];
      const again = await TxnLog.open(disk.inner.crash(), DIR, { ...opts, note: (m) => notes.push(m) });
      expect(notes).toEqual([]);
      expect(zxids(again.read(0n))).toEqual([...zx(txnRange(1, 1, 2)), ...zx(txnRange(2, 1, 3))]);
    });
  }

  for (const order of ['oldest first', 'newest first'] as const) {
    it(`two group commits in flight, the later one landing first: a power cut between leaves no hole before its entries (one run from the header on; ${order})`, async () => {
      const disk = new HeldWritesDisk();
      const log = await TxnLog.open(disk, DIR, opts);
      log.appendBatch(txnRange(1, 1, 2));
      const first = log.sync();
      await disk.releaseAll(order);
      await first;
      log.appendBatch(txnRange(1, 3, 4));
      const a = log.sync();
      log.appendBatch(txnRange(1, 5, 6));
      const b = log.sync();
      log.appendBatch(txnRange(1, 7, 8));
      const c = log.sync();
      await Promise.resolve();
      expect(disk.held).toHaveLength(3);
      // the pool finishes the newest first; the power goes before the others land
      await disk.release(2);
      const notes: string[] = [];
      const again = await TxnLog.open(disk.inner.crash(), DIR, { ...opts, note: (m) => notes.push(m) });
      expect(notes).toEqual([]);
      expect(zxids(again.read(0n))).toEqual(zx(txnRange(1, 1, 8)));
      // and the writes still in flight land the same bytes again
      await disk.releaseAll(order);
      expect(await a).toBe(makeZxid(1, 4));
      expect(await b).toBe(makeZxid(1, 6));
      expect(await c).toBe(makeZxid(1, 8));
      const after = await TxnLog.open(disk.inner.crash(), DIR, opts);
      expect(zxids(after.read(0n))).toEqual(zx(txnRange(1, 1, 8)));
      // a later commit after some landed out of order starts where the disk's run ends
      log.appendBatch(txnRange(1, 9, 9));
      const d = log.sync();
      await disk.releaseAll(order);
      expect(await d).toBe(makeZxid(1, 9));
      expect(zxids((await TxnLog.open(disk.inner.crash(), DIR, opts)).read(0n))).toEqual(zx(txnRange(1, 1, 9)));
    });
  }

  it('two group commits in flight: a later one landing first, then an older one, then a new one: the new write starts at the first not landed', async () => {
    const disk = new HeldWritesDisk();
    const log = await TxnLog.open(disk, DIR, opts);
    log.appendBatch(txnRange(1, 1, 1));
    const s0 = log.sync();
    await disk.releaseAll();
    await s0;
    const syncs: Promise<bigint>[] = [];
    for (let c = 2; c <= 5; c++) {
      log.appendBatch(txnRange(1, c, c));
      syncs.push(log.sync());
    }
    await Promise.resolve();
    expect(disk.held).toHaveLength(4);
    await disk.release(1); // the second (2..3) lands
    await disk.release(2); // the fourth (2..5)
    log.appendBatch(txnRange(1, 6, 6));
    syncs.push(log.sync());
    await Promise.resolve();
    // 2..5 are on the disk (the fourth write carried them): the new write carries only 6
    const newest = disk.held[disk.held.length - 1]!;
    expect(newest.bytes).toEqual(encodeLogEntry(txnRange(1, 6, 6)[0]!.bytes));
    await disk.release(disk.held.length - 1);
    const again = await TxnLog.open(disk.inner.crash(), DIR, opts);
    expect(zxids(again.read(0n))).toEqual(zx(txnRange(1, 1, 6)));
    await disk.releaseAll('newest first');
    expect(await Promise.all(syncs)).toEqual([2, 3, 4, 5, 6].map((c) => makeZxid(1, c)));
  });

  it('TRUNC removing a file whose write is held: a new file of the same name is written only after the removal', async () => {
    const disk = new HeldWritesDisk();
    const log = await TxnLog.open(disk, DIR, opts);
    log.appendBatch(txnRange(1, 1, 2));
    const first = log.sync();
    await disk.releaseAll();
    await first;
    log.roll();
    log.appendBatch(txnRange(1, 3, 5)); // log.100000003, its header and entries held
    void log.sync();
    const cut = log.truncateAfter(makeZxid(1, 2));
    log.appendBatch([createTxn(makeZxid(1, 3), 40)]); // (ZAB never logs a zxid twice; the log must not care)
    const after = log.sync();
    expect(zxids(log.read(0n))).toEqual([...zx(txnRange(1, 1, 2)), makeZxid(1, 3)]);
    await disk.releaseAll('newest first');
    expect(await cut).toBe(3);
    expect(await after).toBe(makeZxid(1, 3));
    const again = await TxnLog.open(disk.inner.crash(), DIR, opts);
    const read = [...again.read(0n)];
    expect(zxids(read)).toEqual([...zx(txnRange(1, 1, 2)), makeZxid(1, 3)]);
    expect(read[2]!.bytes).toEqual(createTxn(makeZxid(1, 3), 40).bytes);
  });

  it('removeFilesBefore (snapshot sync, purge) with a file\'s zeros still in flight: the file is removed after they land, not made again', async () => {
    const disk = new HeldWritesDisk();
    const log = await TxnLog.open(disk, DIR, opts);
    log.appendBatch(txnRange(1, 1, 3));
    const first = log.sync();
    await Promise.resolve();
    // header + entries land (acknowledged); the zeros behind them stay on the pool
    const entries = disk.held.findIndex((w) => w.durably);
    await disk.release(entries);
    expect(disk.held.length).toBeGreaterThan(0);
    log.roll();
    log.appendBatch(txnRange(1, 4, 5));
    expect(log.removeFilesBefore(makeZxid(1, 3))).toEqual(['log.100000001']);
    const second = log.sync();
    await disk.releaseAll();
    await first;
    expect(await second).toBe(makeZxid(1, 5));
    expect(disk.inner.list(DIR)).toEqual(['log.100000004']);
  });
});

describe('MemoryDisk.writeAt', () => {
  it('memory-disk: writeAt overwrites in place and grows with zeros; a power cut keeps a prefix of the unsynced range', async () => {
    const disk = new MemoryDisk();
    disk.mkdir('/d');
    disk.writeAt('/d/f', 2, new Uint8Array([7, 7]));
    expect([...disk.read('/d/f')!]).toEqual([0, 0, 7, 7]);
    await disk.fsync('/d/f');
    await disk.fsyncDir('/d');
    disk.writeAt('/d/f', 1, new Uint8Array([1, 2, 3]));
    expect([...disk.read('/d/f')!]).toEqual([0, 1, 2, 3]);
    expect([...disk.crash().read('/d/f')!]).toEqual([0, 0, 7, 7]);
    const seen: number[] = [];
    const torn = disk.crash({ tornBytes: (_p, n) => (seen.push(n), 2) });
    expect(seen).toEqual([3]);
    expect([...torn.read('/d/f')!]).toEqual([0, 1, 2, 7]);
    disk.writeAt('/d/f', 6, new Uint8Array([9]));
    expect([...disk.crash({ tornBytes: () => 6 }).read('/d/f')!]).toEqual([0, 1, 2, 3, 0, 0, 9]);
  });
});
