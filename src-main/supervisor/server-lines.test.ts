import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { onLines } from './server-process';

async function linesOf(chunks: Buffer[]): Promise<string[]> {
  const s = new PassThrough();
  const out: string[] = [];
  onLines(s, (l) => out.push(l));
  const ended = new Promise<void>((r) => s.on('end', () => r()));
  for (const c of chunks) s.write(c);
  s.end();
  await ended;
  return out;
}

describe('a server process stdout split into lines', () => {
  const text = '{"t":1,"kind":"txn.applied","path":"/ü😀"}\nlog line one\r\n\n{"held":{"id":3}}\nlast without newline';
  const expected = ['{"t":1,"kind":"txn.applied","path":"/ü😀"}', 'log line one', '', '{"held":{"id":3}}', 'last without newline'];

  it('whole, and split at every byte (inside \\r\\n and multi-byte characters too): the same lines', async () => {
    const bytes = Buffer.from(text, 'utf8');
    expect(await linesOf([bytes])).toEqual(expected);
    for (let cut = 1; cut < bytes.length; cut += 1) {
      expect(await linesOf([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(expected);
    }
    expect(await linesOf([...bytes].map((b) => Buffer.from([b])))).toEqual(expected);
  });

  it('a runaway line is cut at a bound instead of growing without end', async () => {
    const half = Buffer.from('x'.repeat(1 << 19));
    const lines = await linesOf([half, half, half, Buffer.from('\nnext\n')]);
    expect(lines.map((l) => l.length)).toEqual([1 << 20, 1 << 19, 4]);
  });
});
