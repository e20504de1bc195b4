/**
 * Chaos on real processes: kill -9 leaders of 3 in quick succession, giving nobody time to
 * settle: as soon as a new leader shows in srvr it is killed, and the previous victim is
 * started at the same moment, so elections run while a restarted server is still recovering
 * or syncing (DIFF / TRUNC / SNAP with an uncommitted tail from an older epoch). A majority is
 * up all the time. Afterwards: writes go on, trees identical, history linearizable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegisterWorkload } from '../support/history';
import { chaosSeed, checkAfterFaults, logTails, startChaosEnsemble, summarize, waitForLeader } from '../support/chaos';
import type { ChaosEnsemble } from '../support/chaos';
import { waitUntil } from '../support/processes';

const KEYS = ['/reg/a', '/reg/b', '/reg/c'];
const ALL = [1, 2, 3];
const KILLS = 5;

describe('chaos: leaders of 3 killed in quick succession', () => {
  const seed = chaosSeed();
  let run: ChaosEnsemble | undefined;
  let workload: RegisterWorkload | undefined;

  beforeAll(async () => {
    run = await startChaosEnsemble('rapid', { servers: 3 });
  });
  afterAll(async () => {
    await workload?.abort();
    await run?.stop();
  });

  it(`${KILLS} leaders killed as soon as they lead, the previous victim restarted at once; the history is linearizable`, async ({ onTestFailed }) => {
    const zk = run!.zk;
    const story: string[] = [];
    onTestFailed(() => {
      run!.markFailed();
      console.log(`[chaos rapid] CHAOS_SEED=${seed}: ${story.join(', ')}\n${logTails(zk)}`);
    });
    const t0 = Date.now();
    const phases: Record<string, number> = {};
    await waitForLeader(zk, ALL, 2, 20_000);
    await RegisterWorkload.setup(zk.connectionString, KEYS, '/acked');
    workload = new RegisterWorkload({ connectString: zk.connectionString, keys: KEYS, createsUnder: '/acked', clients: 4, seed, sessionTimeoutMs: 15_000, pipelinedCreates: 2, pipelinedCreatesMax: 300 });
    const rec = workload.recorder;
    workload.start();
    await waitUntil(() => rec.ackedRegisterWrites() >= 60, '60 acknowledged register writes', 20_000);

    let down: number | null = null;
    for (let k = 1; k <= KILLS; k += 1) {
      const up = ALL.filter((id) => id !== down);
      // a leader among the two that are up (with its one follower: a quorum)
      const leader = await waitForLeader(zk, up, 1, 30_000);
      const tKill = Date.now();
      story.push(`kill ${leader}${down !== null ? ` + start ${down}` : ''}`);
      const restart = down;
      await zk.kill(leader);
      down = leader;
      // the previous victim comes back while the survivors are electing without the one just killed
      if (restart !== null) await zk.start(restart);
      phases[`kill ${k}`] = Date.now() - tKill;
    }
    await zk.start(down as number);
    const tSettle = Date.now();
    await waitForLeader(zk, ALL, 2, 30_000);
    phases['last start → leader + 2 followers'] = Date.now() - tSettle;
    const acked = rec.ackedRegisterWrites();
    await waitUntil(() => rec.ackedRegisterWrites() >= acked + 60, '60 more acknowledged register writes once settled', 30_000);
    await workload.stop();

    const report = await checkAfterFaults(zk, workload, KEYS, ALL);
    phases.total = Date.now() - t0;
    console.log(`${summarize('rapid', report, phases)}; ${story.join(', ')}`);
    expect(rec.unexpected.join('\n'), 'errors no register operation should get').toBe('');
    expect(report.linearizable.verdict, report.linearizable.message).toBe('ok');
    expect(report.sequential.verdict, report.sequential.message).toBe('ok');
  });
});
