/**
 * Chaos on real processes: SIGSTOP the leader of 3 for longer than syncLimit×tickTime while
 * clients write; the other two elect a new leader and go on; SIGCONT: the old leader steps
 * down and rejoins as a follower. A client pinned to the old leader (its only host) does
 * sync+read and cas the moment it wakes: ZooKeeper 3.8 answers such reads with old-epoch data
 * for a while (ZOOKEEPER-1675, protocol doc §9); ZooLab must not, and a deposed leader must
 * never acknowledge a write. The whole history is checked for linearizability.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../../src-main/client/index';
import type { ZkClient } from '../../src-main/client/index';
import { RegisterWorkload } from '../support/history';
import type { HistoryRecorder } from '../support/history';
import { CHAOS_TIMING, chaosSeed, checkAfterFaults, logTails, srvr, startChaosEnsemble, summarize, waitForLeader } from '../support/chaos';
import type { ChaosEnsemble } from '../support/chaos';
import { waitUntil } from '../support/processes';

const KEYS = ['/reg/a', '/reg/b'];
const ALL = [1, 2, 3];
const text = (b: Uint8Array | null): string => new TextDecoder().decode(b ?? new Uint8Array());

/** One pass of the pinned client: sync+read then cas on the version read, for every key. */
async function pinnedPass(c: ZkClient, rec: HistoryRecorder, name: string, seen: Map<string, number>, tag: string): Promise<void> {
  for (const key of KEYS) {
    await rec.run(name, key, { kind: 'read', afterSync: true }, async () => {
      await c.sync(key);
      const { data, stat } = await c.getData(key);
      seen.set(key, stat.version);
      return { status: 'ok', value: text(data), version: stat.version };
    });
    const expectedVersion = seen.get(key) ?? 0;
    const value = `${name}-${tag}-${key}`;
    await rec.run(name, key, { kind: 'cas', expectedVersion, value }, async () => {
      const stat = await c.setData(key, value, expectedVersion);
      seen.set(key, stat.version);
      return { status: 'ok', version: stat.version };
    });
  }
}

