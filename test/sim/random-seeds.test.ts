/**
 * A fixed budget of random seeds (faults: crashes with torn disks, partitions, isolation,
 * SIGSTOP, slow disks, connection resets; then heal and demand progress and convergence).
 * Each seed takes well under a second; the whole file stays a few seconds on a busy machine.
 * A failure message carries the seed: replay it with `npm run sim -- --seed N ...`.
 */
import { describe, expect, it } from 'vitest';
import { replayCommand, runSeed } from '../../src-main/sim/random-run';
import { checkSeed } from './check-seed';

// each group takes ~1-2 s on an idle core; the timeout leaves room for a busy shared machine
const groupTimeoutMs = 30_000;

describe('ensemble: random seeds', () => {
  it('5 voters: 40 seeds', () => {
    for (let seed = 1; seed <= 40; seed++) checkSeed({ seed, servers: 5 });
  }, groupTimeoutMs);

  it('3 voters: 40 seeds', () => {
    for (let seed = 101; seed <= 140; seed++) checkSeed({ seed, servers: 3 });
  }, groupTimeoutMs);

  it('3 voters + 2 observers: 12 seeds', () => {
    for (let seed = 201; seed <= 212; seed++) checkSeed({ seed, servers: 3, observers: 2 });
  }, groupTimeoutMs);

  it('1 voter (no election partner): 12 seeds', () => {
    for (let seed = 301; seed <= 312; seed++) checkSeed({ seed, servers: 1 });
  }, groupTimeoutMs);

  it('regressions: seeds that once failed', () => {
    // 10709, 20994: a client request overtaken on a paused server (sim bug);
    // 40729: members elected in different rounds reported different votes, so two late joiners
    // never found a quorum (fixed by the `established` election input);
    // 40747: a restarted follower had replayed a txn still outstanding at the leader, then got
    // its COMMIT (fixed: such a tail is TRUNCated to the committed point and proposed again)
    // 30/1 server: a lone voter never decided; 45/1 server: postponed events overtook each other
    for (const o of [{ seed: 10709 }, { seed: 20994, servers: 3 }, { seed: 40729 }, { seed: 40747 }, { seed: 30, servers: 1 }, { seed: 45, servers: 1 }]) checkSeed(o);
  }, groupTimeoutMs);

  it('determinism: the same seed gives the same run, event for event', () => {
    const a = runSeed({ seed: 77, servers: 5 });
    const b = runSeed({ seed: 77, servers: 5 });
    expect(b).toEqual(a);
    expect(runSeed({ seed: 78, servers: 5 })).not.toEqual(a);
  }, groupTimeoutMs);

  it('a failing run names its seed and the replay command', () => {
    expect(replayCommand({ seed: 42, servers: 3, observers: 2, steps: 1000 })).toBe('npm run sim -- --seed 42 --servers 3 --observers 2 --steps 1000');
  });
});
