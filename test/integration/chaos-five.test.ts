/**
 * Chaos on real processes, 5 servers: kill -9 two (the leader and a follower) — the other
 * three elect and writes continue; kill a third — no majority: no write is acknowledged (a
 * probe write gets no answer within a bounded wait, and no client sees an ack); restart one —
 * writes succeed again; restart the rest — all five hold the same tree. The history of the
 * whole run is linearizable and sequentially consistent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src-main/client/index';
import type { ZkClient } from '../../src-main/client/index';
import { Prng } from '../../src-main/sim/prng';
import { RegisterWorkload } from '../support/history';
import { chaosSeed, checkAfterFaults, logTails, srvrAll, startChaosEnsemble, summarize, waitForLeader } from '../support/chaos';
import type { ChaosEnsemble } from '../support/chaos';
import { waitUntil } from '../support/processes';

const KEYS = ['/reg/a', '/reg/b', '/reg/c'];
const ALL = [1, 2, 3, 4, 5];
/** how long the probe write waits for an answer while there is no majority */
const NO_QUORUM_WAIT_MS = 2500;

describe('chaos: 5 servers, lose two, then a third, then come back', () => {
  const seed = chaosSeed();
  let run: ChaosEnsemble | undefined;
  let workload: RegisterWorkload | undefined;
  const probes: ZkClient[] = [];

  beforeAll(async () => {
    run = await startChaosEnsemble('five', { servers: 5 });
  });
  afterAll(async () => {
    for (const p of probes) await p.close().catch(() => {});
    await workload?.abort();
    await run?.stop();
  });

  it('two down: writes go on; three down: no write succeeds; one back: writes succeed; all back: identical trees', async ({ onTestFailed }) => {
    const zk = run!.zk;
    const story: string[] = [];
    onTestFailed(() => {
      run!.markFailed();
      console.log(`[chaos five] CHAOS_SEED=${seed}: ${story.join('; ')}\n${logTails(zk)}`);
    });
    const rnd = new Prng(seed);
    const pick = (ids: number[]): number => ids[Math.floor(rnd.float() * ids.length)] as number;
    const t0 = Date.now();
    const phases: Record<string, number> = {};
    const leader = await waitForLeader(zk, ALL, 4, 30_000);
    phases['start → leader + 4 followers'] = Date.now() - t0;
    await RegisterWorkload.setup(zk.connectionString, KEYS, '/acked');
    workload = new RegisterWorkload({ connectString: zk.connectionString, keys: KEYS, createsUnder: '/acked', clients: 4, nzkClients: 1, seed, sessionTimeoutMs: 15_000 });
    const rec = workload.recorder;
    workload.start();
    await waitUntil(() => rec.ackedWrites() >= 80, '80 acknowledged writes with five', 20_000);

    // two down: the leader and a follower
    const follower = pick(ALL.filter((id) => id !== leader));
    story.push(`kill ${leader}(leader) ${follower}`);
    let tPhase = Date.now();
    await Promise.all([zk.kill(leader), zk.kill(follower)]);
    const three = ALL.filter((id) => id !== leader && id !== follower);
    const leaderOfThree = await waitForLeader(zk, three, 2, 20_000);
    let acked = rec.ackedWrites();
    await waitUntil(() => rec.ackedWrites() >= acked + 80, '80 acknowledged writes with three of five', 20_000);
    phases['kill 2 → 80 acks'] = Date.now() - tPhase;

    // a third down: no majority
    const third = pick(three);
    story.push(`kill ${third}${third === leaderOfThree ? '(leader)' : ''}`);
    const two = three.filter((id) => id !== third);
    tPhase = Date.now();
    await zk.kill(third);
    await waitUntil(
      async () => [...(await srvrAll(zk, two)).values()].every((r) => r === null || !r.serving || r.mode !== 'leader'),
      `servers ${two.join(',')} to stop leading`,
      10_000,
    );
    phases['kill 3rd → nobody leads'] = Date.now() - tPhase;
    const noQuorumFrom = rec.now();
    // a probe write through the two survivors: no answer within the bounded wait
    const probe = createClient(two.map((id) => `127.0.0.1:${zk.server(id).clientPort}`).join(','), { sessionTimeoutMs: 15_000, requestTimeoutMs: 1500 });
    probes.push(probe);
    const probeOutcome = await rec.run('probe', '/reg/a', { kind: 'write', value: 'probe-no-quorum' }, async () => {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'no answer'>((resolve) => {
        timer = setTimeout(() => resolve('no answer'), NO_QUORUM_WAIT_MS);
      });
      try {
        const r = await Promise.race([probe.setData('/reg/a', 'probe-no-quorum', -1), deadline]);
        return r === 'no answer' ? { status: 'unknown', reason: `no answer within ${NO_QUORUM_WAIT_MS} ms` } : { status: 'ok', version: r.version };
      } finally {
        clearTimeout(timer);
      }
    });
    expect(probeOutcome.status).toBe('unknown');
    await probe.close();
    const noQuorumUntil = rec.now();
    const ackedWithoutMajority = rec.ops.filter((op) => op.call.kind !== 'read' && op.outcome.status === 'ok' && op.returnMs > noQuorumFrom && op.returnMs <= noQuorumUntil);
    expect(ackedWithoutMajority.map((op) => `${op.client} ${op.key} ${op.call.kind}`), 'writes acknowledged without a majority').toEqual([]);

    // one back: three of five again, writes succeed
    const back = pick([leader, follower, third]);
    story.push(`start ${back}`);
    tPhase = Date.now();
    await zk.start(back);
    const probe2 = createClient(zk.connectionString, { sessionTimeoutMs: 15_000, requestTimeoutMs: 2000 });
    probes.push(probe2);
    await waitUntil(
      async () => {
        const value = `probe-back-${rec.now().toFixed(0)}`;
        const o = await rec.run('probe2', '/reg/b', { kind: 'write', value }, async () => ({ status: 'ok', version: (await probe2.setData('/reg/b', value, -1)).version }));
        return o.status === 'ok';
      },
      'a write to succeed once three of five are up',
      20_000,
      50,
    );
    phases['start 1 → first acked probe write'] = Date.now() - tPhase;
    acked = rec.ackedWrites();
    await waitUntil(() => rec.ackedWrites() >= acked + 40, '40 acknowledged client writes with three of five again', 20_000);

    // all back
    tPhase = Date.now();
    await Promise.all([leader, follower, third].filter((id) => id !== back).map((id) => zk.start(id)));
    await waitForLeader(zk, ALL, 4, 20_000);
    phases['start the rest → leader + 4 followers'] = Date.now() - tPhase;
    acked = rec.ackedWrites();
    await waitUntil(() => rec.ackedWrites() >= acked + 40, '40 acknowledged writes with all five', 20_000);
    await workload.stop();
    await probe2.close();

    const report = await checkAfterFaults(zk, workload, KEYS, ALL);
    phases.total = Date.now() - t0;
    console.log(`${summarize('five', report, phases)}; ${story.join(', ')}`);
    expect(rec.unexpected.join('\n'), 'errors no register operation should get').toBe('');
    expect(report.linearizable.verdict, report.linearizable.message).toBe('ok');
    expect(report.sequential.verdict, report.sequential.message).toBe('ok');
  });
});
