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

const EMPTY = new Uint8Array(0);

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

export class ValueArena {
  private readonly slabBytes: number;
  private readonly packedBytesMax: number;
  private readonly compactAfterBytes: number;
  private current: Slab | null = null;
  /** every slab holding a value in use (and the current one), by its buffer */
  private readonly slabs = new Map<ArrayBufferLike, Slab>();
  private slabBytesHeld = 0;
  private liveBytesInSlabs = 0;

  constructor(options: ValueArenaOptions = {}) {
    this.slabBytes = options.slabBytes ?? VALUE_SLAB_BYTES;
    this.packedBytesMax = Math.min(options.packedBytesMax ?? VALUE_PACKED_BYTES_MAX, this.slabBytes);
    this.compactAfterBytes = options.compactAfterBytes ?? VALUE_COMPACT_AFTER_BYTES;
  }

  /** The value to keep for `v`: a copy in a slab (small values), a shared empty array, or `v` itself. */
  store(v: Uint8Array | null): Uint8Array | null {
    if (v === null) return null;
    const n = v.length;
    if (n === 0) return EMPTY;
    if (n > this.packedBytesMax) return v;
    let slab = this.current;
    if (slab === null || slab.used + n > slab.bytes.length) slab = this.newSlab();
    const at = slab.used;
    slab.bytes.set(v, at);
    slab.used = at + n;
    slab.live += n;
    this.liveBytesInSlabs += n;
    return slab.bytes.subarray(at, at + n);
  }

  /** `v`, a value store() returned, is no longer kept. Anything else is ignored. */
  release(v: Uint8Array | null): void {
    if (v === null || v.length === 0) return;
    const slab = this.slabs.get(v.buffer);
    if (slab === undefined) return;
    slab.live -= v.length;
    this.liveBytesInSlabs -= v.length;
    assert(slab.live >= 0, 'value arena: a value released twice');
    if (slab.live === 0 && slab !== this.current) this.drop(slab);
  }

  /** Copies `v` into the current slab and releases it there: for compaction. */
  move(v: Uint8Array | null): Uint8Array | null {
    const moved = this.store(v);
    this.release(v);
    return moved;
  }

  /** True when slabs hold more dead bytes than live ones (and more than compactAfterBytes). */
  get compacting(): boolean {
    const dead = this.slabBytesHeld - this.liveBytesInSlabs;
    return dead > this.compactAfterBytes && dead > this.liveBytesInSlabs;
  }

  /** Is `v` in a slab (not the current one) less than half in use? Such values are worth moving. */
  needsMove(v: Uint8Array | null): boolean {
    if (v === null || v.length === 0) return false;
    const slab = this.slabs.get(v.buffer);
    return slab !== undefined && slab !== this.current && slab.live * 2 < slab.bytes.length;
  }

  /** Slab bytes held (in use or not) and the bytes of values in use in them. */
  stats(): { slabs: number; slabBytes: number; liveBytes: number } {
    return { slabs: this.slabs.size, slabBytes: this.slabBytesHeld, liveBytes: this.liveBytesInSlabs };
  }

  private newSlab(): Slab {
    const old = this.current;
    const slab: Slab = { bytes: new Uint8Array(this.slabBytes), used: 0, live: 0 };
    this.slabs.set(slab.bytes.buffer, slab);
    this.slabBytesHeld += this.slabBytes;
    this.current = slab;
    if (old !== null && old.live === 0) this.drop(old);
    return slab;
  }

  private drop(slab: Slab): void {
    this.slabs.delete(slab.bytes.buffer);
    this.slabBytesHeld -= slab.bytes.length;
  }
}
