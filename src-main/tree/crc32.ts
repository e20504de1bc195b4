/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum java.util.zip.CRC32
 * computes: ZooKeeper's per-znode digest is one. Written here because the tree is pure (no
 * node:zlib). Slicing-by-8 (eight 256-entry tables, eight bytes per step) since every write
 * runs it over the node's data, up to 1 MiB; Int32Array so values stay 32-bit integers.
 */
const TABLES = ((): Int32Array => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
})();

/** Feeds `bytes` into a running CRC (start from `crc32Start()`), returns the new running value. */
export function crc32Update(running: number, bytes: Uint8Array): number {
  const t = TABLES;
  let c = running;
  let i = 0;
  const end8 = bytes.length - (bytes.length & 7);
  for (; i < end8; i += 8) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    c =
      t[7 * 256 + (c & 0xff)]! ^
      t[6 * 256 + ((c >>> 8) & 0xff)]! ^
      t[5 * 256 + ((c >>> 16) & 0xff)]! ^
      t[4 * 256 + (c >>> 24)]! ^
      t[3 * 256 + bytes[i + 4]!]! ^
      t[2 * 256 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!;
  }
  for (; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

/** Feeds one byte (0..255). */
export function crc32UpdateByte(running: number, byte: number): number {
  return TABLES[(running ^ byte) & 0xff]! ^ (running >>> 8);
}

export function crc32Start(): number {
  return -1;
}

/** The final CRC, unsigned 32-bit (what CRC32.getValue() returns). */
export function crc32Finish(running: number): number {
  return ~running >>> 0;
}

export function crc32(bytes: Uint8Array): number {
  return crc32Finish(crc32Update(crc32Start(), bytes));
}
