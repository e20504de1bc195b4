import { describe, expect, it } from 'vitest';
import { limits } from '../common/limits';
import { FrameDecoder, OpCode, encodeConnectRequestFrame, encodeRequestFrame, type FramePush } from './index';
import { asciiHex, hexBytes, toHex } from './test-hex';

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const frames = [
  encodeConnectRequestFrame({ protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false }),
  encodeRequestFrame(1, { type: OpCode.getData, req: { path: '/a', watch: true } }),
  hexBytes('00000000'), // an empty frame is legal
  encodeRequestFrame(-2, { type: OpCode.ping, req: null }),
  encodeRequestFrame(2, { type: OpCode.setData, req: { path: '/big', data: new Uint8Array(300).fill(7), version: -1 } }),
];
const stream = concat(frames);
const payloads = frames.map((f) => toHex(f.subarray(4)));

function collect(decoder: FrameDecoder, chunks: Uint8Array[]): { frames: string[]; pushes: FramePush[] } {
  const out: string[] = [];
  const pushes: FramePush[] = [];
  for (const c of chunks) {
    const p = decoder.push(c);
    pushes.push(p);
    out.push(...p.frames.map(toHex));
  }
  return { frames: out, pushes };
}

describe('FrameDecoder', () => {
  it('whole stream in one chunk → every frame, in order', () => {
    expect(collect(new FrameDecoder(), [stream]).frames).toEqual(payloads);
  });

  it('stream split at every byte boundary (two chunks) → the same frames', () => {
    for (let i = 0; i <= stream.length; i++) {
      const d = new FrameDecoder({ detectFourLetterWords: true });
      const got = collect(d, [stream.subarray(0, i), stream.subarray(i)]);
      expect(got.frames, `split at ${i}`).toEqual(payloads);
      expect(d.bufferedBytes).toBe(0);
    }
  });

  it('stream split at every pair of boundaries (three chunks) → the same frames', () => {
    const small = concat(frames.slice(0, 4));
    const want = payloads.slice(0, 4);
    for (let i = 0; i <= small.length; i++) {
      for (let j = i; j <= small.length; j++) {
        const got = collect(new FrameDecoder(), [small.subarray(0, i), small.subarray(i, j), small.subarray(j)]);
        expect(got.frames, `split at ${i},${j}`).toEqual(want);
      }
    }
  });

  it('one byte at a time → the same frames', () => {
    const chunks = Array.from(stream, (b) => Uint8Array.of(b));
    expect(collect(new FrameDecoder(), chunks).frames).toEqual(payloads);
  });

  it('a large frame trickled one byte per push is decoded in linear time', () => {
    const big = encodeRequestFrame(3, { type: OpCode.setData, req: { path: '/t', data: new Uint8Array(200_000).fill(1), version: -1 } });
    const d = new FrameDecoder();
    let got: Uint8Array[] = [];
    const started = performance.now();
    for (let i = 0; i < big.length; i++) got = got.concat(d.push(big.subarray(i, i + 1)).frames);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(got.map(toHex)).toEqual([toHex(big.subarray(4))]);
    expect(d.bufferedBytes).toBe(0);
  });

  it('negative length → NEGATIVE_LENGTH error value; the decoder stays failed', () => {
    const d = new FrameDecoder();
    const p = d.push(concat([frames[1]!, hexBytes('ffffffff00')]));
    expect(p.frames.map(toHex)).toEqual([payloads[1]]);
    expect(p.error).toMatchObject({ code: 'NEGATIVE_LENGTH', length: -1 });
    expect(p.error?.message).toMatch(/negative/);
    expect(d.failed).toBe(true);
    expect(d.push(frames[1]!)).toEqual({ frames: [], error: p.error });
  });

  it('length above maxPacketBytes → TOO_LARGE naming the limit, before the bytes arrive', () => {
    const d = new FrameDecoder();
    const p = d.push(hexBytes('00100000')); // 1 MiB > 0xfffff
    expect(p.error).toMatchObject({ code: 'TOO_LARGE', length: 0x100000, maxPacketBytes: limits.packetBytesMax });
    expect(p.error?.message).toContain(String(limits.packetBytesMax));
    const exact = new FrameDecoder({ maxPacketBytes: 4 });
    expect(exact.push(hexBytes('00000004 01020304')).frames.map(toHex)).toEqual(['01020304']);
    expect(exact.push(hexBytes('00000005')).error?.code).toBe('TOO_LARGE');
  });

  it('maxPacketBytes can be tightened between pushes', () => {
    const d = new FrameDecoder();
    d.maxPacketBytes = 10;
    expect(d.push(frames[4]!).error?.code).toBe('TOO_LARGE');
  });

  it('a partial frame is held as received chunks, not preallocated', () => {
    const d = new FrameDecoder();
    expect(d.push(hexBytes('000f0000 01')).frames).toEqual([]);
    expect(d.bufferedBytes).toBe(5);
  });

  it('four-letter word on a fresh connection → the word, trailing bytes handed back', () => {
    const d = new FrameDecoder({ detectFourLetterWords: true });
    expect(d.push(hexBytes(asciiHex('ru')))).toEqual({ frames: [] });
    expect(d.push(hexBytes(asciiHex('ok')))).toEqual({ frames: [], fourLetterWord: 'ruok', trailing: new Uint8Array(0) });
    const s = new FrameDecoder({ detectFourLetterWords: true });
    const p = s.push(hexBytes(asciiHex('stmk') + '00000000000000ff'));
    expect(p.fourLetterWord).toBe('stmk');
    expect(toHex(p.trailing!)).toBe('00000000000000ff');
    expect(s.push(hexBytes('01')).trailing).toEqual(hexBytes('01'));
  });

  it('four-letter words are not detected after the first frame, nor without the option', () => {
    const d = new FrameDecoder({ detectFourLetterWords: true });
    const p = d.push(concat([frames[1]!, hexBytes(asciiHex('ruok'))]));
    expect(p.fourLetterWord).toBeUndefined();
    expect(p.error?.code).toBe('TOO_LARGE'); // 'ruok' read as a length
    expect(new FrameDecoder().push(hexBytes(asciiHex('srvr'))).error?.code).toBe('TOO_LARGE');
  });

  it('an unknown word is a (too large) length, as in ZooKeeper', () => {
    const p = new FrameDecoder({ detectFourLetterWords: true }).push(hexBytes(asciiHex('abcd')));
    expect(p.fourLetterWord).toBeUndefined();
    expect(p.error?.code).toBe('TOO_LARGE');
  });
});
