/**
 * Where the tree keeps small znode values: copied into shared slabs instead of one ArrayBuffer
 * each. In V8 every ArrayBuffer with its own bytes costs ~500 bytes besides them (the JS
 * objects, the backing-store record, its GC bookkeeping, a malloc block): measured 596 bytes of
 * RSS for a 100-byte value on its own, 254 for the same value in a slab. A request's value
 * would otherwise stay a view into its whole request frame (~170 bytes for a 100-byte create).
 *
 * Slabs are never written twice: a value is copied in at the end of the current slab and the
 * slab is freed (by the GC) once no value in it is in use. Overwrites and deletes can leave
 * slabs mostly empty but pinned by a few long-lived values; the arena counts the bytes still in
 * use per slab, and when the slabs hold more dead bytes than live ones (and at least
 * `compactAfterBytes`), `compacting` says so: the tree then moves the values of sparse slabs
 * (`needsMove`) into fresh ones, a few per applied txn, which frees the sparse slabs. So the
 * slabs hold at most about twice the live bytes, plus `compactAfterBytes`.
 *
 * Values larger than `packedBytesMax` are kept as given (their own buffer costs little beside
 * them). Pure: no Buffer.
 */
import { assert } from '../common/assert';

export const VALUE_SLAB_BYTES = 16 * 1024;
export const VALUE_PACKED_BYTES_MAX = 512;
/** dead bytes in slabs tolerated before compacting, whatever the live bytes */
export const VALUE_COMPACT_AFTER_BYTES = 4 * 1024 * 1024;

interface Slab {
  readonly bytes: Uint8Array;
  /** bytes handed out (the next value goes at this offset) */
  used: number;
  /** bytes of values handed out and not released */
  live: number;
}

export interface ValueArenaOptions {
  slabBytes?: number;
  packedBytesMax?: number;
  compactAfterBytes?: number;
}

/**
 * The tree keeps a packed value as (slab, offset, length) rather than as a view: a Uint8Array
 * view is ~96 bytes of heap per znode; a view is made when a value is read.
 */
export class ValueArena {
  private readonly slabBytes: number;
  private readonly packedBytesMax: number;
  private readonly compactAfterBytes: number;
  private current: Slab | null = null;
  /** every slab holding a value in use (and the current one), by its bytes */
  private readonly slabs = new Map<Uint8Array, Slab>();
  private slabBytesHeld = 0;
  private liveBytesInSlabs = 0;

  constructor(options: ValueArenaOptions = {}) {
    this.slabBytes = options.slabBytes ?? VALUE_SLAB_BYTES;
    this.packedBytesMax = Math.min(options.packedBytesMax ?? VALUE_PACKED_BYTES_MAX, this.slabBytes);
    this.compactAfterBytes = options.compactAfterBytes ?? VALUE_COMPACT_AFTER_BYTES;
  }

  /**
   * Copies `v` into the current slab and returns its offset there (`slab` is that slab right
   * after the call), or -1 for a value kept as it is (empty, or larger than packedBytesMax).
   */
  pack(v: Uint8Array): number {
    const n = v.length;
    if (n === 0 || n > this.packedBytesMax) return -1;
    let slab = this.current;
    if (slab === null || slab.used + n > slab.bytes.length) slab = this.newSlab();
    const at = slab.used;
    slab.bytes.set(v, at);
    slab.used = at + n;
    slab.live += n;
    this.liveBytesInSlabs += n;
    return at;
  }

  /** The slab the last pack() copied into. */
  get slab(): Uint8Array {
    assert(this.current !== null, 'value arena: no slab yet');
    return this.current.bytes;
  }

  /** A value of `length` bytes that pack() put in `slab` is no longer kept. */
  release(slab: Uint8Array, length: number): void {
    const s = this.slabs.get(slab);
    assert(s !== undefined, 'value arena: release of a value in a slab it does not hold');
    s.live -= length;
    this.liveBytesInSlabs -= length;
    assert(s.live >= 0, 'value arena: a value released twice');
    if (s.live === 0 && s !== this.current) this.drop(s);
  }

  /** True when slabs hold more dead bytes than live ones (and more than compactAfterBytes). */
  get compacting(): boolean {
    const dead = this.slabBytesHeld - this.liveBytesInSlabs;
    return dead > this.compactAfterBytes && dead > this.liveBytesInSlabs;
  }

  /** Is `slab` (not the current one) less than half in use? Its values are worth moving. */
  needsMove(slab: Uint8Array): boolean {
    const s = this.slabs.get(slab);
    return s !== undefined && s !== this.current && s.live * 2 < s.bytes.length;
  }

  /** Slab bytes held (in use or not) and the bytes of values in use in them. */
  stats(): { slabs: number; slabBytes: number; liveBytes: number } {
    return { slabs: this.slabs.size, slabBytes: this.slabBytesHeld, liveBytes: this.liveBytesInSlabs };
  }

  private newSlab(): Slab {
    const old = this.current;
    const slab: Slab = { bytes: new Uint8Array(this.slabBytes), used: 0, live: 0 };
    this.slabs.set(slab.bytes, slab);
    this.slabBytesHeld += this.slabBytes;
    this.current = slab;
    if (old !== null && old.live === 0) this.drop(old);
    return slab;
  }

  private drop(slab: Slab): void {
    this.slabs.delete(slab.bytes);
    this.slabBytesHeld -= slab.bytes.length;
  }
}
