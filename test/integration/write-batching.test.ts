/**
 * The write path batches on a 3-server ensemble: peer links send a turn's frames in one write,
 * followers ack a whole fsync's proposals, up to two txn-log syncs are in flight. These check
 * what batching must never change: each session's writes are applied in the order it sent them
 * (pipelined, through followers and the leader at once), and every write acknowledged to a
 * client survives kill -9 of the leader in the middle of a burst.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, KeeperError } from '../../src-main/client/index';
import type { ZkClient } from '../../src-main/client/index';
import { CreateFlags } from '../../src-main/jute/types';
import { startEnsemble } from '../../src-main/supervisor';
import type { LocalEnsemble } from '../../src-main/supervisor';
import { waitUntil } from '../support/processes';

const SEQ = CreateFlags.PERSISTENT_SEQUENTIAL;

describe('write batching on 3 servers', () => {
  let zk: LocalEnsemble;
  const clients: ZkClient[] = [];
  const open = async (ids: number[]): Promise<ZkClient> => {
    const c = await connectClient(ids.map((id) => `127.0.0.1:${zk.server(id).clientPort}`).join(','), { sessionTimeoutMs: 20_000 }, 20_000);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    zk = await startEnsemble({ servers: 3, tickTimeMs: 500, initLimit: 10, syncLimit: 5, pollIntervalMs: 100 });
    await waitUntil(() => zk.leader() !== null && zk.servers().filter((s) => s.role === 'follower').length === 2, 'a settled ensemble', 20_000);
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await zk?.stop();
  });

  it('pipelined writes of several sessions (on followers and the leader) are applied in each session’s order', async () => {
    const ids = zk.servers().map((s) => s.id);
    const setup = await open(ids);
    await setup.create('/order', null);
    const sessions = await Promise.all(ids.flatMap((id) => [open([id]), open([id])]));
    const PER_SESSION = 150;
    // every session fires all its creates without waiting: they share batches and fsyncs
    const results = await Promise.all(
      sessions.map((c, s) => Promise.all(Array.from({ length: PER_SESSION }, (_, i) => c.create(`/order/s${s}-${String(i).padStart(3, '0')}-`, String(i), { mode: SEQ })))),
    );
    for (const [s, paths] of results.entries()) {
      const seqs = paths.map((p) => Number(p.slice(-10)));
      // the parent's counter is the commit order: it rises in the order the session sent them
      expect(seqs, `session ${s}`).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(PER_SESSION);
    }
    for (const id of ids) {
      const c = await open([id]);
      await c.sync('/order');
      expect((await c.getChildren('/order')).length, `server ${id}`).toBe(sessions.length * PER_SESSION);
    }
  });

  it('kill -9 of the leader in a burst: every acknowledged write is on the new leader and on the restarted one', async () => {
    const leader = zk.leader() as number;
    const followers = zk.servers().filter((s) => s.id !== leader).map((s) => s.id);
    const setup = await open(followers);
    await setup.create('/burst', null);
    const writers = await Promise.all([open([followers[0] as number]), open([followers[1] as number]), open([leader, ...followers])]);
    const acked: string[] = [];
    let failed = 0;
    const BURST = 400;
    const all = writers.map((c, w) =>
      Promise.all(
        Array.from({ length: BURST }, (_, i) =>
          c.create(`/burst/w${w}-${i}`, 'x').then(
            (p) => void acked.push(p),
            (e: unknown) => {
              // lost in the fail-over: never acknowledged, may or may not have committed
              if (!(e instanceof KeeperError)) throw e;
              failed += 1;
            },
          ),
        ),
      ),
    );
    await waitUntil(() => acked.length >= 150, '150 acknowledged writes before the kill', 20_000, 1);
    const ackedAtKill = acked.length;
    await zk.kill(leader);
    await Promise.all(all);
    const ackedBeforeCheck = [...acked];
    expect(ackedBeforeCheck.length + failed).toBe(3 * BURST);
    console.log(`[write batching] kill -9 at ${ackedAtKill} acknowledged: ${ackedBeforeCheck.length} acknowledged in all, ${failed} lost in the fail-over`);
    await waitUntil(() => zk.servers().some((s) => s.id !== leader && s.role === 'leader'), 'a new leader', 20_000);
    await zk.start(leader);
    for (const id of [...followers, leader]) {
      const c = await open([id]);
      await waitUntil(
        async () => {
          try {
            await c.sync('/burst');
            return true;
          } catch {
            return false;
          }
        },
        `server ${id} to answer a sync`,
        20_000,
      );
      const present = new Set((await c.getChildren('/burst')).map((n) => `/burst/${n}`));
      const missing = ackedBeforeCheck.filter((p) => !present.has(p));
      expect(missing, `acknowledged writes missing on server ${id}`).toEqual([]);
    }
  });
});
