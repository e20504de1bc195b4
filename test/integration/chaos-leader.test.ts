/**
 * Chaos on real processes: kill -9 the leader of a 3-server ensemble while several clients
 * cas, write, read and sync+read znode registers; a new leader is elected (srvr Mode), the
 * clients carry on; the old leader restarts and catches up. Afterwards every acknowledged
 * write is on every server, the trees and zxids are identical, and the recorded history is
 * linearizable (writes + reads after sync) and sequentially consistent (plain reads).
 * CHAOS_SEED=n replays the workload's choices.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegisterWorkload } from '../support/history';
import { chaosSeed, checkAfterFaults, syncReadOn, logTails, startChaosEnsemble, summarize, waitForLeader, waitForSameZxid } from '../support/chaos';
import type { ChaosEnsemble } from '../support/chaos';
import { waitUntil } from '../support/processes';

const KEYS = ['/reg/a', '/reg/b', '/reg/c'];
const ALL = [1, 2, 3];

describe('chaos: kill -9 the leader of 3 under write load', () => {
  const seed = chaosSeed();
  let run: ChaosEnsemble | undefined;
  let workload: RegisterWorkload | undefined;

  beforeAll(async () => {
    // snapCount 100: every member snapshots (in slices) again and again while it is killed, restarted, synced
    run = await startChaosEnsemble('leader', { servers: 3, cfg: { snapCount: '100' } });
  });
  afterAll(async () => {
    await workload?.abort();
    await run?.stop();
  });

  it('a new leader is elected, clients continue, the old leader catches up; the history is linearizable', async ({ onTestFailed }) => {
    const zk = run!.zk;
    onTestFailed(() => {
      run!.markFailed();
      console.log(`[chaos leader] CHAOS_SEED=${seed}\n${logTails(zk)}`);
    });
    const t0 = Date.now();
    const phases: Record<string, number> = {};
    await waitForLeader(zk, ALL, 2, 20_000);
    await RegisterWorkload.setup(zk.connectionString, KEYS, '/acked');
    workload = new RegisterWorkload({ connectString: zk.connectionString, keys: KEYS, createsUnder: '/acked', clients: 4, seed, pipelinedCreates: 2, pipelinedCreatesMax: 200 });
    const rec = workload.recorder;
    workload.start();
    await waitUntil(() => rec.ackedRegisterWrites() >= 100, '100 acknowledged register writes before the first kill', 20_000);
    phases['load before kill'] = Date.now() - t0;

    // two rounds: kill -9 whoever leads, a new leader is elected, clients continue; restart it, it follows
    for (let round = 1; round <= 2; round += 1) {
      const leader = await waitForLeader(zk, ALL, 2, 20_000);
      const killedAt = rec.now();
      const tKill = Date.now();
      await zk.kill(leader);
      const others = ALL.filter((id) => id !== leader);
      const newLeader = await waitForLeader(zk, others, 1, 20_000);
      phases[`r${round} kill → srvr shows new leader`] = Date.now() - tKill;
      expect(newLeader).not.toBe(leader);
      const ackedAtElection = rec.ackedRegisterWrites();
      await waitUntil(() => rec.ackedRegisterWrites() >= ackedAtElection + 100, 'clients to continue: 100 more acknowledged register writes', 20_000);
      const firstAfter = rec.ops.filter((op) => op.call.kind !== 'read' && op.outcome.status === 'ok' && op.returnMs > killedAt).map((op) => op.returnMs);
      phases[`r${round} kill → first acked register write`] = Math.min(...firstAfter) - killedAt;

      const tRestart = Date.now();
      await zk.start(leader);
      await waitForLeader(zk, ALL, 2, 20_000);
      phases[`r${round} restart → following`] = Date.now() - tRestart;
      // caught up: sync+read on the restarted server alone sees the newest state (checked with the history)
      await syncReadOn(rec, zk.server(leader).clientPort, KEYS, `rejoined-r${round}`);
      const ackedAtRejoin = rec.ackedRegisterWrites();
      await waitUntil(() => rec.ackedRegisterWrites() >= ackedAtRejoin + 60, '60 more acknowledged register writes with all three', 20_000);
    }
    await workload.stop();
    // the restarted server is at the same zxid as the others (nothing is in flight any more)
    await waitForSameZxid(zk, ALL, 15_000);

    const report = await checkAfterFaults(zk, workload, KEYS, ALL);
    phases.total = Date.now() - t0;
    console.log(summarize('leader', report, phases));
    expect(rec.unexpected.join('\n'), 'errors no register operation should get').toBe('');
    expect(report.linearizable.verdict, report.linearizable.message).toBe('ok');
    expect(report.sequential.verdict, report.sequential.message).toBe('ok');
  });
});
