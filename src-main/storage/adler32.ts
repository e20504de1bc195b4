/**
 * Adler-32 (RFC 1950), the checksum ZooKeeper uses for txn-log entries and snapshots
 * (java.util.zip.Adler32). Pure, written by hand: no zlib in pure code.
 */
const MOD = 65521;
/** Largest n such that 255·n·(n+1)/2 + (n+1)·(MOD−1) < 2^32: sums stay exact between reductions. */
const NMAX = 5552;

/** A running Adler-32: update() with chunks, value() at any point. */
export class Adler32 {
  private a = 1;
  private b = 0;

  update(bytes: Uint8Array, start = 0, end = bytes.length): this {
    let a = this.a;
    let b = this.b;
    let i = start;
    while (i < end) {
      const stop = Math.min(end, i + NMAX);
      for (; i < stop; i++) {
        a += bytes[i]!;
        b += a;
      }
      a %= MOD;
      b %= MOD;
    }
    this.a = a;
    this.b = b;
    return this;
  }

  /** The checksum as an unsigned 32-bit number. */
  value(): number {
    return (this.b * 65536 + this.a) >>> 0;
  }
}

/** Adler-32 of bytes[start, end), unsigned 32-bit. */
export function adler32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return new Adler32().update(bytes, start, end).value();
}
