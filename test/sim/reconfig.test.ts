/**
 * Dynamic reconfiguration on the deterministic simulator: scripted steps (a spare joins, the
 * leader is removed and hands over to a designated server, a participant becomes an observer, a
 * server that missed a reconfig learns it from election notifications), then a fixed budget of
 * random seeds where reconfigs are mixed with crashes, partitions, pauses and resets. Every step
 * runs the simulator's checkers (one leader per epoch, committed prefixes agree, acked writes
 * durable on a quorum of the membership they committed under, replay = live state).
 */
import { describe, expect, it } from 'vitest';
import { replayCommand } from '../../src-main/sim/random-run';
import { checkSeed } from './check-seed';
import { Simulation } from '../../src-main/sim/simulation';
import type { Sid } from '../../src-main/zab/quorum';

function boot(sim: Simulation, ids: Sid[]): Sid {
  for (const id of ids) sim.start(id);
  sim.runUntil(() => sim.leader() !== null && ids.every((id) => sim.view(id).serving), 5000, 'ensemble serving');
  return sim.leader() as Sid;
}

function reconfig(sim: Simulation, change: Parameters<Simulation['reconfig']>[0]): void {
  const before = sim.membership.version;
  expect(sim.reconfig(change)).toBe(true);
  sim.runUntil(() => sim.membership.version > before, 3000, `reconfig ${change.op} committed`);
}

describe('reconfig: scripted', () => {
  it('a spare joins, the leader is removed and hands over, a participant becomes an observer; writes go on', () => {
    const sim = new Simulation({ seed: 5, servers: 3, spares: 2, reconfig: true, keepTrace: true });
    const leader = boot(sim, [1, 2, 3, 4, 5]);
    // the leader stamped the static membership with its first epoch
    expect(sim.view(leader).epoch).toBe(1);
    const c = sim.addClient(false);
    // the spare syncs as a non-voting learner; a membership without a synced quorum is refused
    expect(sim.view(4).role).toBe('following');
    expect(sim.membership.members.has(4)).toBe(false);
    reconfig(sim, { op: 'add', id: 4 });
    expect(sim.membership.voters).toEqual([1, 2, 3, 4]);
    expect(sim.view(4).serving).toBe(true);
    reconfig(sim, { op: 'add', id: 5 });
    expect(sim.membership.voters).toEqual([1, 2, 3, 4, 5]);
    // a reconfig in flight refuses the next one (RECONFIGINPROGRESS)
    expect(sim.reconfig({ op: 'remove', id: 1 })).toBe(true);
    expect(sim.reconfig({ op: 'remove', id: 2 })).toBe(false);
    sim.runUntil(() => !sim.membership.members.has(1), 3000, '1 removed');
    sim.runUntil(() => !sim.view(1).serving, 3000, 'removed server 1 stops serving');
    // remove the leader: a designated voter takes over without an election round
    const old = sim.leader() as Sid;
    const decisionsBefore = sim.decisions.length;
    reconfig(sim, { op: 'remove', id: old });
    sim.runUntil(() => sim.leader() !== null && sim.leader() !== old, 3000, 'a new leader');
    const handed = sim.decisions.slice(decisionsBefore);
    expect(handed.some((d) => d.role === 'leading' && d.sid === sim.leader())).toBe(true);
    expect(sim.trace.some((e) => e.kind === 'election.started' && e.server !== old && e.t > (handed[0]?.atMs ?? 0) - 1 && e.t < (handed[0]?.atMs ?? 0) + 1)).toBe(false);
    const now = sim.leader() as Sid;
    const via = sim.memberIds().find((id) => id !== now) as Sid;
    sim.runUntil(() => sim.memberIds().every((id) => sim.view(id).serving), 3000, 'every member serving under the new leader');
    expect(sim.clientWrite(c, via, 'k=after-handover')).toBe(true);
    sim.runUntil(() => sim.acked.some((w) => w.data === 'k=after-handover'), 3000, 'a write after the hand-over');
    // a participant becomes an observer
    reconfig(sim, { op: 'flip', id: via });
    sim.runUntil(() => sim.view(via).role === 'observing' && sim.view(via).serving, 3000, `${via} observing`);
    expect(sim.trace.filter((e) => e.kind === 'reconfig.activated').length).toBeGreaterThan(5);
    sim.runFor(500);
    sim.checkConverged();
  });

  it('a reconfig commits only with a quorum of the old AND the new membership', () => {
    const sim = new Simulation({ seed: 21, servers: 3, spares: 2, reconfig: true });
    const leader = boot(sim, [1, 2, 3, 4, 5]);
    const others = [1, 2, 3].filter((x) => x !== leader);
    // new membership: the leader plus the two spares; cut the spares off right after proposing
    const before = sim.membership.version;
    expect(sim.reconfig({ op: 'replace', voters: [leader, 4, 5] })).toBe(true);
    sim.partition([4, 5], [1, 2, 3]);
    sim.runFor(300);
    // the old members acked (a quorum of the old membership), the new one has only the leader
    expect(sim.membership.version).toBe(before);
    expect(sim.view(leader).serving).toBe(true);
    expect(sim.reconfig({ op: 'remove', id: others[0] as Sid })).toBe(false); // in progress
    sim.heal();
    sim.runUntil(() => sim.membership.voters.join(',') === [leader, 4, 5].sort((a, b) => a - b).join(','), 5000, 'the new membership committed after healing');
    sim.runUntil(() => sim.memberIds().every((id) => sim.view(id).serving), 5000, 'new members serving');
    sim.runUntil(() => others.every((id) => !sim.view(id).serving), 3000, 'removed servers stop serving');
  });

  it('a server down during a reconfig learns the new membership from election notifications and rejoins', () => {
    const sim = new Simulation({ seed: 9, servers: 3, spares: 2, reconfig: true });
    boot(sim, [1, 2, 3, 4, 5]);
    const follower = sim.memberIds().find((id) => id !== sim.leader()) as Sid;
    sim.crash(follower);
    reconfig(sim, { op: 'add', id: 4 });
    reconfig(sim, { op: 'add', id: 5 });
    sim.restart(follower);
    sim.runUntil(() => sim.view(follower).serving, 5000, `${follower} serving again`);
    expect(sim.membership.voters).toEqual([1, 2, 3, 4, 5]);
    sim.runFor(500);
    sim.checkConverged();
  });
});

