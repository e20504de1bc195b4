import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src-main/common/trace';
import { buildElections, compareVotes, explainWinner } from './election';

const vote = (t: number, server: number, peer: number, leader: number, zxid: string, epoch = 1): TraceEvent => ({
  t,
  kind: 'election.vote.sent',
  server,
  peer,
  zxid,
  epoch,
  detail: { leader, round: 2, state: 'LOOKING' },
});

/** three servers; 3 has the longest history; 1 and 2 switch to it; 3 syncs them with DIFF and TRUNC */
function election(t0: number): TraceEvent[] {
  return [
    { t: t0, kind: 'election.started', server: 1, zxid: '0x100000003', epoch: 1 },
    { t: t0, kind: 'election.started', server: 2, zxid: '0x100000004', epoch: 1 },
    { t: t0, kind: 'election.started', server: 3, zxid: '0x100000005', epoch: 1 },
    vote(t0 + 1, 1, 2, 1, '0x100000003'),
    vote(t0 + 1, 2, 1, 2, '0x100000004'),
    vote(t0 + 1, 3, 1, 3, '0x100000005'),
    { t: t0 + 2, kind: 'election.vote.received', server: 1, peer: 3, zxid: '0x100000005', epoch: 1, detail: { leader: 3, round: 2, state: 'LOOKING' } },
    vote(t0 + 3, 1, 2, 3, '0x100000005'),
    vote(t0 + 3, 1, 3, 3, '0x100000005'),
    vote(t0 + 3, 2, 1, 3, '0x100000005'),
    { t: t0 + 10, kind: 'election.decided', server: 3, detail: { role: 'leading', leader: 3, round: 2 } },
    { t: t0 + 10, kind: 'election.decided', server: 1, detail: { role: 'following', leader: 3, round: 2 } },
    { t: t0 + 11, kind: 'election.decided', server: 2, detail: { role: 'following', leader: 3, round: 2 } },
    { t: t0 + 20, kind: 'zab.sync.sent', server: 3, peer: 1, zxid: '0x100000003', detail: { how: 'DIFF' } },
    { t: t0 + 20, kind: 'zab.sync.sent', server: 3, peer: 2, zxid: '0x100000004', detail: { how: 'TRUNC' } },
  ];
}

describe('vote order', () => {
  it('epoch first, then zxid, then server id', () => {
    expect(compareVotes({ leader: 1, zxid: '0x200000000', epoch: 2 }, { leader: 3, zxid: '0x100000009', epoch: 1 })).toBeGreaterThan(0);
    expect(compareVotes({ leader: 1, zxid: '0x100000009', epoch: 1 }, { leader: 3, zxid: '0x100000002', epoch: 1 })).toBeGreaterThan(0);
    expect(compareVotes({ leader: 1, zxid: '0x1', epoch: 1 }, { leader: 3, zxid: '0x1', epoch: 1 })).toBeLessThan(0);
  });
  it('explains the deciding component', () => {
    expect(explainWinner([{ leader: 1, zxid: '0x0', epoch: 0 }, { leader: 3, zxid: '0x0', epoch: 0 }])).toMatch(/server 3 wins: every history is equal.*highest server id/);
    expect(explainWinner([{ leader: 3, zxid: '0x100000002', epoch: 1 }, { leader: 2, zxid: '0x100000007', epoch: 1 }])).toMatch(/server 2 wins: .*longest \(zxid 0x100000007 > 0x100000002 of server 3\)/);
  });
});

describe('buildElections', () => {
  it('one burst: first votes, changes of mind, decisions, winner and why, then the sync', () => {
    const [e, ...rest] = buildElections(election(1000));
    expect(rest).toEqual([]);
    expect(e?.leader).toBe(3);
    expect(e?.why).toMatch(/^server 3 wins: same epoch, and its history is the longest/);
    const s1 = e?.voters.find((v) => v.server === 1);
    expect(s1?.first).toEqual({ leader: 1, zxid: '0x100000003', epoch: 1 });
    expect(s1?.changes.map((c) => c.vote.leader)).toEqual([3]);
    expect(s1?.votesReceived).toBe(1);
    expect(s1?.decided).toMatchObject({ role: 'following', leader: 3 });
    expect(e?.voters.find((v) => v.server === 3)?.changes).toEqual([]);
    expect(e?.syncs.map((s) => `${s.leader}>${s.follower} ${s.how}`)).toEqual(['3>1 DIFF', '3>2 TRUNC']);
  });
  it('a quiet gap separates two elections', () => {
    const all = buildElections([...election(1000), ...election(60_000)], 2_000);
    expect(all).toHaveLength(2);
    expect(all[1]?.startT).toBe(60_000);
  });
  it('a restarted server joining an established leader is its own short election, explained as joining', () => {
    const join: TraceEvent[] = [
      { t: 50_000, kind: 'election.started', server: 2, zxid: '0x100000005', epoch: 1 },
      vote(50_001, 2, 1, 2, '0x100000005'),
      { t: 50_002, kind: 'election.vote.received', server: 2, peer: 3, zxid: '0x100000005', epoch: 1, detail: { leader: 3, round: 2, state: 'LEADING' } },
      { t: 50_003, kind: 'election.decided', server: 2, detail: { role: 'following', leader: 3, round: 2 } },
      { t: 50_010, kind: 'zab.sync.sent', server: 3, peer: 2, zxid: '0x100000005', detail: { how: 'DIFF' } },
    ];
    const all = buildElections([...election(1000), ...join]);
    expect(all).toHaveLength(2);
    expect(all[1]?.why).toBe('server 3 already leads: server 2 joined it (a LOOKING server follows the leader its peers report)');
    expect(all[1]?.syncs.map((x) => `${x.leader}>${x.follower} ${x.how}`)).toEqual(['3>2 DIFF']);
  });

  it('no decisions yet → no leader, said so', () => {
    const [e] = buildElections(election(0).filter((x) => x.kind !== 'election.decided'));
    expect(e?.leader).toBeNull();
    expect(e?.why).toMatch(/no leader yet/);
  });
});
