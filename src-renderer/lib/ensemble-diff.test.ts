import { describe, expect, it } from 'vitest';
import type { EnsembleView, ServerView } from '../../src-main/api/contract';
import { appendBounded, diffEnsembles, matchesFilter, traceToLog, type LogEntry } from './ensemble-diff';

function server(id: number, patch: Partial<ServerView> = {}): ServerView {
  return {
    id,
    host: '127.0.0.1',
    clientPort: 2180 + id,
    quorumPort: 2880 + id,
    electionPort: 3880 + id,
    state: 'running',
    pid: 100 + id,
    role: 'follower',
    lastZxid: null,
    epoch: null,
    connections: null,
    dir: '',
    dataDir: '',
    configPath: '',
    lastError: null,
    ...patch,
  };
}
const view = (...servers: ServerView[]): EnsembleView => ({ dir: '/e', connectionString: '', servers });

describe('diffEnsembles', () => {
  it('first snapshot: the ensemble appears and each server reports its state and role', () => {
    const out = diffEnsembles(null, view(server(1, { role: 'leader' }), server(2, { state: 'starting', pid: null, role: 'unknown' })), 5);
    expect(out.map((e) => `${e.server}:${e.kind}:${e.text}`)).toEqual(['null:state:ensemble of 2 in /e', '1:state:running (pid 101)', '1:role:LEADING', '2:state:starting']);
  });
  it('a killed follower: running → stopped; nothing for unchanged servers', () => {
    const a = view(server(1), server(2));
    const out = diffEnsembles(a, view(server(1), server(2, { state: 'stopped', pid: null, role: 'unknown' })), 9);
    expect(out).toEqual([{ t: 9, kind: 'state', server: 2, tone: 'idle', text: 'running → stopped' }]);
  });
  it('a new leader after an election: FOLLOWING → LEADING', () => {
    const out = diffEnsembles(view(server(3, { role: 'looking' })), view(server(3, { role: 'leader' })), 1);
    expect(out).toEqual([{ t: 1, kind: 'role', server: 3, tone: 'ok', text: 'LOOKING → LEADING' }]);
  });
  it('a crash with a reason logs the reason once', () => {
    const crashed = server(2, { state: 'crashed', pid: null, lastError: 'exited with code 1: port in use' });
    const out = diffEnsembles(view(server(2)), view(crashed), 1);
    expect(out.map((e) => e.kind)).toEqual(['state', 'error']);
    expect(diffEnsembles(view(crashed), view(crashed), 2)).toEqual([]);
  });
  it('pause and resume are logged', () => {
    const out = diffEnsembles(view(server(1)), view(server(1, { paused: true })), 1);
    expect(out.map((e) => e.text)).toEqual(['paused (SIGSTOP)']);
  });
  it('the ensemble closing is one entry', () => {
    expect(diffEnsembles(view(server(1)), null, 1).map((e) => e.text)).toEqual(['ensemble closed']);
  });
});

describe('log helpers', () => {
  it('appendBounded keeps the newest', () => {
    expect(appendBounded([1, 2, 3], [4, 5], 3)).toEqual([3, 4, 5]);
  });
  it('matchesFilter: by kind, by text, by "server N"', () => {
    const e: LogEntry = { t: 0, kind: 'role', server: 2, text: 'LOOKING → LEADING', tone: 'ok' };
    expect(matchesFilter(e, new Set(['role']), '')).toBe(true);
    expect(matchesFilter(e, new Set(['state']), '')).toBe(false);
    expect(matchesFilter(e, new Set(['role']), 'leading')).toBe(true);
    expect(matchesFilter(e, new Set(['role']), 'server 2')).toBe(true);
    expect(matchesFilter(e, new Set(['role']), 'server 3')).toBe(false);
  });
});

describe('traceToLog', () => {
  it('one entry per session event even though every server traces it; watches and faults as they come; the rest ignored', () => {
    const seen = new Set<string>();
    const created = (server: number) => ({ t: 1, kind: 'session.created' as const, server, session: '0xabc', zxid: '0x100000001', detail: { timeoutMs: 30000 } });
    const out = traceToLog(
      [
        created(1),
        created(2),
        created(3),
        { t: 2, kind: 'watch.fired', server: 2, session: '0xabc', path: '/a', detail: { type: 3 } },
        { t: 3, kind: 'zab.ack.sent', server: 2, zxid: '0x1' },
        { t: 4, kind: 'session.expired', server: 3, session: '0xabc' },
      ],
      seen,
    );
    expect(out.map((e) => `${e.kind}: ${e.text}`)).toEqual([
      'session: session 0xabc created (timeout 30000 ms)',
      'watch: watch fired: NodeDataChanged /a → session 0xabc',
      'session: session 0xabc expired: its ephemeral znodes go',
    ]);
    expect(traceToLog([created(1)], seen)).toEqual([]);
  });
});
