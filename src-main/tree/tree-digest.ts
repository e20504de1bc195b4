/**
 * ZooKeeper's data-tree digest (3.6+, digest version 2), value for value, so `hash` answers
 * what ZooKeeper answers for the same tree:
 *
 *  - a znode's digest is CRC-32 over: the path's bytes ("/" counts as ""), the data bytes, then
 *    60 big-endian bytes czxid, mzxid, pzxid, ctime, mtime (8 each), version, cversion,
 *    aversion (4 each), ephemeralOwner (8). The stat is the persisted one: cversion is the
 *    stored creation count, ephemeralOwner the internal value (containers and TTL nodes too).
 *  - nodes under "/zookeeper/" count 0 (their quota bookkeeping is local to each server);
 *    "/zookeeper" itself counts.
 *  - the tree digest is the sum of every znode's digest, wrapping at 2^64 (AdHash): a change
 *    subtracts the node's old digest and adds its new one, so it is never recomputed.
 *  - after each whole txn (a multi counts once) whose zxid is a multiple of 128, the pair
 *    (zxid, tree digest) joins a history of the last 1024; `hash` prints that history.
 */
import type { StatPersisted } from '../jute/types';
import { crc32Finish, crc32Start, crc32Update, crc32UpdateByte } from './crc32';

export const DIGEST_VERSION = 2;
export const DIGEST_LOG_INTERVAL = 128n;
export const DIGEST_LOG_ENTRIES_MAX = 1024;
const UNCOUNTED_PREFIX = '/zookeeper/';

const STAT_BYTES = 60;
const scratch = new Uint8Array(STAT_BYTES);
const scratchView = new DataView(scratch.buffer);
const utf8 = new TextEncoder();

/** Whether a znode's digest counts towards the tree digest. */
export function digestCounts(path: string): boolean {
  return !path.startsWith(UNCOUNTED_PREFIX);
}

function crcPath(running: number, path: string): number {
  let c = running;
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    // not ASCII: encode the whole path as UTF-8 (Java's String.getBytes on a UTF-8 platform)
    if (code >= 0x80) return crc32Update(running, utf8.encode(path));
    c = crc32UpdateByte(c, code);
  }
  return c;
}

/** One znode's digest (unsigned 32-bit), as ZooKeeper's DigestCalculator computes it. */
export function nodeDigest(path: string, data: Uint8Array | null, stat: StatPersisted): number {
  if (!digestCounts(path)) return 0;
  let c = crcPath(crc32Start(), path === '/' ? '' : path);
  if (data !== null) c = crc32Update(c, data);
  const v = scratchView;
  v.setBigInt64(0, stat.czxid);
  v.setBigInt64(8, stat.mzxid);
  v.setBigInt64(16, stat.pzxid);
  v.setBigInt64(24, stat.ctime);
  v.setBigInt64(32, stat.mtime);
  v.setInt32(40, stat.version);
  v.setInt32(44, stat.cversion);
  v.setInt32(48, stat.aversion);
  v.setBigInt64(52, stat.ephemeralOwner);
  return crc32Finish(crc32Update(c, scratch));
}

const TWO_32 = 2 ** 32;

/**
 * The sum of node digests modulo 2^64, in two 32-bit halves so that every add stays in plain
 * numbers (a per-change BigInt would cost more than the CRC).
 */
export class TreeDigestSum {
  private low = 0;
  private high = 0;

  add(digest: number): void {
    this.low += digest;
    if (this.low >= TWO_32) {
      this.low -= TWO_32;
      this.high = (this.high + 1) >>> 0;
    }
  }

  remove(digest: number): void {
    this.low -= digest;
    if (this.low < 0) {
      this.low += TWO_32;
      this.high = (this.high - 1) >>> 0;
    }
  }

  /** As a Java long (signed 64-bit), which is how ZooKeeper prints it. */
  value(): bigint {
    return BigInt.asIntN(64, (BigInt(this.high) << 32n) | BigInt(this.low));
  }
}

export interface ZxidDigest {
  zxid: bigint;
  /** signed 64-bit, as ZooKeeper prints it */
  digest: bigint;
}

/** The recent history `hash` prints: one entry per 128 zxids, the last 1024 of them. */
export class ZxidDigestLog {
  private readonly entries: ZxidDigest[] = [];

  /** Called after every whole txn; keeps the pair when the zxid is on the interval. */
  record(zxid: bigint, digest: TreeDigestSum | bigint): void {
    if (zxid % DIGEST_LOG_INTERVAL !== 0n) return;
    // the sum is read only here, once per 128 txns: value() builds BigInts
    this.entries.push({ zxid, digest: typeof digest === 'bigint' ? digest : digest.value() });
    if (this.entries.length > DIGEST_LOG_ENTRIES_MAX) this.entries.shift();
  }

  list(): ZxidDigest[] {
    return this.entries.map((e) => ({ ...e }));
  }
}
