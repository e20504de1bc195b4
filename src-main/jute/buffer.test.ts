import { describe, expect, it } from 'vitest';
import { JuteReader, JuteUnderflow, JuteWriter } from './buffer';

const encoder = new TextEncoder();

function expected(prefix: number[], s: string): Uint8Array {
  const body = encoder.encode(s);
  const out = new Uint8Array(prefix.length + 4 + body.length);
  out.set(prefix, 0);
  new DataView(out.buffer).setInt32(prefix.length, body.length);
  out.set(body, prefix.length + 4);
  return out;
}

describe('JuteWriter.ustring', () => {
  const cases = [
    '',
    '/',
    '/bench-x/g-17',
    'zoë/ünïcödé',
    '/日本語/ノード',
    'emoji 🦓 and 🦒',
    'lone \ud800 surrogate and \udc00 too',
    'ascii first then é',
    'x'.repeat(300) + '€'.repeat(200),
  ];

  it.each(cases)('writes the same bytes as TextEncoder, after other bytes and growing the buffer (%#)', (s) => {
    const w = new JuteWriter(4);
    w.byte(7).ustring(s);
    expect(w.bytes()).toEqual(expected([7], s));
  });

  it('reads back what it wrote', () => {
    const w = new JuteWriter();
    for (const s of cases) w.ustring(s);
    w.ustring(null);
    const r = new JuteReader(w.bytes());
    for (const s of cases) expect(r.ustring()).toBe(s.includes('\ud800') ? new TextDecoder().decode(encoder.encode(s)) : s);
    expect(r.ustring()).toBeNull();
  });
});

describe('JuteWriter frames and take', () => {
  const fill = (w: JuteWriter, n: number) => {
    w.int(n).long(-2n).ustring('/a/b').buffer(new Uint8Array(n).fill(9)).bool(true);
    return w;
  };

  it.each([0, 10, 300, 5000])('a framing writer frames the same bytes as a plain one, growing or not (%i data bytes)', (n) => {
    const plain = fill(new JuteWriter(8), n);
    const framing = fill(new JuteWriter(8, true), n);
    expect(framing.length).toBe(plain.length);
    expect(framing.bytes()).toEqual(plain.bytes());
    const f = framing.frame();
    expect(f).toEqual(plain.frame());
    expect(new DataView(f.buffer, f.byteOffset, 4).getInt32(0)).toBe(plain.length);
  });

  it('take returns the bytes written; a much larger buffer is copied, not kept', () => {
    const small = fill(new JuteWriter(256), 10);
    expect(small.take()).toEqual(small.bytes());
    const big = new JuteWriter(1 << 16).int(7);
    const t = big.take();
    expect(Array.from(t)).toEqual([0, 0, 0, 7]);
    expect(t.buffer.byteLength).toBe(4);
  });
});

describe('JuteReader.buffer', () => {
  const bytes = new JuteWriter().int(7).buffer(new Uint8Array([1, 2, 3])).buffer(null).bytes();

  it('copies by default: the value does not change with the bytes it was read from', () => {
    const src = bytes.slice();
    const r = new JuteReader(src);
    r.int();
    const v = r.buffer()!;
    expect(r.buffer()).toBeNull();
    src.fill(0);
    expect(Array.from(v)).toEqual([1, 2, 3]);
  });

  it('with shareBuffers, returns a view into the bytes (same values, no copy)', () => {
    const src = bytes.slice();
    const r = new JuteReader(src);
    r.shareBuffers = true;
    r.int();
    const v = r.buffer()!;
    expect(Array.from(v)).toEqual([1, 2, 3]);
    expect(v.buffer).toBe(src.buffer);
    expect(r.buffer()).toBeNull();
  });
});

describe('JuteWriter reuse', () => {
  it('viewFrom shows the bytes written since a length taken earlier; a view made before growth keeps its bytes', () => {
    const w = new JuteWriter(8);
    w.int(1);
    const a = w.viewFrom(0);
    const at = w.length;
    w.buffer(new Uint8Array(100).fill(5));
    const b = w.viewFrom(at);
    expect(Array.from(a)).toEqual([0, 0, 0, 1]);
    expect(b.length).toBe(104);
    expect(b[4]).toBe(5);
  });

  it('reset empties the writer, and lets go of a buffer grown past keepBytesMax', () => {
    const w = new JuteWriter(16);
    w.raw(new Uint8Array(1000).fill(1));
    const big = w.viewFrom(0);
    w.reset(512);
    expect(w.length).toBe(0);
    w.int(9);
    expect(Array.from(w.bytes())).toEqual([0, 0, 0, 9]);
    expect(big[0]).toBe(1); // the old buffer was let go, not overwritten
  });
});

describe('JuteReader over views', () => {
  it('reads a subarray from its own start, also when readers of other buffers come between', () => {
    const all = new JuteWriter(64).int(7).long(-3n).int(9).long(0x1_0000_0002n).bytes();
    const second = new JuteReader(all.subarray(12));
    const other = new JuteReader(new JuteWriter(8).int(42).bytes());
    const first = new JuteReader(all.subarray(0, 12));
    expect(second.int()).toBe(9);
    expect(other.int()).toBe(42);
    expect(first.int()).toBe(7);
    expect(second.long()).toBe(0x1_0000_0002n);
    expect(first.long()).toBe(-3n);
    expect(() => first.int()).toThrow(JuteUnderflow);
  });
});
