import { describe, expect, it } from 'vitest';
import { nullTraceSink } from '../common/trace';
import type { TraceEvent } from '../common/trace';
import { parseTraceLevel, traceLevelFromEnv, traceLine, traceWritesOf } from './trace-out';

/** what the sink wrote before: JSON.stringify of the event with this server's id */
const viaStringify = (e: TraceEvent, server: number): unknown => JSON.parse(JSON.stringify({ ...e, server }));

describe('trace lines built by hand', () => {
  it('a per-txn event: one line that parses to what JSON.stringify gives, undefined fields left out', () => {
    const e: TraceEvent = { t: 1764077000123, kind: 'zab.ack.received', server: 2, epoch: 3, zxid: '0x300000007', session: '0x1000012345678', xid: 41, peer: 3, detail: undefined };
    const line = traceLine(e, 2);
    expect(line.endsWith('}\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(line.startsWith('{"t":')).toBe(true); // what the supervisor looks for
    expect(JSON.parse(line)).toEqual(viaStringify(e, 2));
    expect(line).not.toContain('detail');
  });

  it('strings that need escaping, details of every value type, and the server id of the sink', () => {
    const events: TraceEvent[] = [
      { t: 1, kind: 'txn.applied', server: 1, zxid: '0x1', op: 'create', path: '/a "quoted"\\back\nslash\u0001', detail: { err: 0 } },
      { t: 2, kind: 'request.replied', server: 1, op: 'setData', path: '/ünïcødé/😀/\u2028', detail: { err: -101, ok: false, none: null, name: 'x"y' } },
      { t: 3, kind: 'fault.set', server: 0, detail: { rules: JSON.stringify([{ from: 1, to: '*', drop: true }]) } },
      { t: 4, kind: 'read.local', server: 1, path: `/lone-${String.fromCharCode(0xd800)}-surrogate` },
      { t: 5, kind: 'zab.quorum.reached', server: 1, epoch: 1, zxid: '0x100000001', detail: { ackers: '1,2', skipped: undefined } as unknown as TraceEvent['detail'] },
      { t: 6, kind: 'election.vote.sent', server: 1, detail: { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, neg: -0.5 } },
    ];
    for (const e of events) expect(JSON.parse(traceLine(e, 7))).toEqual(viaStringify(e, 7));
  });

  it('random paths and details (seeded): always the same value as JSON.stringify', () => {
    let seed = 12345;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const str = (): string => Array.from({ length: rnd(12) }, () => String.fromCharCode(rnd(4) === 0 ? rnd(0x10000) : 32 + rnd(95))).join('');
    for (let i = 0; i < 2000; i += 1) {
      const e: TraceEvent = { t: rnd(1e9), kind: 'request.received', server: rnd(5), session: `0x${rnd(1e6).toString(16)}`, xid: rnd(1000) - 2, op: str(), path: str(), detail: { [str()]: str(), n: rnd(100) } };
      expect(JSON.parse(traceLine(e, 3))).toEqual(viaStringify(e, 3));
    }
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
