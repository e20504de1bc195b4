/**
 * A real 3-server quorum: fast leader election and ZAB over TCP between three processes,
 * writes through the leader replicated to the followers' txn logs, and fail-over when the
 * leader is killed (the new leader has the data and the client's session).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../../src-main/client/index';
import type { ZkClient } from '../../src-main/client/index';
import { parseSrvr } from '../../src-main/node/four-letter-words';
import { askFourLetterWord } from '../../src-main/supervisor/four-letter-client';
import { startEnsemble } from '../../src-main/supervisor';
import type { LocalEnsemble } from '../../src-main/supervisor';
import { waitUntil } from '../support/processes';

const text = (b: Uint8Array | null): string => new TextDecoder().decode(b ?? new Uint8Array());

describe('quorum: 3 servers elect, replicate, fail over', () => {
  let zk: LocalEnsemble;
  const clients: ZkClient[] = [];

  beforeAll(async () => {
    // traceWrites: a test below reads a write's story from the trace
    zk = await startEnsemble({ servers: 3, tickTimeMs: 200, initLimit: 10, syncLimit: 5, pollIntervalMs: 100, traceWrites: true });
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await zk?.stop();
  });

  const roles = (): string[] => zk.servers().map((s) => s.role);

  it('exactly one leader, the others follow it', async () => {
    await waitUntil(() => zk.leader() !== null && roles().filter((r) => r === 'follower').length === 2, 'a leader and two followers', 20_000);
    expect(roles().filter((r) => r === 'leader')).toHaveLength(1);
    const leader = zk.server(zk.leader() as number);
    const srvr = parseSrvr(await askFourLetterWord('127.0.0.1', leader.clientPort, 'srvr'));
    expect(srvr.mode).toBe('leader');
  });

  it('followers serve clients: a write through one follower is read (after sync) through the other', async () => {
    const followers = zk.servers().filter((s) => s.role === 'follower');
    expect(followers).toHaveLength(2);
    const [fa, fb] = followers as [(typeof followers)[number], (typeof followers)[number]];
    for (const f of followers) {
      const srvr = parseSrvr(await askFourLetterWord('127.0.0.1', f.clientPort, 'srvr'));
      expect(srvr.mode).toBe('follower');
    }
    const leaderZxid = parseSrvr(await askFourLetterWord('127.0.0.1', zk.server(zk.leader() as number).clientPort, 'srvr')).zxid;
    const a = await connectClient(`127.0.0.1:${fa.clientPort}`, { sessionTimeoutMs: 20_000 }, 20_000);
    const b = await connectClient(`127.0.0.1:${fb.clientPort}`, { sessionTimeoutMs: 20_000 }, 20_000);
    clients.push(a, b);
    const watched = new Promise<string>((resolve) => {
      void b.exists('/via-follower', (e) => resolve(`${e.type}:${e.path}`));
    });
    await a.create('/via-follower', 'hello');
    expect(await watched).toMatch(/:\/via-follower$/);
    await b.sync('/via-follower');
    expect(text((await b.getData('/via-follower')).data)).toBe('hello');
    // the write went through ZAB: the leader's zxid moved on, in epoch 1 or later
    const after = parseSrvr(await askFourLetterWord('127.0.0.1', zk.server(zk.leader() as number).clientPort, 'srvr')).zxid as bigint;
    expect(after > (leaderZxid as bigint)).toBe(true);
    expect(after >> 32n).toBeGreaterThanOrEqual(1n);
    // the trace tells that write's story across the servers: proposal, acks, commit, applies
    await zk.ensemble.waitUntil(
      () => zk.ensemble.traceEvents().some((e) => e.kind === 'txn.applied' && e.path === '/via-follower' && e.server === fb.id),
      'the follower applying the write, in the trace',
      10_000,
    );
    const proposal = zk.ensemble
      .traceEvents()
      .find((e) => e.kind === 'zab.proposal.sent' && e.xid !== undefined && zk.ensemble.traceEvents().some((a) => a.zxid === e.zxid && a.path === '/via-follower'));
    expect(proposal).toBeDefined();
    const story = zk.ensemble.requestStory(proposal!.session as string, proposal!.xid as number);
    const kinds = new Set(story.map((e) => e.kind));
    for (const k of ['zab.proposal.sent', 'zab.ack.received', 'zab.commit.sent', 'txn.applied'] as const) expect(kinds.has(k)).toBe(true);
    expect(new Set(story.map((e) => e.server)).size).toBe(3);
  });

  it('writes through the leader; after killing it a new leader has them and the session', async () => {
    const leaderPort = zk.server(zk.leader() as number).clientPort;
    // every host in the string, the leader first: after the kill the client moves on to a live one
    const others = zk.servers().filter((s) => s.id !== zk.leader()).map((s) => `127.0.0.1:${s.clientPort}`);
    const c = await connectClient([`127.0.0.1:${leaderPort}`, ...others].join(','), { sessionTimeoutMs: 20_000 }, 20_000);
    clients.push(c);
    for (let i = 0; i < 10; i += 1) await c.create(`/q${i}`, `v${i}`);
    await c.create('/eph', 'mine', { mode: 1 });
    const old = zk.leader() as number;
    await zk.kill(old);
    await waitUntil(() => zk.leader() !== null && zk.leader() !== old, 'a new leader', 30_000);
    // the same client (same session) reconnects to the new leader and reads everything back
    for (let i = 0; i < 10; i += 1) {
      let got: string | null = null;
      await waitUntil(
        async () => {
          try {
            got = text((await c.getData(`/q${i}`)).data);
            return true;
          } catch {
            return false;
          }
        },
        `/q${i} readable after fail-over`,
        30_000,
        200,
      );
      expect(got).toBe(`v${i}`);
    }
    expect(text((await c.getData('/eph')).data)).toBe('mine');
  });

  it('a wiped follower resyncs from the leader and serves everything, also after its own restart', async () => {
    // the previous test killed the leader: roles come from srvr polling, so wait for a follower to show
    const runningFollower = () => zk.servers().find((s) => s.role === 'follower' && s.state === 'running');
    await waitUntil(() => runningFollower() !== undefined, 'a running follower after the fail-over', 30_000);
    const id = runningFollower()!.id;
    await zk.stopServer(id);
    zk.wipe(id);
    await zk.start(id);
    await waitUntil(() => zk.server(id).role === 'follower', `server ${id} following after the wipe`, 30_000);
    const c = await connectClient(`127.0.0.1:${zk.server(id).clientPort}`, { sessionTimeoutMs: 20_000 }, 20_000);
    try {
      await c.sync('/');
      expect(text((await c.getData('/via-follower')).data)).toBe('hello');
      await c.create('/after-wipe', 'w');
    } finally {
      await c.close();
    }
    // restart it: recovery from the received snapshot + its new log
    await zk.restart(id);
    await waitUntil(() => zk.server(id).role === 'follower', `server ${id} following after its restart`, 30_000);
    const d = await connectClient(`127.0.0.1:${zk.server(id).clientPort}`, { sessionTimeoutMs: 20_000 }, 20_000);
    try {
      await d.sync('/');
      expect(text((await d.getData('/via-follower')).data)).toBe('hello');
      expect(text((await d.getData('/after-wipe')).data)).toBe('w');
    } finally {
      await d.close();
    }
  });

  it('the killed server restarts, rejoins as a follower', async () => {
    const down = zk.servers().find((s) => s.state === 'stopped');
    expect(down).toBeDefined();
    await zk.restart(down!.id);
    await waitUntil(() => zk.server(down!.id).role === 'follower', `server ${down!.id} following`, 30_000);
    expect(roles().filter((r) => r === 'leader')).toHaveLength(1);
  });

  it('a follower more than 500 txns behind gets a snapshot (SNAP), serves them, and recovers from it after a restart', async () => {
    await waitUntil(() => zk.servers().filter((s) => s.role === 'follower').length >= 1 && zk.leader() !== null, 'a leader and a follower', 30_000);
    const f = zk.servers().find((s) => s.role === 'follower')!;
    // keep a quorum while f is down: start the third server if it is down
    const third = zk.servers().find((s) => s.state === 'stopped');
    if (third) await zk.start(third.id);
    await waitUntil(() => zk.servers().filter((s) => s.role === 'follower' || s.role === 'leader').length === 3, 'three serving', 30_000);
    await zk.stopServer(f.id);
    const live = zk.servers().filter((s) => s.state === 'running').map((s) => `127.0.0.1:${s.clientPort}`).join(',');
    const w = await connectClient(live, { sessionTimeoutMs: 20_000 }, 20_000);
    try {
      await w.create('/many', '');
      await Promise.all(Array.from({ length: 600 }, (_, i) => w.create(`/many/n${i}`, `${i}`)));
    } finally {
      await w.close();
    }
    const traceMark = zk.ensemble.traceEvents().length;
    await zk.start(f.id);
    await waitUntil(() => zk.server(f.id).role === 'follower', `server ${f.id} following again`, 30_000);
    const syncs = zk.ensemble.traceEvents().slice(traceMark).filter((e) => e.kind === 'zab.sync.received' && e.server === f.id);
    expect(syncs.map((e) => e.detail?.how)).toContain('SNAP');
    const check = async (): Promise<void> => {
      const c = await connectClient(`127.0.0.1:${zk.server(f.id).clientPort}`, { sessionTimeoutMs: 20_000 }, 20_000);
      try {
        await c.sync('/');
        expect((await c.getChildren('/many')).length).toBe(600);
        expect(text((await c.getData('/many/n599')).data)).toBe('599');
      } finally {
        await c.close();
      }
    };
    await check();
    await zk.restart(f.id);
    await waitUntil(() => zk.server(f.id).role === 'follower', `server ${f.id} following after its restart`, 30_000);
    await check();
  });
});

describe('quorum with an observer', () => {
  let zk: LocalEnsemble;
  afterAll(async () => {
    await zk?.stop();
  });

  it('the observer syncs and serves, and never leads', async () => {
    zk = await startEnsemble({ servers: 3, observers: 1, tickTimeMs: 200, pollIntervalMs: 100 });
    await waitUntil(() => zk.server(4).role === 'observer' && zk.leader() !== null, 'an observer and a leader', 20_000);
    expect(zk.leader()).not.toBe(4);
    const c = await connectClient(`127.0.0.1:${zk.server(4).clientPort}`, { sessionTimeoutMs: 20_000 }, 20_000);
    try {
      await c.create('/from-observer', 'o');
      expect(text((await c.getData('/from-observer')).data)).toBe('o');
    } finally {
      await c.close();
    }
  });
});

describe('quorum: the data outlives the whole ensemble (reopening its folder)', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('stop every server, start the ensemble again from its folder: the znodes are there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zoolab-reopen-'));
    dirs.push(dir);
    const first = await startEnsemble({ servers: 3, dir, tickTimeMs: 200, pollIntervalMs: 100 });
    try {
      await waitUntil(() => first.leader() !== null, 'a leader', 20_000);
      const c = await connectClient(first.connectionString, { sessionTimeoutMs: 20_000 }, 20_000);
      for (let i = 0; i < 5; i += 1) await c.create(`/kept${i}`, `k${i}`);
      await c.close();
    } finally {
      await first.stop();
    }
    const second = await startEnsemble({ servers: 3, dir, tickTimeMs: 200, pollIntervalMs: 100 });
    try {
      expect(second.connectionString).toBe(first.connectionString);
      await waitUntil(() => second.leader() !== null, 'a leader again', 20_000);
      const c = await connectClient(second.connectionString, { sessionTimeoutMs: 20_000 }, 20_000);
      for (let i = 0; i < 5; i += 1) expect(text((await c.getData(`/kept${i}`)).data)).toBe(`k${i}`);
      await c.close();
    } finally {
      await second.stop();
    }
  });
});

describe('quorum: fail-over time (kill -9 of the leader → first acknowledged write)', () => {
  let zk: LocalEnsemble;
  afterAll(async () => {
    await zk?.stop();
  });

  it('a new leader takes writes soon after the old one is killed, three times over; each restarted server rejoins as a follower', async () => {
    zk = await startEnsemble({ servers: 3, tickTimeMs: 200, initLimit: 10, syncLimit: 5, pollIntervalMs: 50 });
    await waitUntil(() => zk.leader() !== null && zk.servers().filter((s) => s.role === 'follower').length === 2, 'a leader and two followers', 20_000);
    const times: number[] = [];
    for (let round = 0; round < 3; round += 1) {
      const old = zk.leader() as number;
      // the client sits on the followers: it loses its connection when they abandon the old leader
      const hosts = zk.servers().filter((s) => s.id !== old).map((s) => `127.0.0.1:${s.clientPort}`).join(',');
      const c = await connectClient(hosts, { sessionTimeoutMs: 20_000, reconnectDelayMaxMs: 10, connectTimeoutMs: 1000, requestTimeoutMs: 1000 }, 20_000);
      try {
        await c.create(`/before${round}`, 'b');
        const t0 = performance.now();
        const killed = zk.kill(old);
        let attempt = 0;
        let done = false;
        while (!done && performance.now() - t0 < 20_000) {
          attempt += 1;
          try {
            // a fresh path per attempt: a lost reply's create may have happened
            await c.create(`/after${round}-${attempt}`, 'a');
            done = true;
          } catch {
            await new Promise((r) => setTimeout(r, 2));
          }
        }
        const ms = performance.now() - t0;
        await killed;
        expect(done).toBe(true);
        times.push(ms);
        expect(text((await c.getData(`/before${round}`)).data)).toBe('b');
      } finally {
        await c.close();
      }
      await waitUntil(() => zk.leader() !== null && zk.leader() !== old, 'a new leader', 20_000);
      await zk.start(old);
      // the restarted server meets an established ensemble: the others report the leader they follow
      await waitUntil(() => zk.server(old).role === 'follower', `server ${old} following again`, 10_000);
    }
    console.log(`kill -9 leader → first acknowledged write: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
    // the target is 200 ms on a quiet machine; this one is shared, so allow slack but not seconds of it
    expect(Math.min(...times)).toBeLessThan(1000);
    for (const t of times) expect(t).toBeLessThan(3000);
  });
});
