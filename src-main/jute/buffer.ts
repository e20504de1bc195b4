/**
 * Jute primitives over Uint8Array: big-endian ints and longs, booleans, length-prefixed
 * buffers and strings (-1 = null), vectors. Pure: no Buffer, no sockets.
 * A reader that runs past its end throws JuteUnderflow; callers turn that into
 * "malformed frame" and close that one connection.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export class JuteUnderflow extends Error {
  override name = 'JuteUnderflow';
}

export class JuteFormatError extends Error {
  override name = 'JuteFormatError';
}

/**
 * One DataView per buffer, not per reader: the frames of one socket chunk (a peer link's
 * PROPOSALs, a client's requests) are views into the same buffer, and a DataView each was a
 * measurable share of decoding. Keeps the last buffer read alive until another one is read.
 */
let lastBuffer: ArrayBufferLike | null = null;
let lastView: DataView | null = null;

function viewOf(buffer: ArrayBufferLike): DataView {
  if (buffer !== lastBuffer || lastView === null) {
    lastView = new DataView(buffer);
    lastBuffer = buffer;
  }
  return lastView;
}

export class JuteReader {
  /** over the whole of bytes.buffer; `at` is where bytes starts in it */
  private readonly view: DataView;
  private readonly at: number;
  offset: number;
  /**
   * buffer() returns a view into `bytes` instead of a copy. Only for bytes the reader's user
   * owns and never changes (a frame payload the frame decoder copied out for it): a value
   * then keeps the whole of `bytes` alive.
   */
  shareBuffers = false;

  constructor(
    readonly bytes: Uint8Array,
    offset = 0,
    private readonly end = bytes.length,
  ) {
    this.view = viewOf(bytes.buffer);
    this.at = bytes.byteOffset;
    this.offset = offset;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number): void {
    if (this.offset + n > this.end) {
      throw new JuteUnderflow(`record needs ${n} more bytes at offset ${this.offset}, has ${this.end - this.offset}`);
    }
  }

  int(): number {
    this.need(4);
    const v = this.view.getInt32(this.at + this.offset);
    this.offset += 4;
    return v;
  }

  long(): bigint {
    this.need(8);
    const v = this.view.getBigInt64(this.at + this.offset);
    this.offset += 8;
    return v;
  }

  bool(): boolean {
    this.need(1);
    return this.bytes[this.offset++] !== 0;
  }

  byte(): number {
    this.need(1);
    const v = this.view.getInt8(this.at + this.offset);
    this.offset += 1;
    return v;
  }

  buffer(): Uint8Array | null {
    const len = this.int();
    if (len === -1) return null;
    if (len < -1) throw new JuteFormatError(`negative buffer length ${len}`);
    this.need(len);
    const out = this.shareBuffers ? this.bytes.subarray(this.offset, this.offset + len) : this.bytes.slice(this.offset, this.offset + len);
    this.offset += len;
    return out;
  }

  ustring(): string | null {
    const len = this.int();
    if (len === -1) return null;
    if (len < -1) throw new JuteFormatError(`negative string length ${len}`);
    this.need(len);
    const out = decoder.decode(this.bytes.subarray(this.offset, this.offset + len));
    this.offset += len;
    return out;
  }

  /** A string where null is not meaningful (paths): null reads as "". */
  string(): string {
    return this.ustring() ?? '';
  }

  vector<T>(item: (r: JuteReader) => T): T[] | null {
    const count = this.int();
    if (count === -1) return null;
    if (count < -1) throw new JuteFormatError(`negative vector length ${count}`);
    // each element takes at least one byte: a count larger than what is left is malformed
    if (count > this.remaining) throw new JuteUnderflow(`vector of ${count} elements in ${this.remaining} bytes`);
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(item(this));
    return out;
  }
}

export class JuteWriter {
  private buf: Uint8Array;
  private view: DataView;
  /** where the next byte goes (absolute in buf) */
  private pos: number;
  /** 4 when the writer keeps room for a frame's length prefix in front (see framing) */
  private readonly base: number;

  /**
   * framing: the writer is for one frame (frame() is what it returns): it writes after 4 bytes
   * kept free for the length prefix, so frame() hands out its buffer instead of copying it.
   */
  constructor(initialBytes = 256, framing = false) {
    this.base = framing ? 4 : 0;
    this.pos = this.base;
    this.buf = new Uint8Array(initialBytes + this.base);
    this.view = new DataView(this.buf.buffer);
  }

