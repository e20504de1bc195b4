import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src-main/common/trace';
import { buildWritePaths, diagramRows } from './write-path';

const S = '0x10000abc';
const Z = '0x100000004';

/** setData sent to follower 2, forwarded to leader 3; follower 1 got the proposal but is frozen. */
function forwardedWrite(t0: number): TraceEvent[] {
  const tx = { zxid: Z, session: S, xid: 7 };
  return [
    { t: t0, kind: 'request.forwarded', server: 2, session: S, xid: 7, peer: 3 },
    { t: t0 + 1, kind: 'request.received', server: 3, ...tx, op: 'setData', path: '/a' },
    { t: t0 + 1, kind: 'txnlog.append', server: 3, ...tx },
    { t: t0 + 1, kind: 'zab.proposal.sent', server: 3, ...tx, peer: 1 },
    { t: t0 + 1, kind: 'zab.proposal.sent', server: 3, ...tx, peer: 2 },
    { t: t0 + 2, kind: 'txnlog.fsync.done', server: 3, ...tx },
    { t: t0 + 2, kind: 'zab.ack.received', server: 3, ...tx, peer: 3 },
    { t: t0 + 2, kind: 'zab.proposal.received', server: 2, ...tx, peer: 3 },
    { t: t0 + 3, kind: 'txnlog.fsync.done', server: 2, ...tx },
    { t: t0 + 3, kind: 'zab.ack.sent', server: 2, ...tx, peer: 3 },
    { t: t0 + 4, kind: 'zab.ack.received', server: 3, ...tx, peer: 2 },
    { t: t0 + 4, kind: 'zab.quorum.reached', server: 3, ...tx, detail: { ackers: '2,3' } },
    { t: t0 + 4, kind: 'zab.commit.sent', server: 3, ...tx, peer: 2 },
    { t: t0 + 4, kind: 'txn.applied', server: 3, zxid: Z, session: S, op: 'setData', path: '/a' },
    { t: t0 + 5, kind: 'zab.commit.received', server: 2, ...tx, peer: 3 },
    { t: t0 + 5, kind: 'txn.applied', server: 2, zxid: Z, session: S, op: 'setData', path: '/a' },
    { t: t0 + 5, kind: 'request.replied', server: 2, ...tx, op: 'setData' },
  ];
}

