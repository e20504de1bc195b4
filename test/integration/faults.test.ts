/**
 * Link faults set by the supervisor on real servers: isolating the leader makes the other two
 * elect a new one and keep serving writes; healing brings the old leader back as a follower.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../../src-main/client/index';
import type { ZkClient } from '../../src-main/client/index';
import { startEnsemble } from '../../src-main/supervisor';
import type { LocalEnsemble } from '../../src-main/supervisor';
import { waitUntil } from '../support/processes';

describe('faults: isolate the leader, heal', () => {
  let zk: LocalEnsemble;
  const clients: ZkClient[] = [];

  beforeAll(async () => {
    zk = await startEnsemble({ servers: 3, tickTimeMs: 200, initLimit: 10, syncLimit: 5, pollIntervalMs: 100 });
    await waitUntil(() => zk.leader() !== null && zk.servers().filter((s) => s.role === 'follower').length === 2, 'a settled ensemble', 20_000);
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await zk?.stop();
  });

  it('isolated leader: the majority elects another and takes writes; the old one stops leading', async () => {
    const old = zk.leader() as number;
    zk.isolate(old);
    expect(zk.ensemble.faults()).toHaveLength(2);
    await waitUntil(() => zk.servers().some((s) => s.id !== old && s.role === 'leader'), 'a new leader on the majority side', 30_000);
    await waitUntil(() => zk.server(old).role !== 'leader', 'the isolated server to stop leading', 30_000);
    const majority = zk.servers().filter((s) => s.id !== old).map((s) => `127.0.0.1:${s.clientPort}`).join(',');
    const c = await connectClient(majority, { sessionTimeoutMs: 20_000 }, 20_000);
    clients.push(c);
    await c.create('/during-partition', 'ok');
    expect(zk.ensemble.traceEvents().some((e) => e.kind === 'fault.set')).toBe(true);
  });

  it('heal: the old leader rejoins as a follower and has the write made without it', async () => {
    const isolated = zk.ensemble.faults()[0]?.from as number;
    zk.heal();
    await waitUntil(() => zk.server(isolated).role === 'follower', `server ${isolated} following again`, 30_000);
    expect(zk.servers().filter((s) => s.role === 'leader')).toHaveLength(1);
    const c = await connectClient(`127.0.0.1:${zk.server(isolated).clientPort}`, { sessionTimeoutMs: 20_000 }, 20_000);
    clients.push(c);
    await c.sync('/during-partition');
    expect(new TextDecoder().decode((await c.getData('/during-partition')).data ?? new Uint8Array())).toBe('ok');
  });
});

describe('step mode: one write, message by message', () => {
  let zk: LocalEnsemble;
  let c: ZkClient | null = null;
  afterAll(async () => {
    zk?.ensemble.setStepMode(false);
    await c?.close().catch(() => {});
    await zk?.stop();
  });

  it('PROPOSALs wait until released; the write is acknowledged only after an ACK is let through', async () => {
    zk = await startEnsemble({ servers: 3, tickTimeMs: 1000, initLimit: 10, syncLimit: 10, pollIntervalMs: 100 });
    await waitUntil(() => zk.leader() !== null && zk.servers().filter((s) => s.role === 'follower').length === 2, 'a settled ensemble', 20_000);
    const leader = zk.leader() as number;
    c = await connectClient(`127.0.0.1:${zk.server(leader).clientPort}`, { sessionTimeoutMs: 30_000 }, 20_000);
    zk.ensemble.setStepMode(true);
    let done = false;
    const write = c.create('/stepped', 's').then(() => (done = true));
    await waitUntil(() => zk.ensemble.heldMessages().filter((m) => m.type === 'PROPOSAL').length === 2, 'two held PROPOSALs', 10_000);
    // followers may hold messages of their own (session touches, REVALIDATE); the PROPOSALs are the leader's
    const proposals = zk.ensemble.heldMessages().filter((m) => m.type === 'PROPOSAL');
    expect(proposals.every((m) => m.server === leader && m.from === leader), JSON.stringify(zk.ensemble.heldMessages())).toBe(true);
    expect(done).toBe(false);
    const released: string[] = [];
    // the write's own messages: a follower's late ACK of an earlier txn (the session's creation)
    // may be held too, and released first
    const zxid = proposals[0]?.zxid;
    for (let i = 0; i < 50 && !done; i += 1) {
      await waitUntil(() => zk.ensemble.heldMessages().length > 0 || done, 'a held message', 10_000);
      for (const m of zk.ensemble.release(1)) if (m.zxid === zxid) released.push(`${m.type} ${m.from}→${m.to}`);
    }
    await write;
    expect(released.find((r) => /^(PROPOSAL|ACK|COMMIT) /.test(r))).toMatch(/^PROPOSAL /);
    expect(released.some((r) => r.startsWith('ACK '))).toBe(true);
    expect(released.findIndex((r) => r.startsWith('ACK '))).toBeGreaterThan(0);
    zk.ensemble.setStepMode(false);
    expect(zk.ensemble.heldMessages()).toEqual([]);
    expect(new TextDecoder().decode((await c.getData('/stepped')).data ?? new Uint8Array())).toBe('s');
  });

  it('only a write waits: a restarted follower syncs, and a session resumes on it, without releases', async () => {
    const leader = zk.leader() as number;
    const [f1, f2] = zk.servers().filter((s) => s.id !== leader).map((s) => s.id) as [number, number];
    const client = await connectClient(`127.0.0.1:${zk.server(f1).clientPort}`, { sessionTimeoutMs: 30_000 }, 20_000);
    try {
      zk.ensemble.setStepMode(true);
      // a follower restarted in step mode syncs with the leader (DIFF, NEWLEADER, its ack, UPTODATE)
      await zk.restart(f2);
      await waitUntil(() => zk.server(f2).role === 'follower', `server ${f2} following again in step mode`, 20_000);
      // the client's server restarts: its session resumes there, checked with the leader (REVALIDATE)
      let resumed = false;
      client.on('connected', (e: { resumed: boolean }) => (resumed ||= e.resumed));
      await zk.restart(f1);
      await waitUntil(() => zk.server(f1).role === 'follower', `server ${f1} following again in step mode`, 20_000);
      await waitUntil(() => resumed && client.state === 'connected', 'the session resumed on the restarted follower', 20_000);
      expect(zk.ensemble.heldMessages(), JSON.stringify(zk.ensemble.heldMessages())).toEqual([]);
      // a write still waits, and goes once step mode is off
      let done = false;
      const write = client.create('/stepped-after-restart', 'r').then(() => (done = true));
      await waitUntil(() => zk.ensemble.heldMessages().some((m) => m.type === 'REQUEST' || m.type === 'PROPOSAL'), 'the write held', 10_000);
      expect(done).toBe(false);
      zk.ensemble.setStepMode(false);
      await write;
      expect(new TextDecoder().decode((await client.getData('/stepped-after-restart')).data ?? new Uint8Array())).toBe('r');
    } finally {
      zk.ensemble.setStepMode(false);
      await client.close().catch(() => {});
    }
  }, 60_000);
});

describe('delayLink, then heal: what the delay holds goes out at once', () => {
  let zk: LocalEnsemble;
  let c: ZkClient | null = null;
  afterAll(async () => {
    zk?.heal();
    await c?.close().catch(() => {});
    await zk?.stop();
  });

  it('a write stuck behind a 60 s delay on the leader’s links completes right after heal', async () => {
    zk = await startEnsemble({ servers: 3, tickTimeMs: 1000, initLimit: 10, syncLimit: 20, pollIntervalMs: 100, traceWrites: true });
    await waitUntil(() => zk.leader() !== null && zk.servers().filter((s) => s.role === 'follower').length === 2, 'a settled ensemble', 20_000);
    const leader = zk.leader() as number;
    c = await connectClient(`127.0.0.1:${zk.server(leader).clientPort}`, { sessionTimeoutMs: 30_000 }, 20_000);
    for (const f of zk.servers().filter((s) => s.id !== leader)) zk.delayLink(leader, f.id, 60_000);
    const proposalsBefore = zk.ensemble.traceEvents().filter((e) => e.kind === 'zab.proposal.sent').length;
    let done = false;
    const write = c.create('/delayed', 'd').then(() => (done = true));
    await waitUntil(() => zk.ensemble.traceEvents().filter((e) => e.kind === 'zab.proposal.sent').length > proposalsBefore, 'the PROPOSAL sent (into the delay)', 10_000);
    expect(done).toBe(false);
    const healedAt = Date.now();
    zk.heal();
    await write;
    // held, it would wait 60 s, or 20 s until the followers give up on a silent leader (syncLimit)
    expect(Date.now() - healedAt).toBeLessThan(5_000);
    expect(new TextDecoder().decode((await c.getData('/delayed')).data ?? new Uint8Array())).toBe('d');
  }, 40_000);
});