const groupTimeoutMs = 60_000;

describe('reconfig: random seeds (reconfigs mixed with crashes, partitions, pauses, resets)', () => {
  it('3 voters + 2 spares: 30 seeds', () => {
    for (let seed = 1; seed <= 30; seed++) checkSeed({ seed, servers: 3, spares: 2, reconfig: true });
  }, groupTimeoutMs);

  it('5 voters + 2 spares: 12 seeds', () => {
    for (let seed = 1001; seed <= 1012; seed++) checkSeed({ seed, servers: 5, spares: 2, reconfig: true });
  }, groupTimeoutMs);

  it('3 voters + 1 observer + 1 spare: 12 seeds', () => {
    for (let seed = 501; seed <= 512; seed++) checkSeed({ seed, servers: 3, observers: 1, spares: 1, reconfig: true });
  }, groupTimeoutMs);

  it('regressions: seeds that once failed', () => {
    // 19, 24, 30 (3+2): a joiner's election kept reporting OBSERVING after it became a voter, and
    // a server restarted with an old membership ignored the new leader until notifications
    // carried the membership; 4 (3+2): a late reconfig made a learner re-sync at the final check
    // 3052, 3126 (3+2): a leader whose log held a reconfig it had replayed but never activated
    // established its epoch with the old quorum only (fixed: the epoch needs both, then activates
    // it, as ZooKeeper's lastSeenQuorumVerifier); 1041 (5+2): a leader made an observer by its own
    // log kept leading
    for (const seed of [4, 6, 9, 19, 24, 30, 35, 37, 50, 54, 3052, 3091, 3126, 3170]) checkSeed({ seed, servers: 3, spares: 2, reconfig: true });
    checkSeed({ seed: 1041, servers: 5, spares: 2, reconfig: true });
    // 1019 (5+2): two removed servers answered each other's notifications forever
    checkSeed({ seed: 1019, servers: 5, spares: 2, reconfig: true });
  }, groupTimeoutMs);

  it('a failing run names the reconfig flags in its replay command', () => {
    expect(replayCommand({ seed: 3, servers: 3, spares: 2, reconfig: true })).toBe('npm run sim -- --seed 3 --servers 3 --spares 2 --reconfig');
  });
});
