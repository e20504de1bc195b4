/**
 * Durability of a standalone ZooLab server process under kill -9 (fsync on, as configured by
 * default): several clients write (creates, multis, versioned setData) with many requests
 * outstanding; the server is SIGKILLed mid-stream and restarted on the same dataDir. Every
 * write a client saw acknowledged must be there; a write whose reply never came may or may not
 * be there, but never half-done (a multi is all or nothing). Then a torn txn-log tail: garbage
 * appended to the newest log file is detected, cut with a log line, and later writes survive.
 */
import { appendFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, KeeperError, op, type ZkClient } from '../../src-main/client/index';
import { ErrorCode } from '../../src-main/common/error-codes';
import { startZooLabServer, zoolabBuilt, type ZooLabServer } from '../compat/zoolab-process';

const WRITERS = 4;
const OUTSTANDING_PER_WRITER = 16;
const ACKED_BEFORE_KILL = 300;
const WRITE_PHASE_MS_MAX = 4000;
const OPS_PER_WRITER_MAX = 1500;

/** What one writer did: ops acknowledged, and ops whose outcome it never learned. */
interface Ledger {
  acked: Map<string, string>; // path → data of acknowledged creates
  ackedMultis: string[]; // base paths of acknowledged multis (base/a, base/b, base data)
  unknownMultis: string[];
  unknownCreates: Map<string, string>;
  counterAckedVersion: number; // highest version a setData on the writer's counter returned
  counterAttempts: number;
}

const text = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));

