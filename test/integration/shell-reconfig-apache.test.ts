/**
 * ZkClient.reconfig / getConfig and `zoolab shell` reconfig against a real Apache ZooKeeper 3.8
 * ensemble with dynamic reconfiguration on: the ensemble grows by a fourth server (laid out as
 * ZooKeeper's manual says: its dynamic config is the current membership plus itself), flips its
 * role, shrinks again; a getConfig watch fires on each change; stale versions and missing rights
 * are refused with the codes zkCli words. Skips when Java or ZooKeeper is not installed.
 */
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApacheReconfigEnsemble, type ApacheEnsemble } from '../support/apache-ensemble';
import { runCollect, waitUntil, type RunResult } from '../support/processes';
import { ErrorCode } from '../../src-main/common/error-codes';
import { KeeperError, configVersion, connectClient, digestAuthId, parseDynamicConfig, type WatchedEvent, type ZkClient } from '../../src-main/client/index';

const SUPER = 'secret';
const cli = join(resolve(import.meta.dirname, '../..'), 'out/main/cli.js');
let ens: ApacheEnsemble | null = null;
let skipReason = '';
let admin: ZkClient | null = null;

async function members(client: ZkClient): Promise<string[]> {
  const { data } = await client.getConfig();
  return parseDynamicConfig(new TextDecoder().decode(data ?? new Uint8Array())).servers.map((s) => `${s.id}:${s.role}`);
}

function shell(args: string[]): Promise<RunResult> {
  return runCollect(process.execPath, [cli, 'shell', ...args], null, 30_000);
}

beforeAll(async () => {
  const started = await startApacheReconfigEnsemble({ superDigest: digestAuthId('super', SUPER) });
  if (!started.available) {
    skipReason = started.reason;
    return;
  }
  ens = started;
  admin = await connectClient(ens.connectString([1, 2, 3]), { sessionTimeoutMs: 10_000 }, 30_000);
  await admin.addAuth('digest', `super:${SUPER}`);
}, 120_000);

afterAll(async () => {
  await admin?.close();
  await ens?.stop();
});

describe('reconfig against Apache ZooKeeper 3.8 (client and shell)', () => {
  it('client: add a fourth server, flip it to observer and back, remove it; a getConfig watch fires each time', async (ctx) => {
    if (ens === null || admin === null) return ctx.skip(skipReason);
    const e = ens;
    const zk = admin;
    expect(await members(zk)).toEqual(['1:participant', '2:participant', '3:participant']);

    const events: WatchedEvent[] = [];
    await zk.getConfig((ev) => events.push(ev));
    await e.prepareServer(4, [1, 2, 3]);
    e.start(4);
    // a joining server syncs as a non-voting follower before it is in the config
    await e.waitServing([4]);
    const added = await zk.reconfig({ joining: [e.serverLine(4)] });
    expect(new TextDecoder().decode(added.data ?? new Uint8Array())).toContain(e.serverLine(4));
    await waitUntil(() => events.length === 1, 'the config watch to fire');
    expect(events[0]).toMatchObject({ path: '/zookeeper/config', type: 3 });
    expect(await members(zk)).toEqual(['1:participant', '2:participant', '3:participant', '4:participant']);

    // a session on the new server sees writes made through another
    const onFour = await connectClient(e.connectString([4]), { sessionTimeoutMs: 10_000 }, 20_000);
    try {
      await zk.create('/grown', 'yes');
      await onFour.sync('/grown');
      expect(new TextDecoder().decode((await onFour.getData('/grown')).data ?? new Uint8Array())).toBe('yes');
    } finally {
      await onFour.close();
    }

    await zk.getConfig(true);
    await zk.reconfig({ joining: e.serverLine(4, 'observer') });
    expect(await members(zk)).toContain('4:observer');
    await waitUntil(async () => (await e.mode(4)) === 'observer', 'server 4 to serve as an observer', 30_000, 100);
    await zk.reconfig({ joining: e.serverLine(4, 'participant') });
    await waitUntil(async () => (await e.mode(4)) === 'follower' || (await e.mode(4)) === 'leader', 'server 4 to vote again', 30_000, 100);

    const removed = await zk.reconfig({ leaving: [4] });
    expect(removed.stat.mzxid).toBeGreaterThan(0n);
    expect(await members(zk)).toEqual(['1:participant', '2:participant', '3:participant']);
    await e.kill(4);
  });

  it('client: a stale fromConfig → BADVERSION; no rights on /zookeeper/config → NOAUTH; nothing to change still commits', async (ctx) => {
    if (ens === null || admin === null) return ctx.skip(skipReason);
    const zk = admin;
    const { data } = await zk.getConfig();
    const version = configVersion(parseDynamicConfig(new TextDecoder().decode(data ?? new Uint8Array())));
    expect(version).toBeGreaterThan(0n);
    const err = await zk.reconfig({ leaving: [9], fromConfig: version - 1n }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(KeeperError);
    expect((err as KeeperError).code).toBe(ErrorCode.BADVERSION);
    const plain = await connectClient(ens.connectString([1]), { sessionTimeoutMs: 10_000 }, 20_000);
    try {
      const denied = await plain.reconfig({ leaving: '9' }).catch((x: unknown) => x);
      expect((denied as KeeperError).code).toBe(ErrorCode.NOAUTH);
    } finally {
      await plain.close();
    }
    const same = await zk.reconfig({ leaving: [9], fromConfig: version });
    expect(configVersion(parseDynamicConfig(new TextDecoder().decode(same.data ?? new Uint8Array())))).toBeGreaterThan(version);
  });

  it('shell one-shot: config -c and a refused reconfig, with zkCli exit statuses', async (ctx) => {
    if (ens === null) return ctx.skip(skipReason);
    const server = ens.connectString([1]);
    const c = await shell(['-server', server, 'config', '-c']);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/^[0-9a-f]+ (127\.0\.0\.1:\d+,){2}127\.0\.0\.1:\d+$/m);
    const denied = await shell(['-server', server, 'reconfig', '-remove', '9']);
    expect(denied.stderr).toContain('Insufficient permission : \n');
    expect(denied.code).toBe(1);
  });
});