describe('chaos: SIGSTOP the leader of 3 past syncLimit', () => {
  const seed = chaosSeed();
  let run: ChaosEnsemble | undefined;
  let workload: RegisterWorkload | undefined;
  let pinned: ZkClient | undefined;

  beforeAll(async () => {
    run = await startChaosEnsemble('pause', { servers: 3 });
  });
  afterAll(async () => {
    await pinned?.close().catch(() => {});
    await workload?.abort();
    await run?.stop();
  });

  it('the others elect a new leader; on SIGCONT the old one steps down, rejoins, and never serves stale sync+reads', async ({ onTestFailed }) => {
    const zk = run!.zk;
    onTestFailed(() => {
      run!.markFailed();
      console.log(`[chaos pause] CHAOS_SEED=${seed}\n${logTails(zk)}`);
    });
    const t0 = Date.now();
    const phases: Record<string, number> = {};
    const leader = await waitForLeader(zk, ALL, 2, 20_000);
    await RegisterWorkload.setup(zk.connectionString, KEYS, '/acked');
    workload = new RegisterWorkload({ connectString: zk.connectionString, keys: KEYS, createsUnder: '/acked', clients: 4, seed });
    const rec = workload.recorder;
    // the pinned client knows only the leader; a long session so it survives the pause
    pinned = await connectClient(`127.0.0.1:${zk.server(leader).clientPort}`, { sessionTimeoutMs: 30_000, requestTimeoutMs: 5000 }, 15_000);
    const seen = new Map<string, number>();
    workload.start();
    await pinnedPass(pinned, rec, 'pinned', seen, 'before');
    await waitUntil(() => rec.ackedWrites() >= 100, '100 acknowledged writes before the pause', 20_000);

    const tPause = Date.now();
    zk.pause(leader);
    const others = ALL.filter((id) => id !== leader);
    const newLeader = await waitForLeader(zk, others, 1, 20_000);
    phases['SIGSTOP → srvr shows new leader'] = Date.now() - tPause;
    expect(newLeader).not.toBe(leader);
    // a follower waits syncLimit×tickTime before giving up on its leader
    expect(Date.now() - tPause).toBeGreaterThanOrEqual(CHAOS_TIMING.syncLimit * CHAOS_TIMING.tickTimeMs * 0.9);
    const ackedAtElection = rec.ackedWrites();
    await waitUntil(() => rec.ackedWrites() >= ackedAtElection + 100, '100 acknowledged writes while the old leader sleeps', 20_000);

    // While it still sleeps, the pinned client asks it for sync+read of every key and a cas on the
    // version it saw before: the requests wait in its socket. Every write acknowledged above came
    // before these were sent, so the reads must show them, and the stale cas must not succeed.
    const woken = KEYS.map((key) =>
      rec.run(`wake-${key}`, key, { kind: 'read', afterSync: true }, async () => {
        await pinned!.sync(key);
        const { data, stat } = await pinned!.getData(key);
        return { status: 'ok', value: text(data), version: stat.version };
      }),
    );
    const staleVersion = seen.get(KEYS[0] as string) ?? 0;
    woken.push(
      rec.run('wake-cas', KEYS[0] as string, { kind: 'cas', expectedVersion: staleVersion, value: 'wake-cas' }, async () => ({
        status: 'ok',
        version: (await pinned!.setData(KEYS[0] as string, 'wake-cas', staleVersion)).version,
      })),
    );
    await new Promise((r) => setImmediate(r)); // let the client hand the frames to the socket
    const tResume = Date.now();
    zk.resume(leader);
    // at once, through the old leader only: whatever it answers must be linearizable
    const passes = (async () => {
      for (let k = 0; k < 6; k += 1) await pinnedPass(pinned!, rec, 'pinned', seen, `after${k}`);
    })();
    await waitUntil(async () => (await srvr(zk, leader))?.mode === 'follower', `server ${leader} to step down and follow`, 20_000, 20);
    phases['SIGCONT → old leader follows'] = Date.now() - tResume;
    await passes;
    const wokenOutcomes = await Promise.all(woken);
    await waitForLeader(zk, ALL, 2, 20_000);
    const ackedAtRejoin = rec.ackedWrites();
    await waitUntil(() => rec.ackedWrites() >= ackedAtRejoin + 60, '60 more acknowledged writes with all three', 20_000);
    await pinnedPass(pinned, rec, 'pinned', seen, 'end');
    await workload.stop();
    await pinned.close();
    pinned = undefined;

    const report = await checkAfterFaults(zk, workload, KEYS, ALL);
    phases.total = Date.now() - t0;
    console.log(summarize('pause', report, phases));
    const pinnedOps = rec.ops.filter((op) => op.client === 'pinned');
    console.log(`[chaos pause] pinned client on the old leader: ${pinnedOps.filter((o) => o.outcome.status === 'ok').length} ok, ${pinnedOps.filter((o) => o.outcome.status === 'unknown').length} unknown of ${pinnedOps.length}; sent while it slept: ${wokenOutcomes.map((o) => o.status).join(' ')}`);
    expect(rec.unexpected.join('\n'), 'errors no register operation should get').toBe('');
    expect(report.linearizable.verdict, report.linearizable.message).toBe('ok');
    expect(report.sequential.verdict, report.sequential.message).toBe('ok');
  });
});

