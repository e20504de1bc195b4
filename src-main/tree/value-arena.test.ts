import { describe, expect, it } from 'vitest';
import { ValueArena } from './value-arena';

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

/** What the tree keeps for a packed value: its slab, offset and length. */
interface Kept {
  slab: Uint8Array;
  at: number;
  length: number;
}
function put(arena: ValueArena, v: Uint8Array): Kept {
  const at = arena.pack(v);
  expect(at).toBeGreaterThanOrEqual(0);
  return { slab: arena.slab, at, length: v.length };
}
const view = (k: Kept) => k.slab.subarray(k.at, k.at + k.length);

describe('ValueArena', () => {
  it('pack: small values are copies packed one after another into one slab; empty and large values are not packed', () => {
    const arena = new ValueArena({ slabBytes: 1024, packedBytesMax: 256 });
    const src = bytes(100, 7);
    const a = put(arena, src);
    const b = put(arena, bytes(100, 9));
    expect([...view(a)]).toEqual([...src]);
    src.fill(1); // the packed copy does not follow its source
    expect(view(a).every((x) => x === 7)).toBe(true);
    expect(b.slab).toBe(a.slab);
    expect([a.at, b.at]).toEqual([0, 100]);
    expect(arena.stats()).toEqual({ slabs: 1, slabBytes: 1024, liveBytes: 200 });
    expect(arena.pack(new Uint8Array(0))).toBe(-1);
    expect(arena.pack(bytes(257, 3))).toBe(-1);
    expect(arena.stats().liveBytes).toBe(200);
  });

  it('a value that does not fit starts a new slab; a slab whose values are all released is let go', () => {
    const arena = new ValueArena({ slabBytes: 1024, packedBytesMax: 512 });
    const first = [put(arena, bytes(500, 1)), put(arena, bytes(500, 2))];
    const third = put(arena, bytes(500, 3)); // 1000 + 500 > 1024
    expect(third.slab).not.toBe(first[0]!.slab);
    expect(arena.stats()).toEqual({ slabs: 2, slabBytes: 2048, liveBytes: 1500 });
    arena.release(first[0]!.slab, 500);
    expect(arena.stats().slabs).toBe(2);
    arena.release(first[1]!.slab, 500);
    expect(arena.stats()).toEqual({ slabs: 1, slabBytes: 1024, liveBytes: 500 });
    // the current slab stays while it is being filled, even with nothing in use
    arena.release(third.slab, 500);
    expect(arena.stats()).toEqual({ slabs: 1, slabBytes: 1024, liveBytes: 0 });
    // released values keep their bytes: a slab is never written twice
    expect(view(first[1]!).every((x) => x === 2)).toBe(true);
  });

  it('release of a slab it does not hold, or of more than is in use, breaks an invariant', () => {
    const arena = new ValueArena({ slabBytes: 1024 });
    expect(() => arena.release(bytes(10, 1), 10)).toThrow(/does not hold/);
    const v = put(arena, bytes(10, 1));
    arena.release(v.slab, 10);
    expect(() => arena.release(v.slab, 10)).toThrow(/released twice/);
  });

  it('compacting: set once dead bytes in slabs exceed both the live bytes and the floor; moving the values of sparse slabs frees them', () => {
    const arena = new ValueArena({ slabBytes: 1000, packedBytesMax: 100, compactAfterBytes: 2000 });
    // 50 slabs of 10 values; every slab keeps one long-lived value, the rest are overwritten
    const kept: Kept[] = [];
    const churn: Kept[] = [];
    for (let s = 0; s < 50; s++) {
      kept.push(put(arena, bytes(100, s)));
      for (let i = 0; i < 9; i++) churn.push(put(arena, bytes(100, 200)));
    }
    expect(arena.compacting).toBe(false); // everything is in use
    for (const v of churn) arena.release(v.slab, v.length);
    expect(arena.stats()).toEqual({ slabs: 50, slabBytes: 50_000, liveBytes: 5000 });
    expect(arena.compacting).toBe(true);
    let moved = 0;
    for (let i = 0; i < kept.length; i++) {
      const k = kept[i]!;
      if (!arena.needsMove(k.slab)) continue;
      kept[i] = put(arena, view(k)); // as the tree does: pack the copy, then release the old one
      arena.release(k.slab, k.length);
      moved += 1;
    }
    expect(moved).toBe(50); // the last one too: by then its slab is no longer the current one
    expect(arena.compacting).toBe(false);
    expect(arena.stats()).toEqual({ slabs: 5, slabBytes: 5000, liveBytes: 5000 });
    kept.forEach((k, s) => expect(view(k).every((x) => x === s)).toBe(true));
  });

  it('compacting: not below the floor, however sparse the slabs', () => {
    const arena = new ValueArena({ slabBytes: 1000, packedBytesMax: 100, compactAfterBytes: 10_000 });
    for (let s = 0; s < 5; s++) {
      put(arena, bytes(100, 1));
      for (let i = 0; i < 9; i++) {
        const v = put(arena, bytes(100, 2));
        arena.release(v.slab, v.length);
      }
    }
    put(arena, bytes(100, 1)); // fills a sixth slab: the fifth is no longer current
    expect(arena.stats().slabBytes - arena.stats().liveBytes).toBeGreaterThan(arena.stats().liveBytes);
    expect(arena.compacting).toBe(false);
  });
});
