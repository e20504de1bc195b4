/**
 * File names in a ZooKeeper data directory, exactly as ZooKeeper spells them (Util.makeLogName,
 * Util.makeSnapshotName): lower-case hex of the zxid without "0x" or padding.
 *
 *   <dataLogDir>/version-2/log.<hex zxid of the first txn in the file>
 *   <dataDir>/version-2/snapshot.<hex zxid of the last txn applied when it was started>
 *   <dataDir>/version-2/acceptedEpoch, currentEpoch (decimal text)
 */
import type { Zxid } from '../common/ids';
import { joinPath } from './disk';

export const VERSION_DIR = 'version-2';
export const LOG_PREFIX = 'log.';
export const SNAPSHOT_PREFIX = 'snapshot.';
/**
 * A snapshot being written. Deliberately NOT "snapshot.<hex>.tmp": ZooKeeper's
 * Util.getZxidFromName splits on "." and would take such a file for a snapshot.
 */
export const SNAPSHOT_TEMP_PREFIX = 'tmp.snapshot.';
export const ACCEPTED_EPOCH_FILE = 'acceptedEpoch';
export const CURRENT_EPOCH_FILE = 'currentEpoch';
/** AtomicFileOutputStream's temp suffix, used for the epoch files. */
export const TEMP_SUFFIX = '.tmp';

/** Where the snapshots and epoch files (snapDir) and the txn logs (logDir) live. */
export interface StorageLayout {
  snapDir: string;
  logDir: string;
}

/** dataDir/version-2 and dataLogDir/version-2 (dataLogDir defaults to dataDir, like zoo.cfg). */
export function storageLayout(dataDir: string, dataLogDir?: string): StorageLayout {
  return { snapDir: joinPath(dataDir, VERSION_DIR), logDir: joinPath(dataLogDir ?? dataDir, VERSION_DIR) };
}

function hexName(prefix: string, zxid: Zxid): string {
  return `${prefix}${BigInt.asUintN(64, zxid).toString(16)}`;
}

export function logFileName(firstZxid: Zxid): string {
  return hexName(LOG_PREFIX, firstZxid);
}

export function snapshotFileName(zxid: Zxid): string {
  return hexName(SNAPSHOT_PREFIX, zxid);
}

const HEX_RE = /^[0-9a-f]{1,16}$/;

/** The zxid in `<prefix><hex>`, or null when the name is not exactly that (e.g. compressed snapshots, temp files). */
export function zxidFromName(name: string, prefix: string): Zxid | null {
  if (!name.startsWith(prefix)) return null;
  const hex = name.slice(prefix.length);
  if (!HEX_RE.test(hex)) return null;
  return BigInt.asIntN(64, BigInt(`0x${hex}`));
}

/** Names with `prefix` and their zxids, ascending by zxid. */
export function filesByZxid(names: readonly string[], prefix: string): { name: string; zxid: Zxid }[] {
  const out: { name: string; zxid: Zxid }[] = [];
  for (const name of names) {
    const zxid = zxidFromName(name, prefix);
    if (zxid !== null) out.push({ name, zxid });
  }
  out.sort((x, y) => (x.zxid < y.zxid ? -1 : x.zxid > y.zxid ? 1 : 0));
  return out;
}
