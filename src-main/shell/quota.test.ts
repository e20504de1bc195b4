import { describe, expect, it } from 'vitest';
import { formatStatsTrack, parseStatsTrack } from './quota';

// Texts as Apache ZooKeeper 3.8's zkCli writes and prints them.
describe('StatsTrack text', () => {
  it('limits: count and bytes first, then "=" and the hard limits sorted', () => {
    const limits = parseStatsTrack('count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=10');
    expect(limits.get('count')).toBe(5n);
    expect(limits.get('bytes')).toBe(-1n);
    expect(limits.get('countHardLimit')).toBe(10n);
    expect(formatStatsTrack(limits)).toBe('count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=10');
  });
  it('stats: the old two-key form round-trips without the trailing "="', () => {
    expect(formatStatsTrack(parseStatsTrack('count=2,bytes=3'))).toBe('count=2,bytes=3');
  });
  it('missing or empty values read as -1', () => {
    expect(formatStatsTrack(parseStatsTrack(''))).toBe('count=-1,bytes=-1');
    expect(parseStatsTrack('count=,bytes=4').get('count')).toBe(-1n);
  });
});
