/**
 * Chaos on real processes: kill -9 every server of 3 at the same moment under load, twice,
 * and start them again. A write is acknowledged only once a majority has it on disk, so every
 * acknowledged write must survive; the restarted ensemble elects, the clients' history stays
 * linearizable, and the three trees are identical.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegisterWorkload } from '../support/history';
import { chaosSeed, checkAfterFaults, logTails, startChaosEnsemble, summarize, waitForLeader } from '../support/chaos';
import type { ChaosEnsemble } from '../support/chaos';
import { waitUntil } from '../support/processes';

const KEYS = ['/reg/a', '/reg/b', '/reg/c'];
const ALL = [1, 2, 3];

describe('chaos: kill -9 the whole ensemble of 3 under load', () => {
  const seed = chaosSeed();
  let run: ChaosEnsemble | undefined;
  let workload: RegisterWorkload | undefined;

  beforeAll(async () => {
    // snapshots every ~100 txns, so some are cut short by the crash
    run = await startChaosEnsemble('crash-all', { servers: 3, cfg: { snapCount: '100' } });
  });
  afterAll(async () => {
    await workload?.abort();
    await run?.stop();
  });

  // phases bounded by their own deadlines (up to 140 s in all); on a loaded 2-core machine the
  // whole took 40 s of the default 60 s, so the test's own limit is set above the phases' sum
  it('every acknowledged write survives two whole-ensemble crashes; history linearizable', { timeout: 180_000 }, async ({ onTestFailed }) => {
    const zk = run!.zk;
    onTestFailed(() => {
      run!.markFailed();
      console.log(`[chaos crash-all] CHAOS_SEED=${seed}\n${logTails(zk)}`);
    });
    const t0 = Date.now();
    const phases: Record<string, number> = {};
    await waitForLeader(zk, ALL, 2, 20_000);
    await RegisterWorkload.setup(zk.connectionString, KEYS, '/acked');
    // sessions outlive the outage (the new leader gives every session a fresh timeout)
    workload = new RegisterWorkload({ connectString: zk.connectionString, keys: KEYS, createsUnder: '/acked', clients: 4, seed, sessionTimeoutMs: 15_000, pipelinedCreates: 4, pipelinedCreatesMax: 250 });
    const rec = workload.recorder;
    workload.start();
    for (let round = 1; round <= 2; round += 1) {
      const acked = rec.ackedRegisterWrites();
      await waitUntil(() => rec.ackedRegisterWrites() >= acked + 80, `round ${round}: 80 acknowledged register writes before the crash`, 20_000);
      const tKill = Date.now();
      await Promise.all(ALL.map((id) => zk.kill(id)));
      await Promise.all(ALL.map((id) => zk.start(id)));
      await waitForLeader(zk, ALL, 2, 20_000);
      phases[`r${round} kill all → leader + 2 followers`] = Date.now() - tKill;
      const ackedAfter = rec.ackedRegisterWrites();
      await waitUntil(() => rec.ackedRegisterWrites() >= ackedAfter + 40, `round ${round}: 40 acknowledged register writes after the restart`, 30_000);
      phases[`r${round} kill all → 40 acks`] = Date.now() - tKill;
    }
    await workload.stop();

    const report = await checkAfterFaults(zk, workload, KEYS, ALL);
    phases.total = Date.now() - t0;
    console.log(summarize('crash-all', report, phases));
    expect(rec.unexpected.join('\n'), 'errors no register operation should get').toBe('');
    expect(report.linearizable.verdict, report.linearizable.message).toBe('ok');
    expect(report.sequential.verdict, report.sequential.message).toBe('ok');
  });
});
