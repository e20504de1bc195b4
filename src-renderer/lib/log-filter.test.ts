import { describe, expect, it } from 'vitest';
import { filterLog } from './log-filter';

const log = 'INFO serving as LEADING epoch 2\nWARN follower 3 silent\ninfo session 0x1 created\n';

describe('filterLog', () => {
  it('empty query → every line, trailing newline ignored', () => {
    expect(filterLog(log, '  ')).toEqual({ lines: log.trim().split('\n'), total: 3, error: null });
  });
  it('plain text matches case-insensitively', () => {
    expect(filterLog(log, 'info').lines).toEqual(['INFO serving as LEADING epoch 2', 'info session 0x1 created']);
  });
  it('/re/flags is a regular expression', () => {
    expect(filterLog(log, '/^WARN|0x1/').lines).toEqual(['WARN follower 3 silent', 'info session 0x1 created']);
    expect(filterLog(log, '/leading/i').lines).toEqual(['INFO serving as LEADING epoch 2']);
  });
  it('a bad expression is an error that says so, not an exception', () => {
    const r = filterLog(log, '/(/');
    expect(r.lines).toEqual([]);
    expect(r.error).toMatch(/not a regular expression/);
  });
});
