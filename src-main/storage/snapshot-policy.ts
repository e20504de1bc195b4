/**
 * When to roll the txn log and take a snapshot: ZooKeeper's SyncRequestProcessor rule.
 * After each logged txn: snapshot when count > snapCount/2 + randRoll, or (if a size limit is
 * set) when bytes > snapSizeBytes/2 + randSize, where randRoll ∈ [0, snapCount/2) and
 * randSize ∈ [0, snapSizeBytes/2) are drawn again after every snapshot, so the servers of an
 * ensemble do not all snapshot at the same moment. Randomness is passed in. Pure.
 */
import { assert } from '../common/assert';

export interface SnapshotPolicyOptions {
  /** zoo.cfg snapCount (default 100000); ZooKeeper raises values below 2 to 2 */
  snapCount: number;
  /** zookeeper.snapSizeLimitInKb × 1024 (ZooKeeper default 4 GiB); 0 or less disables the size rule */
  snapSizeBytes?: number;
  /** a uniform integer in [0, bound) for bound >= 1 */
  randomInt: (bound: number) => number;
}

export const SNAP_COUNT_DEFAULT = 100_000;
export const SNAP_SIZE_BYTES_DEFAULT = 4 * 1024 * 1024 * 1024;

export class SnapshotPolicy {
  private readonly snapCount: number;
  private readonly snapSizeBytes: number;
  private randRoll = 0;
  private randSize = 0;
  private txnCount = 0;
  private txnBytes = 0;

  constructor(private readonly options: SnapshotPolicyOptions) {
    this.snapCount = Math.max(2, Math.floor(options.snapCount));
    this.snapSizeBytes = options.snapSizeBytes ?? SNAP_SIZE_BYTES_DEFAULT;
    this.reset();
  }

  /** Txns logged since the last snapshot. */
  get count(): number {
    return this.txnCount;
  }

  /**
   * Call after each logged txn with its size. True means: roll the log and start a snapshot
   * now (the counters restart and a new random offset is drawn).
   */
  txnLogged(sizeBytes: number): boolean {
    this.txnCount += 1;
    this.txnBytes += sizeBytes;
    const byCount = this.txnCount > Math.floor(this.snapCount / 2) + this.randRoll;
    const bySize = this.snapSizeBytes > 0 && this.txnBytes > Math.floor(this.snapSizeBytes / 2) + this.randSize;
    if (!byCount && !bySize) return false;
    this.reset();
    return true;
  }

  private reset(): void {
    this.txnCount = 0;
    this.txnBytes = 0;
    this.randRoll = this.draw(Math.floor(this.snapCount / 2));
    this.randSize = this.snapSizeBytes > 0 ? this.draw(Math.max(1, Math.floor(this.snapSizeBytes / 2))) : 0;
  }

  private draw(bound: number): number {
    const n = this.options.randomInt(bound);
    assert(Number.isInteger(n) && n >= 0 && n < bound, `randomInt(${bound}) returned ${n}`);
    return n;
  }
}