describe('chaos: SIGSTOP a follower of 3 past syncLimit', () => {
  const seed = chaosSeed();
  let run: ChaosEnsemble | undefined;
  let workload: RegisterWorkload | undefined;
  let pinned: ZkClient | undefined;

  beforeAll(async () => {
    run = await startChaosEnsemble('pause-follower', { servers: 3 });
  });
  afterAll(async () => {
    await pinned?.close().catch(() => {});
    await workload?.abort();
    await run?.stop();
  });

  it('the leader drops it and keeps writing; on SIGCONT it resyncs; its sync+reads are never stale', async ({ onTestFailed }) => {
    const zk = run!.zk;
    onTestFailed(() => {
      run!.markFailed();
      console.log(`[chaos pause-follower] CHAOS_SEED=${seed}\n${logTails(zk)}`);
    });
    const t0 = Date.now();
    const phases: Record<string, number> = {};
    const leader = await waitForLeader(zk, ALL, 2, 20_000);
    const follower = ALL.find((id) => id !== leader) as number;
    await RegisterWorkload.setup(zk.connectionString, KEYS, '/acked');
    // the workload avoids the follower that will sleep, so it keeps making progress
    const awake = ALL.filter((id) => id !== follower).map((id) => `127.0.0.1:${zk.server(id).clientPort}`).join(',');
    workload = new RegisterWorkload({ connectString: awake, keys: KEYS, createsUnder: '/acked', clients: 4, seed });
    const rec = workload.recorder;
    pinned = await connectClient(`127.0.0.1:${zk.server(follower).clientPort}`, { sessionTimeoutMs: 30_000, requestTimeoutMs: 5000 }, 15_000);
    const seen = new Map<string, number>();
    workload.start();
    await pinnedPass(pinned, rec, 'pinned', seen, 'before');
    await waitUntil(() => rec.ackedWrites() >= 80, '80 acknowledged writes before the pause', 20_000);

    const tPause = Date.now();
    zk.pause(follower);
    // writes go on with the leader and the other follower (a quorum of 2)
    const acked = rec.ackedWrites();
    await waitUntil(() => rec.ackedWrites() >= acked + 100, '100 acknowledged writes while the follower sleeps', 20_000);
    // and past syncLimit×tickTime, so the leader has dropped it
    await waitUntil(() => Date.now() - tPause > 2 * CHAOS_TIMING.syncLimit * CHAOS_TIMING.tickTimeMs, 'twice syncLimit×tickTime', 10_000);
    phases['paused for'] = Date.now() - tPause;
    // requests that wait in its socket while it sleeps, sent after all those acks: must not be stale
    const woken = KEYS.map((key) =>
      rec.run(`wake-${key}`, key, { kind: 'read', afterSync: true }, async () => {
        await pinned!.sync(key);
        const { data, stat } = await pinned!.getData(key);
        return { status: 'ok', value: text(data), version: stat.version };
      }),
    );
    await new Promise((r) => setImmediate(r));
    const tResume = Date.now();
    zk.resume(follower);
    await waitUntil(async () => (await srvr(zk, follower))?.mode === 'follower', `server ${follower} to follow again`, 20_000, 20);
    const wokenOutcomes = await Promise.all(woken);
    for (let k = 0; k < 3; k += 1) await pinnedPass(pinned, rec, 'pinned', seen, `after${k}`);
    await waitForLeader(zk, ALL, 2, 20_000);
    phases['SIGCONT → following, 3 passes'] = Date.now() - tResume;
    const acked2 = rec.ackedWrites();
    await waitUntil(() => rec.ackedWrites() >= acked2 + 40, '40 more acknowledged writes', 20_000);
    await workload.stop();
    await pinned.close();
    pinned = undefined;

    const report = await checkAfterFaults(zk, workload, KEYS, ALL);
    phases.total = Date.now() - t0;
    console.log(summarize('pause-follower', report, phases));
    const p = rec.ops.filter((op) => op.client === 'pinned');
    console.log(`[chaos pause-follower] pinned client on the follower: ${p.filter((o) => o.outcome.status === 'ok').length} ok, ${p.filter((o) => o.outcome.status === 'unknown').length} unknown of ${p.length}; sent while it slept: ${wokenOutcomes.map((o) => o.status).join(' ')}`);
    expect(rec.unexpected.join('\n'), 'errors no register operation should get').toBe('');
    expect(report.linearizable.verdict, report.linearizable.message).toBe('ok');
    expect(report.sequential.verdict, report.sequential.message).toBe('ok');
  });
});
