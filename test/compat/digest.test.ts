/**
 * `hash` (the data-tree digest history) against Apache ZooKeeper 3.8, value for value.
 *
 * The digest covers ctime/mtime, which each server takes from its own clock, so the same script
 * run live on both gives different values. Both servers read each other's data directories, so
 * the test swaps them instead:
 *  - the script runs on ZooKeeper; ZooLab starts on a copy of ZooKeeper's dataDir, replays its
 *    txn log and must print ZooKeeper's `hash` exactly;
 *  - the script runs on ZooLab; ZooKeeper starts on a copy of ZooLab's dataDir and must print
 *    ZooLab's `hash` exactly (ZooLab's live, incremental digest against ZooKeeper's).
 * The same script also gives the same zxids on both, so the two histories have the same zxid column.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Acls, connectClient, op } from '../../src-main/client/index';
import { CreateFlags } from '../../src-main/jute/types';
import { apacheZooKeeperAvailability, startApacheZooKeeper, type ApacheZooKeeper } from '../support/apache-zookeeper';
import { startZooLabServer, zoolabBuilt, type ZooLabServer } from './zoolab-process';

const availability = apacheZooKeeperAvailability();
const skipReason = !availability.available ? availability.reason : !zoolabBuilt() ? 'out/main/cli.js is missing (npm run build)' : '';
const CONFIG = { extendedTypesEnabled: 'true' };

/** ~420 txns of every kind that changes the tree: three history entries (0x80, 0x100, 0x180). */
async function script(connectString: string): Promise<void> {
  const c = await connectClient(connectString, { sessionTimeoutMs: 10_000 }, 30_000);
  try {
    await c.create('/d', 'top');
    for (let i = 0; i < 60; i++) await c.create(`/d/n${i}`, `v${i}`);
    for (let i = 0; i < 60; i++) await c.setData(`/d/n${i}`, `w${i}`);
    await c.create('/d/null', null);
    await c.create('/d/ünï', 'non-ascii path');
    await c.create('/d/e', 'eph', { mode: CreateFlags.EPHEMERAL });
    await c.create('/d/es-', 'eph seq', { mode: CreateFlags.EPHEMERAL_SEQUENTIAL });
    for (let i = 0; i < 5; i++) await c.create('/d/s-', `seq ${i}`, { mode: CreateFlags.PERSISTENT_SEQUENTIAL });
    // a container and a TTL node that keep a child, so no reaper deletes them mid-test
    await c.create('/c', null, { mode: CreateFlags.CONTAINER });
    await c.create('/c/x', 'kept');
    await c.create('/t', 'ttl', { mode: CreateFlags.PERSISTENT_WITH_TTL, ttl: 3_600_000 });
    await c.create('/t/x', 'kept');
    await c.setACL('/d/n1', Acls.READ_ACL_UNSAFE);
    await c.setData('/', 'root data');
    await c.multi([op.create('/m', 'multi'), op.setData('/m', 'multi 2'), op.delete('/d/n2')]);
    await c.multi([op.create('/never', 'x'), op.delete('/missing')]).catch(() => undefined);
    for (let i = 3; i < 33; i++) await c.delete(`/d/n${i}`);
    for (let i = 0; i < 250; i++) await c.setData('/d/n59', `round ${i}`);
  } finally {
    await c.close();
  }
}

function historyLines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

/** `hash` once the server serves (ZooKeeper answers ruok while it still loads its database). */
async function servingHash(server: { fourLetterWord(word: string): Promise<string> }, deadlineMs = 60_000): Promise<string[]> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const text = await server.fourLetterWord('hash');
    if (!text.startsWith('This ZooKeeper instance is not currently serving')) return historyLines(text);
    if (Date.now() > until) throw new Error(`not serving after ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(skipReason !== '')(`compat: hash (tree digest) equals Apache ZooKeeper's${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  const copyOf = (dataDir: string): string => {
    const dir = mkdtempSync(join(tmpdir(), 'zoolab-digest-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(dataDir, dir, { recursive: true });
    return dir;
  };
  const apache = async (extra: Record<string, string> = {}): Promise<ApacheZooKeeper> => {
    const zk = await startApacheZooKeeper({ extraConfig: { ...CONFIG, ...extra } });
    if (!zk.available) throw new Error(zk.reason);
    cleanup.push(() => zk.stop());
    return zk;
  };
  const zoolab = async (dataDir?: string): Promise<ZooLabServer> => {
    const zl = await startZooLabServer({ extraConfig: CONFIG, ...(dataDir !== undefined ? { dataDir } : {}) });
    cleanup.push(() => zl.stop());
    return zl;
  };
  let zookeeperLive: string[] = [];

  afterAll(async () => {
    for (const f of cleanup.reverse()) await f();
  });

  it("ZooLab replaying ZooKeeper's txn log prints ZooKeeper's hash, line for line", async () => {
    const zk = await apache();
    await script(zk.connectString);
    zookeeperLive = await servingHash(zk);
    expect(zookeeperLive.map((l) => l.split(':')[0])).toEqual(['80', '100', '180']);
    await zk.kill();
    const zl = await zoolab(copyOf(zk.dataDir));
    expect(await servingHash(zl)).toEqual(zookeeperLive);
  }, 180_000);

  it("ZooKeeper replaying ZooLab's txn log prints ZooLab's live hash, line for line", async () => {
    const zl = await zoolab();
    await script(zl.connectString);
    const zoolabLive = await servingHash(zl);
    // same script, same zxids; the digests differ only through the servers' clocks
    expect(zoolabLive.map((l) => l.split(':')[0])).toEqual(['80', '100', '180']);
    expect(zoolabLive).not.toEqual(zookeeperLive);
    await zl.kill();
    const zk = await apache({ dataDir: copyOf(zl.dataDir) });
    expect(await servingHash(zk)).toEqual(zoolabLive);
  }, 180_000);
});
