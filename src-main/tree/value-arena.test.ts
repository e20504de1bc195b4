import { describe, expect, it } from 'vitest';
import { ValueArena } from './value-arena';

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('ValueArena', () => {
  it('store: small values are copies packed into one slab; null, empty and large values are not', () => {
    const arena = new ValueArena({ slabBytes: 1024, packedBytesMax: 256 });
    const src = bytes(100, 7);
    const a = arena.store(src)!;
    const b = arena.store(bytes(100, 9))!;
    expect([...a]).toEqual([...src]);
    src.fill(1); // the stored copy does not follow its source
    expect(a.every((x) => x === 7)).toBe(true);
    expect(a.buffer).toBe(b.buffer);
    expect(b.byteOffset).toBe(100);
    expect(arena.stats()).toEqual({ slabs: 1, slabBytes: 1024, liveBytes: 200 });
    expect(arena.store(null)).toBeNull();
    expect(arena.store(new Uint8Array(0))!.length).toBe(0);
    const large = bytes(257, 3);
    expect(arena.store(large)).toBe(large);
    expect(arena.stats().liveBytes).toBe(200);
  });

  it('a value that does not fit starts a new slab; a slab whose values are all released is let go', () => {
    const arena = new ValueArena({ slabBytes: 1024, packedBytesMax: 512 });
    const first = [arena.store(bytes(500, 1))!, arena.store(bytes(500, 2))!];
    const third = arena.store(bytes(500, 3))!; // 1000 + 500 > 1024
    expect(third.buffer).not.toBe(first[0]!.buffer);
    expect(arena.stats()).toEqual({ slabs: 2, slabBytes: 2048, liveBytes: 1500 });
    arena.release(first[0]!);
    expect(arena.stats().slabs).toBe(2);
    arena.release(first[1]!);
    expect(arena.stats()).toEqual({ slabs: 1, slabBytes: 1024, liveBytes: 500 });
    // the current slab stays while it is being filled, even with nothing in use
    arena.release(third);
    expect(arena.stats()).toEqual({ slabs: 1, slabBytes: 1024, liveBytes: 0 });
    // released values keep their bytes: a slab is never written twice
    expect(first[1]!.every((x) => x === 2)).toBe(true);
  });

  it('release ignores values it did not store; releasing one twice breaks an invariant', () => {
    const arena = new ValueArena({ slabBytes: 1024 });
    arena.release(bytes(10, 1));
    arena.release(null);
    const v = arena.store(bytes(10, 1));
    arena.release(v);
    expect(() => arena.release(v)).toThrow(/released twice/);
  });

  it('compacting: set once dead bytes in slabs exceed both the live bytes and the floor; moving the sparse values frees their slabs', () => {
    const arena = new ValueArena({ slabBytes: 1000, packedBytesMax: 100, compactAfterBytes: 2000 });
    // 50 slabs of 10 values; every slab keeps one long-lived value, the rest are overwritten
    const kept: Uint8Array[] = [];
    const churn: Uint8Array[] = [];
    for (let s = 0; s < 50; s++) {
      kept.push(arena.store(bytes(100, s))!);
      for (let i = 0; i < 9; i++) churn.push(arena.store(bytes(100, 200))!);
    }
    expect(arena.compacting).toBe(false); // everything is in use
    for (const v of churn) arena.release(v);
    expect(arena.stats()).toEqual({ slabs: 50, slabBytes: 50_000, liveBytes: 5000 });
    expect(arena.compacting).toBe(true);
    let moved = 0;
    for (let i = 0; i < kept.length; i++) {
      if (!arena.needsMove(kept[i]!)) continue;
      kept[i] = arena.move(kept[i]!)!;
      moved += 1;
    }
    expect(moved).toBe(50); // the last one too: by then its slab is no longer the current one
    expect(arena.compacting).toBe(false);
    expect(arena.stats()).toEqual({ slabs: 5, slabBytes: 5000, liveBytes: 5000 });
    kept.forEach((v, s) => expect(v.every((x) => x === s)).toBe(true));
  });

  it('compacting: not below the floor, however sparse the slabs', () => {
    const arena = new ValueArena({ slabBytes: 1000, packedBytesMax: 100, compactAfterBytes: 10_000 });
    for (let s = 0; s < 5; s++) {
      arena.store(bytes(100, 1));
      for (let i = 0; i < 9; i++) arena.release(arena.store(bytes(100, 2)));
    }
    arena.store(bytes(100, 1)); // fills a sixth slab: the fifth is no longer current
    expect(arena.stats().slabBytes - arena.stats().liveBytes).toBeGreaterThan(arena.stats().liveBytes);
    expect(arena.compacting).toBe(false);
  });
});
