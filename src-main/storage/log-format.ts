/**
 * ZooKeeper's txn-log file format (FileTxnLog), byte for byte:
 *
 *   FileHeader  magic int "ZKLG" (0x5a4b4c47), version int 2, dbid long (0)
 *   entry*      checksum long   Adler-32 of the txn bytes only (not the length, not the 'B')
 *               length int      then that many txn bytes: TxnHeader{clientId long, cxid int,
 *                               zxid long, time long, type int} + txn record (+ TxnDigest),
 *                               as src-main/jute's encodeTxnEntry produces them
 *               'B' (0x42)      end of record
 *   zeros*      preallocated: ZooKeeper pads in 64 MB steps, ZooLab in TxnLogOptions.preallocBytes;
 *               both read an entry whose checksum and length are 0 as the clean end of the file.
 *
 * Storage frames bytes; it never decodes a txn: the zxid is read from its fixed place in the
 * TxnHeader (bytes 12..20).
 *
 * scanLogFile() classifies what follows the last good entry:
 *  - nothing, or only zeros (preallocation): clean, reported as a zero tail;
 *  - a torn or corrupt tail (short entry, bad checksum, missing 'B', zeros, garbage) with no
 *    valid entry after it: reported so the caller cuts the file there;
 *  - a bad entry FOLLOWED by a valid one: corruption in the middle of the log. That is never
 *    a torn write, and dropping the good entries after it could lose acknowledged txns, so it
 *    throws STORAGE_CORRUPT with the offsets.
 */
import { ZooLabError } from '../common/errors';
import { hex, type Zxid } from '../common/ids';
import { adler32 } from './adler32';

export const TXNLOG_MAGIC = 0x5a4b4c47; // "ZKLG"
export const SNAP_MAGIC = 0x5a4b534e; // "ZKSN"
export const FILE_FORMAT_VERSION = 2;
/** magic int + version int + dbid long */
export const FILE_HEADER_BYTES = 16;
/** ZooKeeper's FileTxnLog writes dbid 0 in every log header. */
export const TXNLOG_DBID = 0n;
export const END_OF_RECORD = 0x42; // 'B'
/** checksum long + length int */
const ENTRY_PREFIX_BYTES = 12;
/** TxnHeader: clientId long, cxid int, zxid long, time long, type int */
export const TXN_HEADER_BYTES = 32;
const ZXID_OFFSET_IN_TXN = 12;

/** One txn as the log stores it: its zxid and its bytes (TxnHeader + txn record, from jute). */
export interface LoggedTxn {
  zxid: Zxid;
  bytes: Uint8Array;
}

/** The zxid carried in the TxnHeader at the start of `txnBytes`. */
export function txnZxid(txnBytes: Uint8Array): Zxid {
  if (txnBytes.length < TXN_HEADER_BYTES) {
    throw new RangeError(`txn bytes are ${txnBytes.length} long; a TxnHeader alone is ${TXN_HEADER_BYTES}`);
  }
  return new DataView(txnBytes.buffer, txnBytes.byteOffset, txnBytes.byteLength).getBigInt64(ZXID_OFFSET_IN_TXN);
}

export function encodeFileHeader(magic: number, dbId: bigint): Uint8Array {
  const out = new Uint8Array(FILE_HEADER_BYTES);
  const v = new DataView(out.buffer);
  v.setInt32(0, magic);
  v.setInt32(4, FILE_FORMAT_VERSION);
  v.setBigInt64(8, BigInt.asIntN(64, dbId));
  return out;
}

/** The framed bytes of one log entry: checksum, length, txn bytes, 'B'. */
export function encodeLogEntry(txnBytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(ENTRY_PREFIX_BYTES + txnBytes.length + 1);
  const v = new DataView(out.buffer);
  v.setBigInt64(0, BigInt(adler32(txnBytes)));
  v.setInt32(8, txnBytes.length);
  out.set(txnBytes, ENTRY_PREFIX_BYTES);
  out[out.length - 1] = END_OF_RECORD;
  return out;
}

