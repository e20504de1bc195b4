import { describe, expect, it } from 'vitest';
import { nullTraceSink } from '../common/trace';
import type { TraceEvent } from '../common/trace';
import { parseTraceLevel, traceLevelFromEnv, traceLine, traceWritesOf } from './trace-out';

describe('trace lines', () => {
  it('one line per event, starting with {"t": (what the supervisor looks for), with the sink\'s server id', () => {
    const e: TraceEvent = { t: 1764077000123, kind: 'zab.ack.received', server: 2, epoch: 3, zxid: '0x300000007', session: '0x1000012345678', xid: 41, peer: 3, detail: undefined };
    const line = traceLine(e, 2);
    expect(line.startsWith('{"t":')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(JSON.parse(line)).toEqual({ t: 1764077000123, kind: 'zab.ack.received', server: 2, epoch: 3, zxid: '0x300000007', session: '0x1000012345678', xid: 41, peer: 3 });
    const other = traceLine({ t: 1, kind: 'txn.applied', server: 0, path: '/a\nb "c"' }, 7);
    expect(other.indexOf('\n')).toBe(other.length - 1);
    expect(JSON.parse(other)).toEqual({ t: 1, kind: 'txn.applied', server: 7, path: '/a\nb "c"' });
  });
});

describe('trace level', () => {
  it('levels: writes and lifecycle; anything else is not a level', () => {
    expect(parseTraceLevel('writes')).toBe('writes');
    expect(parseTraceLevel('lifecycle')).toBe('lifecycle');
    expect(parseTraceLevel('all')).toBeNull();
    expect(parseTraceLevel(undefined)).toBeNull();
  });
  it('a server starts at the level its environment names, writes when it names none', () => {
    expect(traceLevelFromEnv({ ZOOLAB_TRACE_LEVEL: 'lifecycle' })).toBe('lifecycle');
    expect(traceLevelFromEnv({ ZOOLAB_TRACE_LEVEL: 'writes' })).toBe('writes');
    expect(traceLevelFromEnv({})).toBe('writes');
  });
  it('per-write events need a sink to go to', () => {
    const sink = { emit() {} };
    expect(traceWritesOf({ trace: sink }, undefined)).toBe(true);
    expect(traceWritesOf({ trace: sink }, false)).toBe(false);
    expect(traceWritesOf({ trace: nullTraceSink }, true)).toBe(false);
  });
});
