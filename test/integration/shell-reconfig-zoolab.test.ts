/**
 * ZkClient.reconfig / getConfig and `zoolab shell` reconfig against ZooLab's own servers
 * (startEnsemble({ reconfig: true })): the same checks as shell-reconfig-apache.test.ts makes
 * against Apache ZooKeeper 3.8 — a getConfig watch fires on each change, a follower becomes an
 * observer and votes again, a fourth server joins (laid out by the supervisor) and leaves by the
 * client's reconfig, stale versions and missing rights are refused with the codes zkCli words.
 */
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCollect, waitUntil, type RunResult } from '../support/processes';
import { ErrorCode } from '../../src-main/common/error-codes';
import { KeeperError, configVersion, connectClient, parseDynamicConfig, type WatchedEvent, type ZkClient } from '../../src-main/client/index';
import { startEnsemble, type LocalEnsemble } from '../../src-main/supervisor';

const cli = join(resolve(import.meta.dirname, '../..'), 'out/main/cli.js');
let zk: LocalEnsemble | null = null;
let admin: ZkClient | null = null;
let skipReason = '';

async function members(client: ZkClient): Promise<string[]> {
  const { data } = await client.getConfig();
  return parseDynamicConfig(new TextDecoder().decode(data ?? new Uint8Array())).servers.map((s) => `${s.id}:${s.role}`);
}

function line(e: LocalEnsemble, id: number, role: 'participant' | 'observer'): string {
  const s = e.server(id);
  return `server.${id}=127.0.0.1:${s.quorumPort}:${s.electionPort}:${role};127.0.0.1:${s.clientPort}`;
}

function shell(args: string[]): Promise<RunResult> {
  return runCollect(process.execPath, [cli, 'shell', ...args], null, 30_000);
}

beforeAll(async () => {
  zk = await startEnsemble({ servers: 3, reconfig: true, tickTimeMs: 500 });
  if ((await zk.membership()).version < 0n) {
    skipReason = "ZooLab's servers do not serve a dynamic /zookeeper/config in this build";
    return;
  }
  // the admin session sits on the leader: a follower changing role restarts its peer and drops its clients
  const e = zk;
  await waitUntil(() => e.leader() !== null, 'a leader', 30_000);
  admin = await connectClient(`127.0.0.1:${e.server(e.leader() ?? 1).clientPort}`, { sessionTimeoutMs: 10_000 }, 30_000);
  await admin.addAuth('digest', `super:${zk.ensemble.workspace.settings.reconfig?.superPassword ?? ''}`);
}, 120_000);

afterAll(async () => {
  await admin?.close();
  await zk?.stop();
});

describe('reconfig against ZooLab servers (client and shell)', () => {
  it('client: a follower becomes an observer and votes again; a getConfig watch fires each time', async (ctx) => {
    if (zk === null || admin === null) return ctx.skip(skipReason);
    const e = zk;
    expect(await members(admin)).toEqual(['1:participant', '2:participant', '3:participant']);
    await waitUntil(() => e.leader() !== null, 'a leader', 30_000);
    const follower = [1, 2, 3].find((id) => id !== e.leader()) ?? 0;
    const events: WatchedEvent[] = [];
    await admin.getConfig((ev) => events.push(ev));
    const res = await admin.reconfig({ joining: line(e, follower, 'observer') });
    expect(new TextDecoder().decode(res.data ?? new Uint8Array())).toContain(line(e, follower, 'observer'));
    await waitUntil(() => events.length === 1, 'the config watch to fire');
    expect(events[0]).toMatchObject({ path: '/zookeeper/config', type: 3 });
    await waitUntil(() => e.server(follower).role === 'observer', `server ${follower} to serve as an observer`, 30_000);
    await admin.getConfig(true);
    await admin.reconfig({ joining: [line(e, follower, 'participant')] });
    await waitUntil(() => e.server(follower).role === 'follower', `server ${follower} to vote again`, 30_000);
    expect(await members(admin)).toEqual(['1:participant', '2:participant', '3:participant']);
  });

  it('client: a chrooted session reads /zookeeper/config outside its chroot and its config watch fires', async (ctx) => {
    if (zk === null || admin === null) return ctx.skip(skipReason);
    await admin.create('/app').catch(() => undefined);
    const chrooted = await connectClient(`${zk.connectionString}/app`, { sessionTimeoutMs: 10_000 }, 20_000);
    try {
      const events: WatchedEvent[] = [];
      const before = await chrooted.getConfig((ev) => events.push(ev));
      expect(new TextDecoder().decode(before.data ?? new Uint8Array())).toMatch(/^server\.1=/m);
      await admin.reconfig({ leaving: [9] });
      // the event's path lies outside the chroot: it is delivered as the server names it
      await waitUntil(() => events.length === 1, 'the chrooted config watch to fire');
      expect(events[0]).toMatchObject({ path: '/zookeeper/config', type: 3 });
    } finally {
      await chrooted.close();
    }
  });

  it('client: a fourth server (laid out by the supervisor) serves writes; the client reconfigs it out', async (ctx) => {
    if (zk === null || admin === null) return ctx.skip(skipReason);
    const id = await zk.addServer();
    expect(await members(admin)).toContain(`${id}:participant`);
    const onNew = await connectClient(`127.0.0.1:${zk.server(id).clientPort}`, { sessionTimeoutMs: 10_000 }, 20_000);
    try {
      await admin.create('/grown', 'yes');
      await onNew.sync('/grown');
      expect(new TextDecoder().decode((await onNew.getData('/grown')).data ?? new Uint8Array())).toBe('yes');
    } finally {
      await onNew.close();
    }
    const removed = await admin.reconfig({ leaving: [id] });
    expect(new TextDecoder().decode(removed.data ?? new Uint8Array())).not.toContain(`server.${id}=`);
    await zk.removeServer(id);
    expect(zk.servers().map((s) => s.id)).toEqual([1, 2, 3]);
  });

  it('client: a stale fromConfig → BADVERSION; no rights on /zookeeper/config → NOAUTH; nothing to change still commits', async (ctx) => {
    if (zk === null || admin === null) return ctx.skip(skipReason);
    const { data } = await admin.getConfig();
    const version = configVersion(parseDynamicConfig(new TextDecoder().decode(data ?? new Uint8Array())));
    const err = await admin.reconfig({ leaving: [9], fromConfig: version - 1n }).catch((x: unknown) => x);
    expect((err as KeeperError).code).toBe(ErrorCode.BADVERSION);
    expect(err).toBeInstanceOf(KeeperError);
    const plain = await connectClient(zk.connectionString, { sessionTimeoutMs: 10_000 }, 20_000);
    try {
      expect(((await plain.reconfig({ leaving: '9' }).catch((x: unknown) => x)) as KeeperError).code).toBe(ErrorCode.NOAUTH);
    } finally {
      await plain.close();
    }
    const same = await admin.reconfig({ leaving: [9], fromConfig: version });
    expect(configVersion(parseDynamicConfig(new TextDecoder().decode(same.data ?? new Uint8Array())))).toBeGreaterThan(version);
  });

  it('shell one-shot: config -c and a refused reconfig, with zkCli exit statuses', async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    const server = `127.0.0.1:${zk.server(1).clientPort}`;
    const c = await shell(['-server', server, 'config', '-c']);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/^[0-9a-f]+ (127\.0\.0\.1:\d+,){2}127\.0\.0\.1:\d+$/m);
    const denied = await shell(['-server', server, 'reconfig', '-remove', '9']);
    expect(denied.stderr).toContain('Insufficient permission : \n');
    expect(denied.code).toBe(1);
  });
});
