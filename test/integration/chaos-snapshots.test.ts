/**
 * Chaos on real processes while every member keeps taking fuzzy snapshots in slices: a tree of
 * 10,000 znodes (a walk of several event-loop turns) and snapCount 100 (a new snapshot every
 * 51–100 txns, so one is nearly always in progress), under a register + create load; kill -9 a
 * follower, then the leader, restarting each (recovery from a snapshot taken while txns were
 * applied, and sync by DIFF or SNAP). Afterwards every acknowledged write is on every server,
 * the trees are identical, and the history is linearizable and sequentially consistent.
 * autopurge is on (snapRetainCount 3; purgeInterval 1 hour, and a purge after each snapshot):
 * every member, leader or follower, keeps 3 snapshots, and the restarts recover from what it kept.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../../src-main/client/index';
import { RegisterWorkload } from '../support/history';
import { chaosSeed, checkAfterFaults, logTails, startChaosEnsemble, summarize, syncReadOn, waitForLeader } from '../support/chaos';
import type { ChaosEnsemble } from '../support/chaos';
import { waitUntil } from '../support/processes';

const KEYS = ['/reg/a', '/reg/b', '/reg/c'];
const ALL = [1, 2, 3];
const PREFILL = 10_000;

describe('chaos: kill -9 a follower and the leader while every member snapshots in slices', () => {
  const seed = chaosSeed();
  let run: ChaosEnsemble | undefined;
  let workload: RegisterWorkload | undefined;

  beforeAll(async () => {
    run = await startChaosEnsemble('snapshots', { servers: 3, cfg: { snapCount: '100', 'autopurge.snapRetainCount': '3', 'autopurge.purgeInterval': '1' } });
  });
  afterAll(async () => {
    await workload?.abort();
    await run?.stop();
  });

  it('every acknowledged write survives, the trees are identical, the history is linearizable', { timeout: 240_000 }, async ({ onTestFailed }) => {
    const zk = run!.zk;
    onTestFailed(() => {
      run!.markFailed();
      console.log(`[chaos snapshots] CHAOS_SEED=${seed}\n${logTails(zk)}`);
    });
    const t0 = Date.now();
    const phases: Record<string, number> = {};
    await waitForLeader(zk, ALL, 2, 20_000);
    const c = await connectClient(zk.connectionString, { sessionTimeoutMs: 10_000, requestTimeoutMs: 20_000 }, 20_000);
    try {
      await c.create('/big');
      const value = new Uint8Array(64).fill(0x62);
      for (let i = 0; i < PREFILL; i += 500) {
        await Promise.all(Array.from({ length: Math.min(500, PREFILL - i) }, (_, k) => c.create(`/big/n${i + k}`, value)));
      }
    } finally {
      await c.close();
    }
    phases[`prefill ${PREFILL}`] = Date.now() - t0;
    await RegisterWorkload.setup(zk.connectionString, KEYS, '/acked');
    workload = new RegisterWorkload({ connectString: zk.connectionString, keys: KEYS, createsUnder: '/acked', clients: 4, nzkClients: 1, seed, pipelinedCreates: 2, pipelinedCreatesMax: 200 });
    const rec = workload.recorder;
    workload.start();
    await waitUntil(() => rec.ackedWrites() >= 150, '150 acknowledged writes before the first kill', 30_000);

    for (const kind of ['follower', 'leader'] as const) {
      const leader = await waitForLeader(zk, ALL, 2, 20_000);
      const victim = kind === 'leader' ? leader : (ALL.find((id) => id !== leader) as number);
      const tKill = Date.now();
      await zk.kill(victim);
      await waitForLeader(zk, ALL.filter((id) => id !== victim), 1, 20_000);
      const acked = rec.ackedWrites();
      await waitUntil(() => rec.ackedWrites() >= acked + 150, `150 acknowledged writes without the ${kind} (server ${victim})`, 30_000);
      phases[`kill ${kind} ${victim} → 150 acks`] = Date.now() - tKill;
      await zk.start(victim);
      await waitForLeader(zk, ALL, 2, 20_000);
      await syncReadOn(rec, zk.server(victim).clientPort, KEYS, `rejoined-${kind}`);
      const again = rec.ackedWrites();
      await waitUntil(() => rec.ackedWrites() >= again + 150, `150 acknowledged writes after server ${victim} rejoined`, 30_000);
    }
    await workload.stop();

    const report = await checkAfterFaults(zk, workload, KEYS, ALL);
    phases.total = Date.now() - t0;
    console.log(summarize('snapshots', report, phases));
    expect(rec.unexpected.join('\n'), 'errors no register operation should get').toBe('');
    expect(report.linearizable.verdict, report.linearizable.message).toBe('ok');
    expect(report.sequential.verdict, report.sequential.message).toBe('ok');
    expect(report.nodes).toBeGreaterThan(PREFILL);
    // the members did snapshot the big tree while serving (quorum-persist.ts logs each one)
    const big = ALL.flatMap((id) => zk.logs(id).filter((l) => /snapshot snapshot\.[0-9a-f]+ saved \((\d+) znodes/.exec(l) !== null && Number(/\((\d+) znodes/.exec(l)![1]) >= PREFILL));
    console.log(`[chaos snapshots] ${big.length} snapshots of the big tree logged, e.g. ${big.at(-1)}`);
    expect(big.length, 'snapshots of the big tree logged by the members').toBeGreaterThanOrEqual(3);
    // autopurge ran in every member (whatever its role) and left the newest 3 snapshots; a purge
    // follows each snapshot through the persistence's ops, so wait for the last one to settle
    for (const id of ALL) {
      expect(zk.logs(id).some((l) => /autopurge: removed [1-9]\d* snapshot/.test(l)), `server ${id} logged an autopurge that removed snapshots`).toBe(true);
      const dir = join(zk.dir, `server${id}`, 'data', 'version-2');
      const snaps = (): string[] => readdirSync(dir).filter((n) => n.startsWith('snapshot.'));
      await waitUntil(() => snaps().length <= 3, `server ${id} keeps at most 3 snapshots (has ${snaps().join(', ')})`, 10_000);
      expect(snaps().length).toBeGreaterThan(0);
    }
  });
});
