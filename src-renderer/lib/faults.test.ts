import { describe, expect, it } from 'vitest';
import { describeFaultDetail, describeFaults, isolatedIds, sidesOf, sparkPoints } from './faults';

const isolate2 = [
  { from: 2, to: '*' as const, drop: true },
  { from: '*' as const, to: 2, drop: true },
];

describe('faults model', () => {
  it('isolate: the isolated server alone, the others still one side', () => {
    expect([...isolatedIds(isolate2, [1, 2, 3])]).toEqual([2]);
    expect(sidesOf(isolate2, [1, 2, 3])).toEqual([[1, 3], [2]]);
    expect(describeFaults(isolate2, [1, 2, 3])).toEqual(['server 2 isolated']);
  });
  it('split: the two sides in words', () => {
    const rules = [1, 2].flatMap((a) => [3, 4, 5].flatMap((b) => [{ from: a, to: b, drop: true }, { from: b, to: a, drop: true }]));
    expect(describeFaults(rules, [1, 2, 3, 4, 5])).toEqual(['split 1 2 | 3 4 5']);
    expect(isolatedIds(rules, [1, 2, 3, 4, 5]).size).toBe(0);
  });
  it('one-way loss and delay are listed link by link; healthy is empty', () => {
    expect(describeFaults([{ from: 1, to: 3, drop: true }, { from: 2, to: 1, delayMs: 300 }], [1, 2, 3])).toEqual(['1→3 dropped', '2→1 delayed 300 ms']);
    expect(describeFaults([], [1, 2, 3])).toEqual([]);
  });
  it('the trace detail (JSON rules) reads as words; junk stays as it is', () => {
    expect(describeFaultDetail(JSON.stringify(isolate2), [1, 2, 3])).toBe('server 2 isolated');
    expect(describeFaultDetail('not json', [1])).toBe('not json');
  });
  it('sparkline: scaled to the box, nulls skipped, too few points → empty', () => {
    expect(sparkPoints([0, 10], 100, 21)).toBe('0.0,20.0 100.0,1.0');
    expect(sparkPoints([5, null, 5], 10, 11)).toBe('0.0,1.0 10.0,1.0');
    expect(sparkPoints([3], 10, 10)).toBe('');
  });
});
