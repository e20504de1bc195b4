import { describe, expect, it } from 'vitest';
import { Adler32, adler32, adler32Combine } from './adler32';

function naive(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const x of bytes) {
    a = (a + x) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

describe('adler32', () => {
  it('adler32: known vectors (RFC 1950 / java.util.zip.Adler32)', () => {
    expect(adler32(new Uint8Array(0))).toBe(1);
    expect(adler32(new TextEncoder().encode('Wikipedia'))).toBe(0x11e60398);
    expect(adler32(new TextEncoder().encode('abc'))).toBe(0x024d0127);
  });

  it('adler32: long runs of 0xff (worst case for the deferred modulo) match the step-by-step definition', () => {
    for (const n of [5551, 5552, 5553, 100_000]) {
      const bytes = new Uint8Array(n).fill(0xff);
      expect(adler32(bytes)).toBe(naive(bytes));
    }
  });

  it('adler32: every length 0..40 at every start 0..9 matches the step-by-step definition (the 8-byte steps and their tail)', () => {
    const bytes = new Uint8Array(64).map((_, i) => (i * 97 + 13) & 0xff);
    for (let start = 0; start < 10; start++) {
      for (let n = 0; n <= 40; n++) expect(adler32(bytes, start, start + n)).toBe(naive(bytes.slice(start, start + n)));
    }
  });

  it('adler32: chunked updates equal one update; start/end select a range', () => {
    const bytes = new Uint8Array(20_000).map((_, i) => (i * 31 + 7) & 0xff);
    const running = new Adler32().update(bytes, 0, 777).update(bytes, 777, 13_000).update(bytes, 13_000);
    expect(running.value()).toBe(adler32(bytes));
    expect(adler32(bytes, 100, 200)).toBe(naive(bytes.slice(100, 200)));
  });

  it('adler32Combine: the checksum of A+B from the parts, at every split and for lengths past the modulus', () => {
    const bytes = new Uint8Array(3000).map((_, i) => (i * 131 + 17) & 0xff);
    for (const split of [0, 1, 2, 999, 2999, 3000]) {
      expect(adler32Combine(adler32(bytes, 0, split), adler32(bytes, split), bytes.length - split)).toBe(adler32(bytes));
    }
    const big = new Uint8Array(200_000).fill(0xff);
    expect(adler32Combine(adler32(big, 0, 70_000), adler32(big, 70_000), 130_000)).toBe(naive(big));
    expect(adler32Combine(adler32(new Uint8Array(0)), adler32(big), big.length)).toBe(adler32(big));
  });
});
