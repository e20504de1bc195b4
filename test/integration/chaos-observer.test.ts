/**
 * Chaos on real processes with an observer: 3 voters + 1 observer, clients on all four (one
 * session pinned to the observer). kill -9 the leader twice and the observer once under load:
 * the observer follows each new leader (INFORM), forwards its clients' writes, and its sync+reads
 * stay linearizable; at the end all four trees are identical.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegisterWorkload } from '../support/history';
import { chaosSeed, checkAfterFaults, logTails, srvr, startChaosEnsemble, summarize, syncReadOn, waitForLeader } from '../support/chaos';
import type { ChaosEnsemble } from '../support/chaos';
import { waitUntil } from '../support/processes';

const KEYS = ['/reg/a', '/reg/b', '/reg/c'];
const VOTERS = [1, 2, 3];
const OBSERVER = 4;
const ALL = [...VOTERS, OBSERVER];

describe('chaos: 3 voters + 1 observer, leaders and the observer killed under load', () => {
  const seed = chaosSeed();
  let run: ChaosEnsemble | undefined;
  let workload: RegisterWorkload | undefined;
  let observerLoad: RegisterWorkload | undefined;

  beforeAll(async () => {
    run = await startChaosEnsemble('observer', { servers: 3, observers: 1 });
  });
  afterAll(async () => {
    await observerLoad?.abort();
    await workload?.abort();
    await run?.stop();
  });

  it('the observer follows every new leader and serves linearizable sync+reads; four identical trees', async ({ onTestFailed }) => {
    const zk = run!.zk;
    onTestFailed(() => {
      run!.markFailed();
      console.log(`[chaos observer] CHAOS_SEED=${seed}\n${logTails(zk)}`);
    });
    const t0 = Date.now();
    const phases: Record<string, number> = {};
    const observerIsServing = async (): Promise<boolean> => {
      const r = await srvr(zk, OBSERVER);
      return r !== null && r.serving && r.mode === 'observer';
    };
    await waitForLeader(zk, VOTERS, 2, 20_000);
    await waitUntil(observerIsServing, 'the observer to serve', 20_000);
    await RegisterWorkload.setup(zk.connectionString, KEYS, '/acked');
    workload = new RegisterWorkload({ connectString: zk.connectionString, keys: KEYS, createsUnder: '/acked', clients: 3, seed });
    // one more client on the observer alone, recorded in the same history
    const observerPort = zk.server(OBSERVER).clientPort;
    const rec = workload.recorder;
    observerLoad = new RegisterWorkload({ connectString: `127.0.0.1:${observerPort}`, keys: KEYS, createsUnder: '/acked', clients: 1, seed: seed + 1, namePrefix: 'obs-' });
    const obs = observerLoad.recorder;
    workload.start();
    observerLoad.start();
    const acked = (): number => rec.ackedRegisterWrites() + obs.ackedRegisterWrites();
    await waitUntil(() => acked() >= 80 && obs.ackedRegisterWrites() >= 10, '80 acknowledged register writes (10 through the observer)', 20_000);

    for (const round of [1, 2, 3]) {
      const leader = await waitForLeader(zk, VOTERS, 2, 20_000);
      const victim = round === 2 ? OBSERVER : leader;
      const tKill = Date.now();
      await zk.kill(victim);
      if (victim !== OBSERVER) await waitForLeader(zk, VOTERS.filter((id) => id !== victim), 1, 20_000);
      const before = acked();
      await waitUntil(() => acked() >= before + 60, `round ${round}: 60 acknowledged register writes without server ${victim}`, 20_000);
      await zk.start(victim);
      await waitForLeader(zk, VOTERS, 2, 20_000);
      await waitUntil(observerIsServing, 'the observer to serve again', 20_000);
      await syncReadOn(rec, observerPort, KEYS, `observer-r${round}`);
      phases[`r${round} kill ${victim}${victim === OBSERVER ? '(observer)' : '(leader)'} → all back`] = Date.now() - tKill;
      const obsBefore = obs.ackedRegisterWrites();
      await waitUntil(() => obs.ackedRegisterWrites() >= obsBefore + 5, `round ${round}: 5 acknowledged register writes through the observer`, 20_000);
    }
    await Promise.all([workload.stop(), observerLoad.stop()]);
    // one history: the observer client's ops join the others' (same clock origin is not shared, so shift)
    const shift = obs.t0Ms - rec.t0Ms;
    for (const op of obs.ops) rec.ops.push({ ...op, invokeMs: op.invokeMs + shift, returnMs: op.returnMs + shift });
    for (const p of obs.ackedCreates) rec.ackedCreates.add(p);
    for (const p of obs.unknownCreates) rec.unknownCreates.add(p);
    rec.unexpected.push(...obs.unexpected);

    const report = await checkAfterFaults(zk, workload, KEYS, ALL);
    phases.total = Date.now() - t0;
    console.log(summarize('observer', report, phases));
    expect(rec.unexpected.join('\n'), 'errors no register operation should get').toBe('');
    expect(report.linearizable.verdict, report.linearizable.message).toBe('ok');
    expect(report.sequential.verdict, report.sequential.message).toBe('ok');
  });
});