  /** The bytes written so far (not counting a framing writer's prefix). */
  get length(): number {
    return this.pos - this.base;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  int(v: number): this {
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
    return this;
  }

  long(v: bigint): this {
    this.ensure(8);
    // setBigInt64 takes v modulo 2^64 itself: an unsigned 64-bit value (a session id read as
    // such) writes the same bytes without a BigInt.asIntN (a new BigInt) per long
    this.view.setBigInt64(this.pos, v);
    this.pos += 8;
    return this;
  }

  bool(v: boolean): this {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
    return this;
  }

  byte(v: number): this {
    this.ensure(1);
    this.view.setInt8(this.pos, v);
    this.pos += 1;
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  buffer(v: Uint8Array | null): this {
    if (v === null) return this.int(-1);
    this.int(v.length);
    return this.raw(v);
  }

  /**
   * UTF-8 straight into the buffer (no intermediate array per string): ASCII, the usual path,
   * byte by byte; anything else through TextEncoder.encodeInto. Same bytes as encoder.encode.
   */
  ustring(v: string | null): this {
    if (v === null) return this.int(-1);
    const n = v.length;
    this.ensure(4 + n * 3);
    const start = this.pos + 4;
    const buf = this.buf;
    let i = 0;
    for (; i < n; i++) {
      const c = v.charCodeAt(i);
      if (c >= 0x80) break;
      buf[start + i] = c;
    }
    let written = i;
    if (i < n) written = i + encoder.encodeInto(v.slice(i), buf.subarray(start + i)).written;
    this.view.setInt32(this.pos, written);
    this.pos = start + written;
    return this;
  }

  vector<T>(items: readonly T[] | null, item: (w: JuteWriter, v: T) => void): this {
    if (items === null) return this.int(-1);
    this.int(items.length);
    for (const v of items) item(this, v);
    return this;
  }

  /** The bytes written so far (a copy). */
  bytes(): Uint8Array {
    return this.buf.slice(this.base, this.pos);
  }

  /**
   * The bytes written so far, without a copy when the buffer is at most about twice their size
   * (else a copy, so a big buffer is not kept for a small result). For a writer that is
   * dropped after this call (an encoder's last step): later writes would show through.
   */
  take(): Uint8Array {
    return this.tight(this.base);
  }

  /**
   * The bytes written so far, prefixed with their int32 length: one frame. A framing writer
   * returns its own buffer (see take) instead of a copy; it is done after this call.
   */
  frame(): Uint8Array {
    if (this.base === 4) {
      this.view.setInt32(0, this.pos - 4);
      return this.tight(0);
    }
    const out = new Uint8Array(this.pos + 4);
    new DataView(out.buffer).setInt32(0, this.pos);
    out.set(this.buf.subarray(0, this.pos), 4);
    return out;
  }

  /**
   * Overwrites the int32 at `at` (a length taken earlier, before an int() written as a
   * placeholder): a length prefix known only once what follows it is written.
   */
  patchInt(at: number, v: number): this {
    if (at < 0 || this.base + at + 4 > this.pos) throw new RangeError(`patchInt at ${at} outside the ${this.pos - this.base} bytes written`);
    this.view.setInt32(this.base + at, v);
    return this;
  }

  /** The bytes from `start` (a length() taken earlier) to the end: a view, no copy. */
  viewFrom(start: number): Uint8Array {
    return this.buf.subarray(this.base + start, this.pos);
  }

  /**
   * Empties the writer for reuse (views handed out before see later writes). A buffer grown
   * past `keepBytesMax` is let go, so one large value does not keep a large buffer.
   */
  reset(keepBytesMax = 65_536): void {
    this.pos = this.base;
    if (this.buf.length > keepBytesMax) {
      this.buf = new Uint8Array(Math.min(4096, keepBytesMax) + this.base);
      this.view = new DataView(this.buf.buffer);
    }
  }

  private tight(from: number): Uint8Array {
    const n = this.pos - from;
    return this.buf.length - n <= Math.max(256, n) ? this.buf.subarray(from, this.pos) : this.buf.slice(from, this.pos);
  }
}

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

export function fromUtf8(b: Uint8Array): string {
  return decoder.decode(b);
}
