/**
 * The ZAB epoch files `acceptedEpoch` and `currentEpoch` in dataDir/version-2: the number as
 * decimal text without a newline (QuorumPeer.writeLongToFile). Written atomically like
 * ZooKeeper's AtomicFileOutputStream: `<name>.tmp`, fsync, rename, then (better than
 * ZooKeeper) fsync of the directory so the rename itself survives a power cut.
 */
import { ZooLabError } from '../common/errors';
import { joinPath, type Disk } from './disk';
import { TEMP_SUFFIX } from './file-names';

/** ACCEPTED_EPOCH_FILE or CURRENT_EPOCH_FILE */
export type EpochFile = 'acceptedEpoch' | 'currentEpoch';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Parses an epoch file's text; null when the text is not a non-negative 32-bit number. */
export function parseEpochText(bytes: Uint8Array): number | null {
  const text = decoder.decode(bytes).trim();
  if (!/^\d{1,10}$/.test(text)) return null;
  const n = Number(text);
  return n <= 0xffffffff ? n : null;
}

/** The epoch in `dir/name`, or null when the file does not exist. Throws STORAGE_CORRUPT on garbage. */
export function readEpochFile(disk: Disk, dir: string, name: EpochFile | `${EpochFile}.tmp`): number | null {
  const bytes = disk.read(joinPath(dir, name));
  if (bytes === null) return null;
  const n = parseEpochText(bytes);
  if (n === null) {
    throw new ZooLabError('STORAGE_CORRUPT', `${joinPath(dir, name)} does not hold an epoch number (${JSON.stringify(decoder.decode(bytes.slice(0, 40)))})`);
  }
  return n;
}

/** Atomically replaces `dir/name` with `epoch`; resolves once durable. */
export async function writeEpochFile(disk: Disk, dir: string, name: EpochFile, epoch: number): Promise<void> {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffffffff) throw new RangeError(`epoch ${epoch} is not a 32-bit unsigned integer`);
  disk.mkdir(dir);
  const temp = joinPath(dir, `${name}${TEMP_SUFFIX}`);
  disk.write(temp, encoder.encode(String(epoch)));
  await disk.fsync(temp);
  disk.rename(temp, joinPath(dir, name));
  await disk.fsyncDir(dir);
}
