import { describe, expect, it } from 'vitest';
import { JuteReader, JuteWriter } from './buffer';

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
