import { describe, expect, it } from 'vitest';
import { FaultTable } from './peer-network';

describe('link fault table', () => {
  it('isolate: both directions blocked for that server only', () => {
    const f = new FaultTable();
    f.set([
      { from: 2, to: '*', drop: true },
      { from: '*', to: 2, drop: true },
    ]);
    expect(f.blocked(2, 1)).toBe(true);
    expect(f.blocked(3, 2)).toBe(true);
    expect(f.blocked(1, 3)).toBe(false);
    expect(f.cut(1, 2)).toBe(true);
    expect(f.cut(1, 3)).toBe(false);
  });
  it('one-way loss cuts the TCP link (either direction blocked) but blocks messages one way', () => {
    const f = new FaultTable();
    f.set([{ from: 1, to: 3, drop: true }]);
    expect(f.blocked(1, 3)).toBe(true);
    expect(f.blocked(3, 1)).toBe(false);
    expect(f.cut(3, 1)).toBe(true);
  });
  it('delays: the largest matching rule wins; heal clears', () => {
    const f = new FaultTable();
    f.set([
      { from: 1, to: '*', delayMs: 50 },
      { from: 1, to: 2, delayMs: 200 },
    ]);
    expect(f.delayMs(1, 2)).toBe(200);
    expect(f.delayMs(1, 3)).toBe(50);
    expect(f.delayMs(2, 1)).toBe(0);
    f.set([]);
    expect(f.delayMs(1, 2)).toBe(0);
    expect(f.all).toEqual([]);
  });
});
