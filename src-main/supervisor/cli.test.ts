import { describe, expect, it } from 'vitest';
import { parseUpArgs } from './cli';

describe('zoolab up arguments', () => {
  it('defaults', () => {
    expect(parseUpArgs([])).toMatchObject({ servers: 3, observers: 0, dir: undefined, detach: false, cfg: {} });
  });
  it('all options, repeated --cfg, --flag=value form', () => {
    const a = parseUpArgs(['-n', '5', '--dir', '/tmp/x', '--port-base=21810', '--tick-time', '500', '--cfg', 'maxClientCnxns=5', '--cfg', 'a.b=c=d', '--detach']);
    expect(a).toMatchObject({ servers: 5, dir: '/tmp/x', portBase: 21810, tickTimeMs: 500, detach: true, cfg: { maxClientCnxns: '5', 'a.b': 'c=d' } });
  });
  it('--reconfig asks for a dynamic membership', () => {
    expect(parseUpArgs(['--reconfig']).reconfig).toBe(true);
    expect(parseUpArgs([]).reconfig).toBe(false);
  });
  it('--trace-writes asks for every write step in trace.ndjson; not with --detach', () => {
    expect(parseUpArgs(['--trace-writes']).traceWrites).toBe(true);
    expect(parseUpArgs([]).traceWrites).toBe(false);
    expect(() => parseUpArgs(['--trace-writes', '--detach', '--dir', '/tmp/x'])).toThrow(/--trace-writes needs the supervisor/);
  });
  it('errors say what is wrong', () => {
    expect(() => parseUpArgs(['-n', 'three'])).toThrow(/-n needs a whole number/);
    expect(() => parseUpArgs(['--cfg', 'novalue'])).toThrow(/--cfg needs key=value/);
    expect(() => parseUpArgs(['--detach'])).toThrow(/--detach needs --dir/);
    expect(() => parseUpArgs(['--bogus'])).toThrow(/unknown option '--bogus'/);
  });
});