/** Writes until `stop()` says so; resolves when every outstanding op has settled. */
async function writer(client: ZkClient, id: number, round: number, stop: () => boolean, onAck: () => void): Promise<Ledger> {
  const ledger: Ledger = { acked: new Map(), ackedMultis: [], unknownMultis: [], unknownCreates: new Map(), counterAckedVersion: -1, counterAttempts: 0 };
  const counter = `/crash/r${round}/counter-${id}`;
  let seq = 0;
  const inFlight = new Set<Promise<void>>();
  const lost = (e: unknown): boolean => e instanceof KeeperError && (e.code === ErrorCode.CONNECTIONLOSS || e.code === ErrorCode.SESSIONEXPIRED);
  const one = async (k: number): Promise<void> => {
    const kind = k % 3;
    if (kind === 0) {
      const path = `/crash/r${round}/w${id}-${k}`;
      const data = `value-${round}-${id}-${k}`;
      try {
        await client.create(path, data);
        ledger.acked.set(path, data);
        onAck();
      } catch (e) {
        if (!lost(e)) throw e;
        ledger.unknownCreates.set(path, data);
      }
    } else if (kind === 1) {
      const base = `/crash/r${round}/m${id}-${k}`;
      try {
        await client.multi([op.create(base, 'multi'), op.create(`${base}/a`, 'a'), op.create(`${base}/b`, 'b'), op.setData(base, 'multi-done')]);
        ledger.ackedMultis.push(base);
        onAck();
      } catch (e) {
        if (!lost(e)) throw e;
        ledger.unknownMultis.push(base);
      }
    } else {
      ledger.counterAttempts++;
      try {
        const stat = await client.setData(counter, String(k));
        ledger.counterAckedVersion = Math.max(ledger.counterAckedVersion, stat.version);
        onAck();
      } catch (e) {
        if (!lost(e)) throw e;
      }
    }
  };
  while (!stop() && seq < OPS_PER_WRITER_MAX) {
    if (inFlight.size >= OUTSTANDING_PER_WRITER) {
      await Promise.race(inFlight);
      continue;
    }
    const p: Promise<void> = one(seq++).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  return ledger;
}

async function verify(client: ZkClient, ledgers: Ledger[], round: number): Promise<{ acked: number; unknownPresent: number; unknownAbsent: number }> {
  let acked = 0;
  let unknownPresent = 0;
  let unknownAbsent = 0;
  for (const [i, l] of ledgers.entries()) {
    for (const [path, data] of l.acked) {
      const got = await client.getData(path).catch((e: Error) => e);
      expect(got instanceof Error ? `${path}: ${got.message}` : text(got.data), `acknowledged create ${path}`).toBe(data);
      acked++;
    }
    for (const base of l.ackedMultis) {
      expect(text((await client.getData(base)).data), `acknowledged multi ${base}`).toBe('multi-done');
      expect((await client.getChildren(base)).sort(), `acknowledged multi ${base}`).toEqual(['a', 'b']);
      acked++;
    }
    for (const base of l.unknownMultis) {
      // all or nothing
      const stat = await client.exists(base);
      if (stat === null) {
        expect(await client.exists(`${base}/a`), `half-done multi ${base}`).toBeNull();
        expect(await client.exists(`${base}/b`), `half-done multi ${base}`).toBeNull();
        unknownAbsent++;
      } else {
        expect(text((await client.getData(base)).data), `half-done multi ${base}`).toBe('multi-done');
        expect((await client.getChildren(base)).sort(), `half-done multi ${base}`).toEqual(['a', 'b']);
        unknownPresent++;
      }
    }
    for (const [path, data] of l.unknownCreates) {
      const stat = await client.exists(path);
      if (stat === null) unknownAbsent++;
      else {
        expect(text((await client.getData(path)).data), `unacknowledged create ${path}`).toBe(data);
        unknownPresent++;
      }
    }
    const counter = await client.exists(`/crash/r${round}/counter-${i}`);
    expect(counter, `counter of writer ${i}`).not.toBeNull();
    expect(counter!.version, `counter of writer ${i}: every acknowledged setData is there`).toBeGreaterThanOrEqual(l.counterAckedVersion);
    expect(counter!.version, `counter of writer ${i}: no setData appears that was never sent`).toBeLessThanOrEqual(l.counterAttempts);
  }
  return { acked, unknownPresent, unknownAbsent };
}

const skip = !zoolabBuilt();

describe.skipIf(skip)('server crash: kill -9 while clients write, restart on the same dataDir', () => {
  let server: ZooLabServer;
  const clients: ZkClient[] = [];
  const connect = async (): Promise<ZkClient> => {
    const c = await connectClient(server.connectString, { sessionTimeoutMs: 10_000 }, 15_000);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    // snapCount 200: snapshots are taken (and interrupted by the kill) while the clients write
    server = await startZooLabServer({ tickTimeMs: 500, extraConfig: { snapCount: '200' } });
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await server?.stop();
  });

  it('every acknowledged write survives, nothing unacknowledged is half-done (3 rounds)', async () => {
    const setup = await connect();
    await setup.create('/crash');
    for (let round = 0; round < 3; round++) {
      const c0 = await connect();
      await c0.create(`/crash/r${round}`);
      for (let i = 0; i < WRITERS; i++) await c0.create(`/crash/r${round}/counter-${i}`, '');
      const writers = await Promise.all(Array.from({ length: WRITERS }, () => connect()));
      let ackedCount = 0;
      let killed = false;
      const startedMs = Date.now();
      const runs = writers.map((c, i) => writer(c, i, round, () => killed, () => ackedCount++));
      // kill once enough writes were acknowledged (or the phase ran long enough)
      while (ackedCount < ACKED_BEFORE_KILL && Date.now() - startedMs < WRITE_PHASE_MS_MAX) await new Promise((r) => setTimeout(r, 5));
      await server.kill();
      killed = true;
      // close first: calls made after the kill wait for a reconnect that cannot come
      for (const c of [...writers, c0]) await c.close();
      const ledgers = await Promise.all(runs);
      await server.restart();
      const checker = await connect();
      const r = await verify(checker, ledgers, round);
      expect(r.acked).toBeGreaterThan(0);
      // the kill landed mid-stream: some ops were still in flight
      expect(r.unknownPresent + r.unknownAbsent, 'ops in flight at the kill').toBeGreaterThan(0);
      await checker.close();
    }
    const snapshots = readdirSync(join(server.dataDir, 'version-2')).filter((n) => n.startsWith('snapshot.'));
    expect(snapshots.length, 'snapshots were taken during the writes (snapCount=200)').toBeGreaterThan(1);
  }, 120_000);

  it('a quiesced tree is identical after kill -9 and restart: data, children and every Stat field', async () => {
    const c = await connect();
    await c.create('/same', 'root');
    for (let i = 0; i < 30; i++) {
      await c.create(`/same/n-`, `v${i}`, { mode: 2 }); // sequential: the parent's counter must survive too
      if (i % 3 === 0) await c.setData('/same', `root${i}`);
      if (i % 5 === 0) await c.delete(`/same/n-${String(i).padStart(10, '0')}`);
    }
    await c.multi([op.create('/same/m'), op.create('/same/m/x', 'x'), op.setData('/same/m', 'm')]);
    await c.setACL('/same/m/x', [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
    await c.create('/same/c', null, { mode: 4 }); // container, never used: stays
    const dump = async (client: ZkClient): Promise<string[]> => {
      const out: string[] = [];
      const walk = async (path: string): Promise<void> => {
        const { data, stat } = await client.getData(path);
        const { acl } = await client.getACL(path);
        out.push(`${path} ${text(data)} ${JSON.stringify(stat, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))} ${JSON.stringify(acl)}`);
        for (const child of (await client.getChildren(path)).sort()) await walk(`${path}/${child}`);
      };
      await walk('/same');
      return out;
    };
    const before = await dump(c);
    await c.close();
    await server.kill();
    await server.restart();
    const d = await connect();
    expect(await dump(d)).toEqual(before);
    // and the sequence counter continues where it was
    // 30 sequential + /same/m + /same/c: 32 child creations so far
    expect(await d.create('/same/n-', 'next', { mode: 2 })).toBe('/same/n-0000000032');
  }, 60_000);

  it('a client keeps its session and its watches across kill -9 + restart (resume, then setWatches)', async () => {
    const w = await connectClient(server.connectString, { sessionTimeoutMs: 10_000 }, 15_000);
    clients.push(w);
    const setup = await connect();
    await setup.create('/rw');
    await setup.create('/rw/a', '0');
    const events: string[] = [];
    w.on('watch', (ev) => events.push(`${ev.type} ${ev.path}`));
    await w.create('/rw/mine', null, { mode: 1 });
    await w.getData('/rw/a', true);
    await w.exists('/rw/b', true);
    await w.getChildren('/rw', true);
    const session = w.sessionId;
    await setup.close();
    await server.kill();
    await server.restart();
    await w.waitUntilConnected(15_000);
    expect(w.sessionId, 'the same session after the restart').toBe(session);
    const x = await connect();
    expect(await x.exists('/rw/mine'), "the session's ephemeral is still there").not.toBeNull();
    await x.setData('/rw/a', '1');
    await x.create('/rw/b');
    await w.exists('/'); // a round trip: the events precede this reply
    expect(events).toEqual(['3 /rw/a', '1 /rw/b', '4 /rw']);
  }, 60_000);

  it("a session that died with the server: its ephemerals are back after the restart, then expire with it", async () => {
    const owner = await connectClient(server.connectString, { sessionTimeoutMs: 2000 }, 15_000);
    await owner.create('/eph-crash', null);
    await owner.create('/eph-crash/mine', 'e', { mode: 1 });
    await server.kill();
    await owner.close();
    await server.restart();
    const c = await connect();
    const stat = await c.exists('/eph-crash/mine');
    expect(stat, 'the ephemeral is recovered with its session').not.toBeNull();
    const deleted = new Promise<string>((resolve) => {
      void c.exists('/eph-crash/mine', (ev) => resolve(`${ev.type} ${ev.path}`));
    });
    const timer = new Promise<string>((resolve) => setTimeout(() => resolve('no event within 15 s'), 15_000));
    expect(await Promise.race([deleted, timer]), 'the session expires (no client resumes it) and its ephemeral goes').toBe('2 /eph-crash/mine');
    expect(await c.exists('/eph-crash/mine')).toBeNull();
  }, 60_000);

  it('torn log tail: garbage after the newest txn is cut with a log line; later writes survive the next crash', async () => {
    const c = await connect();
    await c.create('/torn');
    for (let i = 0; i < 50; i++) await c.create(`/torn/before-${i}`, `b${i}`);
    await c.close();
    await server.kill();
    const logDir = join(server.dataDir, 'version-2');
    const logs = readdirSync(logDir)
      .filter((n) => n.startsWith('log.'))
      .sort((a, b) => (BigInt(`0x${a.slice(4)}`) < BigInt(`0x${b.slice(4)}`) ? -1 : 1));
    const newest = logs.at(-1)!;
    expect(newest, 'a txn log file').toBeDefined();
    const sizeBefore = statSync(join(logDir, newest)).size;
    // deterministic non-zero garbage: a torn write of a later entry
    const garbage = Buffer.alloc(777);
    let x = 12345;
    for (let i = 0; i < garbage.length; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      garbage[i] = (x >> 16) & 0xff || 1;
    }
    appendFileSync(join(logDir, newest), garbage);
    const outputBefore = server.output().length;
    await server.restart();
    const restartLog = server.output().slice(outputBefore);
    expect(restartLog, `a log line about the torn tail of ${newest}`).toMatch(new RegExp(`${newest.replace('.', '\\.')}.*(torn|corrupt|cut|truncat)`, 'i'));
    expect(statSync(join(logDir, newest)).size, 'the tail was cut').toBeLessThanOrEqual(sizeBefore);
    const d = await connect();
    for (let i = 0; i < 50; i++) expect(text((await d.getData(`/torn/before-${i}`)).data)).toBe(`b${i}`);
    for (let i = 0; i < 50; i++) await d.create(`/torn/after-${i}`, `a${i}`);
    await d.close();
    await server.kill();
    await server.restart();
    const e = await connect();
    for (let i = 0; i < 50; i++) {
      expect(text((await e.getData(`/torn/before-${i}`)).data)).toBe(`b${i}`);
      expect(text((await e.getData(`/torn/after-${i}`)).data)).toBe(`a${i}`);
    }
  }, 60_000);
});

describe.skipIf(skip)('server crash: kill -9 while a snapshot of a big tree is being written in slices', () => {
  let server: ZooLabServer;
  const clients: ZkClient[] = [];
  beforeAll(async () => {
    // snapCount 1000: every ~500-1000 txns a snapshot of the whole (big) tree starts; each one
    // takes many event-loop turns (a few ms of walking per turn), so writes land during the walks
    server = await startZooLabServer({ tickTimeMs: 500, extraConfig: { snapCount: '1000' } });
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await server?.stop();
  });

  it('fuzzy snapshots: writes during the walks, kill -9 mid-walk; every acknowledged write survives and the snapshots load', async () => {
    const c0 = await connectClient(server.connectString, { sessionTimeoutMs: 10_000 }, 15_000);
    clients.push(c0);
    await c0.create('/big');
    const filler = 'x'.repeat(400);
    // 12,000 znodes of ~400 bytes (~5 MB of snapshot): well over one 4 ms slice to walk
    for (let batch = 0; batch < 24; batch++) {
      await Promise.all(Array.from({ length: 500 }, (_, i) => c0.create(`/big/n-${batch}-${i}`, filler)));
    }
    await c0.create('/crash');
    const round = 7;
    await c0.create(`/crash/r${round}`);
    for (let i = 0; i < WRITERS; i++) await c0.create(`/crash/r${round}/counter-${i}`, '');
    const sliced = (): number => [...server.output().matchAll(/snapshot snapshot\.\w+ saved \((\d+) znodes/g)].filter((m) => Number(m[1]) > 12_000).length;
    const before = sliced();
    const writers = await Promise.all(Array.from({ length: WRITERS }, () => connectClient(server.connectString, { sessionTimeoutMs: 10_000 }, 15_000)));
    clients.push(...writers);
    let ackedCount = 0;
    let killed = false;
    const startedMs = Date.now();
    const runs = writers.map((c, i) => writer(c, i, round, () => killed, () => ackedCount++));
    // past at least one more whole snapshot of the big tree, then kill (likely inside the next walk)
    while ((sliced() === before || ackedCount < 1500) && Date.now() - startedMs < 20_000) await new Promise((r) => setTimeout(r, 5));
    expect(sliced(), 'a snapshot of the big tree was saved while the writers wrote').toBeGreaterThan(before);
    await server.kill();
    killed = true;
    for (const c of [...writers, c0]) await c.close();
    const ledgers = await Promise.all(runs);
    await server.restart();
    expect(server.output()).not.toMatch(/falling back to an older snapshot/);
    const checker = await connectClient(server.connectString, { sessionTimeoutMs: 10_000 }, 15_000);
    clients.push(checker);
    const r = await verify(checker, ledgers, round);
    expect(r.acked).toBeGreaterThan(1000);
    expect((await checker.getChildren('/big')).length).toBe(12_000);
    expect(text((await checker.getData('/big/n-23-499')).data)).toBe(filler);
  }, 120_000);
});

describe.skipIf(skip)('server durability: autopurge keeps what recovery needs', () => {
  let server: ZooLabServer;
  beforeAll(async () => {
    server = await startZooLabServer({
      tickTimeMs: 500,
      extraConfig: { snapCount: '100', 'autopurge.snapRetainCount': '3', 'autopurge.purgeInterval': '1' },
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('with snapCount=100 and snapRetainCount=3: old snapshots and logs go, a kill -9 + restart still has every write', async () => {
    const c = await connectClient(server.connectString, { sessionTimeoutMs: 10_000 }, 15_000);
    await c.create('/purge');
    // 1,500 writes in pipelined batches: a dozen snapshots or more
    for (let batch = 0; batch < 15; batch++) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => c.create(`/purge/n-${batch}-${i}`, `${batch}:${i}`)));
    }
    const dir = join(server.dataDir, 'version-2');
    const files = (): string[] => readdirSync(dir);
    // purging follows the snapshot that triggered it; wait for it to settle
    const deadline = Date.now() + 10_000;
    while (files().filter((n) => n.startsWith('snapshot.')).length > 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const snapshots = files().filter((n) => n.startsWith('snapshot.'));
    expect(snapshots.length, `snapshots kept: ${snapshots.join(', ')}`).toBeLessThanOrEqual(3);
    expect(snapshots.length).toBeGreaterThan(0);
    // many more than 3 were taken: the newest is past zxid 1000 (so the older ones were purged)
    const newest = snapshots.map((n) => BigInt(`0x${n.slice('snapshot.'.length)}`)).reduce((a, b) => (a > b ? a : b));
    expect(newest > 1000n, `newest snapshot zxid ${newest}`).toBe(true);
    await c.close();
    await server.kill();
    await server.restart();
    const d = await connectClient(server.connectString, { sessionTimeoutMs: 10_000 }, 15_000);
    try {
      expect((await d.getChildren('/purge')).length).toBe(1500);
      for (const [b, i] of [
        [0, 0],
        [7, 42],
        [14, 99],
      ] as const) {
        expect(text((await d.getData(`/purge/n-${b}-${i}`)).data)).toBe(`${b}:${i}`);
      }
    } finally {
      await d.close();
    }
  }, 60_000);
});