describe('buildWritePaths', () => {
  it('joins a forwarded write by (session, xid) and zxid into one path with origin and leader', () => {
    const [p, ...rest] = buildWritePaths(forwardedWrite(1000));
    expect(rest).toEqual([]);
    expect(p).toMatchObject({ kind: 'write', zxid: Z, op: 'setData', path: '/a', origin: 2, leader: 3, servers: [1, 2, 3], replied: true });
  });

  it('steps come in protocol order: forward, propose, fsync, ACK, quorum, COMMIT, apply, reply', () => {
    const [p] = buildWritePaths([...forwardedWrite(1000)].reverse());
    expect(p?.steps.map((s) => `${s.kind}:${s.server}${s.to !== null ? `>${s.to}` : ''}`)).toEqual([
      'forward:2>3',
      'request:3',
      'append:3',
      'proposal:3>1',
      'proposal:3>2',
      'fsync:3',
      'self-ack:3',
      'fsync:2',
      'ack:2>3',
      'quorum:3',
      'commit:3>2',
      'applied:3',
      'applied:2',
      'reply:2',
    ]);
  });

  it('a follower that got the PROPOSAL but never ACKed is shown missing while the majority commits', () => {
    const [p] = buildWritePaths(forwardedWrite(1000));
    expect(p?.quorum).toEqual([2, 3]);
    expect(p?.missingAcks).toEqual([1]);
  });

  it('two writes stay apart; only the newest pathsMax are kept, oldest first', () => {
    const second = forwardedWrite(2000).map((e) => ({ ...e, ...(e.zxid ? { zxid: '0x100000005' } : {}), ...(e.xid !== undefined ? { xid: 8 } : {}) }));
    const all = buildWritePaths([...second, ...forwardedWrite(1000)]);
    expect(all.map((p) => p.zxid)).toEqual([Z, '0x100000005']);
    expect(buildWritePaths([...second, ...forwardedWrite(1000)], 1).map((p) => p.zxid)).toEqual(['0x100000005']);
  });

  it('a local read is a read path on one server', () => {
    const [p] = buildWritePaths([{ t: 5, kind: 'read.local', server: 1, session: S, xid: 9, op: 'getData', path: '/a', zxid: Z }]);
    expect(p).toMatchObject({ kind: 'read', zxid: null, origin: 1, leader: null, servers: [1] });
    expect(p?.steps.map((s) => s.label)).toEqual(['local read: getData /a']);
  });

  it('real trace: createSession and the first create share xid 0 but are two requests; a late ACK is not missing', () => {
    const sess = '0x3a211d8fe430000';
    const tx = (zxid: string) => ({ epoch: 1, zxid, session: sess, xid: 0 });
    const events: TraceEvent[] = [
      { t: 776, kind: 'zab.quorum.reached', server: 3, ...tx('0x100000001'), detail: { ackers: '2,3' } },
      { t: 777, server: 3, kind: 'txn.applied', zxid: '0x100000001', session: sess, op: 'createSession', detail: { err: 0 } },
      { t: 783, server: 3, kind: 'request.received', ...tx('0x100000002'), op: 'create', path: '/dump' },
      { t: 783, kind: 'zab.proposal.sent', server: 3, ...tx('0x100000002'), peer: 2 },
      { t: 783, kind: 'zab.proposal.sent', server: 3, ...tx('0x100000002'), peer: 1 },
      { t: 786, kind: 'zab.ack.received', server: 3, ...tx('0x100000002'), peer: 2 },
      { t: 786, kind: 'zab.quorum.reached', server: 3, ...tx('0x100000002'), detail: { ackers: '2,3' } },
      { t: 787, server: 3, kind: 'request.replied', ...tx('0x100000002'), op: 'create', detail: { err: 0 } },
      { t: 788, kind: 'zab.ack.sent', server: 1, ...tx('0x100000002'), peer: 3 },
      { t: 790, kind: 'zab.ack.sent', server: 1, epoch: 2, zxid: '0x200000000', peer: 3, detail: { of: 'NEWLEADER' } },
    ];
    const paths = buildWritePaths(events);
    expect(paths.map((p) => `${p.zxid} ${p.op}`)).toEqual(['0x100000001 createSession', '0x100000002 create']);
    expect(paths[1]?.missingAcks).toEqual([]);
  });

  it('events outside the write path (votes, roles) are ignored', () => {
    expect(buildWritePaths([{ t: 1, kind: 'election.vote.sent', server: 1, peer: 2, zxid: '0x0' }])).toEqual([]);
  });
});

describe('diagramRows', () => {
  it('draws the client request, the forward, the majority and the missing ACK, then the reply', () => {
    const [p] = buildWritePaths(forwardedWrite(1000));
    const rows = diagramRows(p!, [1, 2, 3]);
    const text = rows.map((r) => `${r.from}>${r.to} ${r.label}`);
    expect(text[0]).toBe('0>2 setData /a');
    expect(text[1]).toBe('2>3 REQUEST (forward)');
    expect(text[2]).toBe(`3>3 prep → txn ${Z}`);
    expect(rows.find((r) => r.kind === 'quorum')).toMatchObject({ label: 'majority reached: 2 ACKs (2, 3)', tone: 'highlight' });
    expect(rows.find((r) => r.kind === 'missing')).toMatchObject({ from: 1, to: 1, tone: 'bad' });
    expect(text.at(-1)).toBe('2>0 reply');
  });
  it('a local read is request → local copy → reply on one lane', () => {
    const [p] = buildWritePaths([{ t: 5, kind: 'read.local', server: 2, session: S, xid: 9, op: 'getData', path: '/a' }]);
    expect(diagramRows(p!, [1, 2, 3]).map((r) => `${r.from}>${r.to}`)).toEqual(['0>2', '2>2', '2>0']);
  });
});