/** Frames several entries into one buffer (one append, one write system call). */
export function encodeLogEntries(txns: readonly LoggedTxn[]): Uint8Array {
  let total = 0;
  for (const t of txns) total += ENTRY_PREFIX_BYTES + t.bytes.length + 1;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  let o = 0;
  // each entry framed in place (as encodeLogEntry frames it), no array per entry
  for (const t of txns) {
    v.setBigInt64(o, BigInt(adler32(t.bytes)));
    v.setInt32(o + 8, t.bytes.length);
    out.set(t.bytes, o + ENTRY_PREFIX_BYTES);
    o += ENTRY_PREFIX_BYTES + t.bytes.length;
    out[o++] = END_OF_RECORD;
  }
  return out;
}

export type EntryProbe =
  | { ok: true; zxid: Zxid; txnStart: number; txnEnd: number; end: number }
  | { ok: false; reason: string; zeros: boolean };

function allZero(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Index of the last non-zero byte, -1 when all are zero (scans back over a zero tail only). */
function lastNonZero(bytes: Uint8Array): number {
  let i = bytes.length - 1;
  while (i >= 0 && bytes[i] === 0) i--;
  return i;
}

/**
 * Is there a complete, checksum-valid entry at `offset`? Never throws. `lastNonZeroAt` (from
 * the caller's one backward scan) keeps probing linear over long zero tails.
 */
export function probeEntry(bytes: Uint8Array, offset: number, lastNonZeroAt?: number): EntryProbe {
  const left = bytes.length - offset;
  if (lastNonZeroAt !== undefined ? offset > lastNonZeroAt : allZero(bytes, offset)) return { ok: false, reason: `${left} zero bytes (preallocated, or a write that never landed)`, zeros: true };
  if (left < ENTRY_PREFIX_BYTES) return { ok: false, reason: `short entry: ${left} bytes where checksum and length need ${ENTRY_PREFIX_BYTES}`, zeros: false };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const crcHigh = v.getUint32(offset);
  const crc = v.getUint32(offset + 4);
  const length = v.getInt32(offset + 8);
  if (length < TXN_HEADER_BYTES) return { ok: false, reason: `entry length ${length} cannot hold a TxnHeader (${TXN_HEADER_BYTES} bytes)`, zeros: false };
  const txnStart = offset + ENTRY_PREFIX_BYTES;
  const txnEnd = txnStart + length;
  if (txnEnd + 1 > bytes.length) return { ok: false, reason: `short entry: length ${length} needs ${length + ENTRY_PREFIX_BYTES + 1} bytes, ${left} left`, zeros: false };
  if (bytes[txnEnd] !== END_OF_RECORD) return { ok: false, reason: `missing end-of-record 'B' (found 0x${bytes[txnEnd]!.toString(16)})`, zeros: false };
  const actual = adler32(bytes, txnStart, txnEnd);
  if (crcHigh !== 0 || crc !== actual) {
    return { ok: false, reason: `checksum mismatch (stored 0x${crcHigh.toString(16)}${crc.toString(16).padStart(8, '0')}, computed 0x${actual.toString(16)})`, zeros: false };
  }
  return { ok: true, zxid: v.getBigInt64(txnStart + ZXID_OFFSET_IN_TXN), txnStart, txnEnd, end: txnEnd + 1 };
}

export interface ScannedEntry extends LoggedTxn {
  /** byte offset of the entry's checksum in the file */
  offset: number;
  /** byte offset just after its 'B' */
  end: number;
}

export interface LogFileScan {
  /** the file is shorter than a header and its bytes are a prefix of one (crash while creating it) */
  headerIncomplete: boolean;
  dbId: bigint;
  entries: ScannedEntry[];
  /** where the good prefix ends: after the header or after the last good entry's 'B' */
  goodEnd: number;
  /** why the bytes after goodEnd are not an entry; null when the file ends at goodEnd */
  tail: { reason: string; zeros: boolean; bytes: number } | null;
}

function corrupt(message: string): ZooLabError {
  return new ZooLabError('STORAGE_CORRUPT', message);
}

/**
 * Parses a whole log file. `name` is only for messages; `afterZxid` is the last zxid of the
 * previous log file (entries must be strictly increasing across files too).
 * Throws STORAGE_CORRUPT for a wrong magic/version, zxids that do not increase, or a bad
 * entry followed by a good one.
 */
export function scanLogFile(bytes: Uint8Array, name: string, afterZxid: Zxid | null = null): LogFileScan {
  const header = encodeFileHeader(TXNLOG_MAGIC, 0n);
  if (bytes.length < FILE_HEADER_BYTES) {
    // A crash between creating the file and writing its header leaves 0..15 bytes.
    const prefixOk = allZero(bytes, 0) || bytes.every((b, i) => i >= 8 || b === header[i]);
    if (!prefixOk) throw corrupt(`txn log ${name}: ${bytes.length} bytes that are not the start of a txn log header`);
    return { headerIncomplete: true, dbId: 0n, entries: [], goodEnd: 0, tail: null };
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nonZeroEnd = lastNonZero(bytes);
  // A crash while creating a preallocated file can keep the zeros but not (all of) the header.
  if (nonZeroEnd < 8 && bytes.subarray(0, 8).every((b, i) => b === 0 || b === header[i]) && !bytes.subarray(0, 8).every((b, i) => b === header[i])) {
    return { headerIncomplete: true, dbId: 0n, entries: [], goodEnd: 0, tail: null };
  }
  const magic = v.getInt32(0);
  if (magic !== TXNLOG_MAGIC) throw corrupt(`txn log ${name}: magic 0x${(magic >>> 0).toString(16)} is not "ZKLG" (0x5a4b4c47)`);
  const version = v.getInt32(4);
  if (version !== FILE_FORMAT_VERSION) throw corrupt(`txn log ${name}: format version ${version}, only ${FILE_FORMAT_VERSION} is supported`);
  const dbId = v.getBigInt64(8);

  const entries: ScannedEntry[] = [];
  let offset = FILE_HEADER_BYTES;
  let last = afterZxid;
  while (offset < bytes.length) {
    const p = probeEntry(bytes, offset, nonZeroEnd);
    if (!p.ok) {
      const tail = { reason: p.reason, zeros: p.zeros, bytes: bytes.length - offset };
      if (!p.zeros) assertNoGoodEntryAfter(bytes, name, offset, p.reason, last, nonZeroEnd);
      return { headerIncomplete: false, dbId, entries, goodEnd: offset, tail };
    }
    if (last !== null && p.zxid <= last) {
      throw corrupt(`txn log ${name}: entry at byte ${offset} has zxid ${hex(p.zxid)}, not after ${hex(last)}: zxids must increase`);
    }
    entries.push({ zxid: p.zxid, bytes: bytes.slice(p.txnStart, p.txnEnd), offset, end: p.end });
    last = p.zxid;
    offset = p.end;
  }
  return { headerIncomplete: false, dbId, entries, goodEnd: offset, tail: null };
}

/** Middle-of-log corruption check: a valid entry with a later zxid anywhere after a bad one. */
function assertNoGoodEntryAfter(bytes: Uint8Array, name: string, badAt: number, reason: string, last: Zxid | null, nonZeroEnd: number): void {
  // an entry ends with 'B', so none can start past the last non-zero byte
  for (let q = badAt + 1; q <= nonZeroEnd && q + ENTRY_PREFIX_BYTES + TXN_HEADER_BYTES + 1 <= bytes.length; q++) {
    // cheap filter first: an Adler-32 stored as a long has four zero high bytes
    if (bytes[q] !== 0 || bytes[q + 1] !== 0 || bytes[q + 2] !== 0 || bytes[q + 3] !== 0) continue;
    const p = probeEntry(bytes, q, nonZeroEnd);
    if (p.ok && (last === null || p.zxid > last)) {
      throw corrupt(
        `txn log ${name} is corrupt in the middle: the entry at byte ${badAt} is bad (${reason}) but a valid entry ` +
          `(zxid ${hex(p.zxid)}) follows at byte ${q}. This is not a torn tail, so ZooLab will not drop the txns after it. ` +
          `Restore this data directory from a backup, or delete it and let the server resync from the ensemble.`,
      );
    }
  }
}
