/**
 * The supervisor grows and shrinks a serving ensemble (startEnsemble({ reconfig: true })):
 * addServer lays out a new server (folder, myid, zoo.cfg with the current membership plus
 * itself), starts it and reconfigs it in; setRole flips a server to observer and back;
 * removeServer reconfigs one out and removes its folder; a role flipped from `zoolab shell`
 * shows in the view; the workspace reopens with the membership reconfig made.
 *
 * Run twice: with Apache ZooKeeper 3.8 as the server processes (the supervisor spawns
 * test/support/apache-as-zoolab-server.sh in place of `node cli.js server`), which proves the
 * supervisor's side against the real thing; and with ZooLab's own servers (skipped, with the
 * reason, on a build whose servers do not serve a dynamic /zookeeper/config).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Ensemble, startEnsemble, type LocalEnsemble } from '../../src-main/supervisor';
import { detachedDown, detachedStatus } from '../../src-main/supervisor/detached';
import { detachedAddServer, detachedRemoveServer, detachedSetRole } from '../../src-main/supervisor/detached-reconfig';
import { readManifest } from '../../src-main/supervisor/workspace';
import { apacheZooKeeperAvailability } from '../support/apache-zookeeper';
import { runCollect, waitUntil, type RunResult } from '../support/processes';
import { connectClient } from '../../src-main/client/index';

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'out/main/cli.js');
const apacheWrapper = join(root, 'test/support/apache-as-zoolab-server.sh');

function shellScript(server: string, input: string): Promise<RunResult> {
  return runCollect(process.execPath, [cli, 'shell', '-server', server], input, 30_000);
}

const roles = (zk: LocalEnsemble): string =>
  (zk.ensemble.view().membership?.members ?? [])
    .map((m) => `${m.id}:${m.role}`)
    .join(',');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Kind {
  name: string;
  /** why this kind cannot run here, or null */
  unavailable(): Promise<string | null>;
  nodePath?: string;
}

const kinds: Kind[] = [
  {
    name: 'Apache ZooKeeper 3.8 servers',
    nodePath: apacheWrapper,
    async unavailable() {
      const a = apacheZooKeeperAvailability();
      return a.available ? null : a.reason;
    },
  },
  {
    name: 'ZooLab servers',
    async unavailable() {
      // ask a 3-server ZooLab ensemble whether it has a dynamic membership yet
      const probe = await startEnsemble({ servers: 3, reconfig: true, tickTimeMs: 200 });
      try {
        const m = await probe.membership();
        return m.version < 0n ? "ZooLab's servers do not serve a dynamic /zookeeper/config in this build" : null;
      } finally {
        await probe.stop();
      }
    },
  },
];

for (const kind of kinds) {
  describe(`supervisor reconfig: ${kind.name}`, () => {
    it('add a server, flip it to observer and back, remove another, a shell flip shows, reopen keeps the membership', { timeout: 240_000 }, async (ctx) => {
      const why = await kind.unavailable();
      if (why !== null) return ctx.skip(why);
      const dir = mkdtempSync(join(tmpdir(), 'zoolab-sup-reconfig-'));
      dirs.push(dir);
      const opts = { servers: 3, reconfig: true, tickTimeMs: 500, dir, removeDirOnShutdown: false, ...(kind.nodePath ? { nodePath: kind.nodePath } : {}) };
      let zk = await startEnsemble(opts);
      let expected: string[] = [];
      try {
        await waitUntil(() => roles(zk) === '1:participant,2:participant,3:participant', 'the membership to be read', 30_000);
        const firstVersion = zk.ensemble.view().membership?.version;
        expect(firstVersion).toMatch(/^[0-9a-f]+$/);

        // grow
        const id = await zk.addServer();
        expect(id).toBe(4);
        expect(roles(zk)).toBe('1:participant,2:participant,3:participant,4:participant');
        expect(zk.server(4).state).toBe('running');
        expect(existsSync(join(dir, 'server4', 'data', 'myid'))).toBe(true);
        expect(zk.connectionString.split(',')).toHaveLength(4);
        expect(zk.ensemble.view().membership?.version).not.toBe(firstVersion);
        const writer = await connectClient(zk.connectionString, { sessionTimeoutMs: 10_000 }, 30_000);
        const onFour = await connectClient(`127.0.0.1:${zk.server(4).clientPort}`, { sessionTimeoutMs: 10_000 }, 30_000);
        try {
          await writer.create('/grown', 'yes');
          await onFour.sync('/grown');
          expect(new TextDecoder().decode((await onFour.getData('/grown')).data ?? new Uint8Array())).toBe('yes');
        } finally {
          await onFour.close();
          await writer.close();
        }

        // flip
        await zk.setRole(4, 'observer');
        expect(roles(zk)).toContain('4:observer');
        expect(zk.server(4).observer).toBe(true);
        await waitUntil(() => zk.server(4).role === 'observer', 'server 4 to serve as an observer', 30_000);
        await zk.setRole(4, 'participant');
        await waitUntil(() => zk.server(4).role === 'follower' || zk.server(4).role === 'leader', 'server 4 to vote again', 30_000);

        // shrink
        await zk.removeServer(2);
        expect(roles(zk)).toBe('1:participant,3:participant,4:participant');
        expect(zk.servers().map((s) => s.id)).toEqual([1, 3, 4]);
        expect(existsSync(join(dir, 'server2'))).toBe(false);
        await expect(zk.setRole(2, 'observer')).rejects.toThrow(/no server 2/);

        // a flip from the shell (as an operator would do it) shows in the view; the shell talks
        // to the leader and flips a follower, so no connection of its drops on the way
        await waitUntil(() => zk.leader() !== null, 'a leader', 30_000);
        const leader = zk.leader() ?? 0;
        const target = [1, 3, 4].find((x) => x !== leader) ?? 0;
        const password = zk.ensemble.workspace.settings.reconfig?.superPassword ?? '';
        const t = zk.server(target);
        const line = `server.${target}=127.0.0.1:${t.quorumPort}:${t.electionPort}:observer;127.0.0.1:${t.clientPort}`;
        const shell = await shellScript(`127.0.0.1:${zk.server(leader).clientPort}`, `addauth digest super:${password}\nreconfig -add ${line}\nquit\n`);
        expect(shell.stdout + shell.stderr).toContain('Committed new configuration:');
        await waitUntil(() => zk.server(target).observer === true, `the view to show server ${target} as an observer`, 30_000);
        expected = [1, 3, 4].map((x) => `${x}:${x === target ? 'observer' : 'participant'}`);
        expect(roles(zk)).toBe(expected.join(','));
      } finally {
        await zk.stop();
      }

      // reopen: the ids and roles reconfig made, not 1..3
      zk = await startEnsemble(opts);
      try {
        expect(zk.servers().map((s) => `${s.id}:${s.observer === true ? 'observer' : 'participant'}`)).toEqual(expected);
        await waitUntil(() => roles(zk) === expected.join(','), 'the reopened membership', 30_000);
      } finally {
        await zk.stop();
      }
    });

    it('detached (zoolab add-server / set-role / remove-server --dir D): the same through ensemble.json', { timeout: 180_000 }, async (ctx) => {
      const why = await kind.unavailable();
      if (why !== null) return ctx.skip(why);
      const dir = mkdtempSync(join(tmpdir(), 'zoolab-sup-reconfig-detached-'));
      dirs.push(dir);
      const procOptions = kind.nodePath ? { nodePath: kind.nodePath } : {};
      const e = await Ensemble.start({ servers: 3, reconfig: true, tickTimeMs: 500, dir, detached: true, ...procOptions });
      e.detach();
      try {
        const id = await detachedAddServer(dir, 'participant', procOptions);
        expect(id).toBe(4);
        const m = readManifest(dir);
        expect(m?.servers.map((s) => s.id)).toEqual([1, 2, 3, 4]);
        expect(m?.connectionString.split(',')).toHaveLength(4);
        expect((await detachedStatus(dir)).map((r) => `${r.id}:${r.state}`)).toEqual(['1:running', '2:running', '3:running', '4:running']);
        const zk = await connectClient(m?.connectionString ?? '', { sessionTimeoutMs: 10_000 }, 30_000);
        try {
          expect(new TextDecoder().decode((await zk.getConfig()).data ?? new Uint8Array())).toMatch(/^server\.4=.*:participant;/m);
          await detachedSetRole(dir, 4, 'observer');
          expect(new TextDecoder().decode((await zk.getConfig()).data ?? new Uint8Array())).toMatch(/^server\.4=.*:observer;/m);
          expect(readManifest(dir)?.servers.find((s) => s.id === 4)?.type).toBe('observer');
          await detachedRemoveServer(dir, 4);
          expect(new TextDecoder().decode((await zk.getConfig()).data ?? new Uint8Array())).not.toMatch(/^server\.4=/m);
        } finally {
          await zk.close();
        }
        expect(readManifest(dir)?.servers.map((s) => s.id)).toEqual([1, 2, 3]);
        expect(existsSync(join(dir, 'server4'))).toBe(false);
      } finally {
        await detachedDown(dir);
      }
    });

    it('grow from one server to three, then remove the first (the leader): the others elect one and serve', { timeout: 180_000 }, async (ctx) => {
      const why = await kind.unavailable();
      if (why !== null) return ctx.skip(why);
      const zk = await startEnsemble({ servers: 1, reconfig: true, tickTimeMs: 500, ...(kind.nodePath ? { nodePath: kind.nodePath } : {}) });
      try {
        await waitUntil(() => roles(zk) === '1:participant', 'the membership of one', 30_000);
        expect(await zk.addServer()).toBe(2);
        expect(await zk.addServer()).toBe(3);
        expect(roles(zk)).toBe('1:participant,2:participant,3:participant');
        await waitUntil(() => zk.leader() === 1, 'server 1 to lead', 30_000);
        await zk.removeServer(1);
        expect(roles(zk)).toBe('2:participant,3:participant');
        await waitUntil(() => zk.leader() === 2 || zk.leader() === 3, 'a new leader among 2 and 3', 30_000);
        const c = await connectClient(zk.connectionString, { sessionTimeoutMs: 10_000 }, 30_000);
        try {
          await c.create('/after-shrink', 'ok');
          expect(new TextDecoder().decode((await c.getData('/after-shrink')).data ?? new Uint8Array())).toBe('ok');
        } finally {
          await c.close();
        }
      } finally {
        await zk.stop();
      }
    });

    it('a fixed-membership ensemble says how to get a dynamic one', async () => {
      if (kind.nodePath !== undefined) return; // the message is the supervisor's alone: once is enough
      const zk = await startEnsemble({ servers: 1 });
      try {
        await expect(zk.addServer()).rejects.toThrow(/fixed membership; start it with reconfig on/);
        expect(zk.ensemble.view().membership).toBeUndefined();
      } finally {
        await zk.stop();
      }
    });
  });
}

describe('zoolab up --reconfig --detach, add-server / set-role / remove-server --dir D (the built CLI)', () => {
  it('grows, flips and shrinks a detached ensemble, printing the new connection string', { timeout: 180_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'zoolab-cli-reconfig-'));
    dirs.push(dir);
    const zoolab = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 90_000 });
    try {
      const up = zoolab('up', '-n', '3', '--reconfig', '--detach', '--dir', dir, '--tick-time', '500', '-q');
      expect(up.status, up.stderr).toBe(0);
      const added = zoolab('add-server', '--observer', '--dir', dir);
      expect(added.status, added.stderr).toBe(0);
      expect(added.stderr).toContain('zoolab: server 4 added');
      expect(added.stdout.trim().split(',')).toHaveLength(4);
      const flipped = zoolab('set-role', '4', 'participant', '--dir', dir);
      expect(flipped.status, flipped.stderr).toBe(0);
      expect(flipped.stderr).toContain('server 4 is now a participant');
      expect(readManifest(dir)?.servers.find((x) => x.id === 4)?.type).toBe('participant');
      const bad = zoolab('set-role', '4', 'leader', '--dir', dir);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('zoolab set-role <server id> participant|observer --dir D');
      const removed = zoolab('remove-server', '4', '--dir', dir);
      expect(removed.status, removed.stderr).toBe(0);
      expect(removed.stdout.trim().split(',')).toHaveLength(3);
      expect(existsSync(join(dir, 'server4'))).toBe(false);
    } finally {
      zoolab('down', '--dir', dir);
    }
  });

  it('a fixed-membership ensemble refuses add-server and says how to start a dynamic one', { timeout: 120_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'zoolab-cli-fixed-'));
    dirs.push(dir);
    const zoolab = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 90_000 });
    try {
      expect(zoolab('up', '-n', '1', '--detach', '--dir', dir, '-q').status).toBe(0);
      const r = zoolab('add-server', '--dir', dir);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("fixed membership; start an ensemble with 'zoolab up --reconfig --detach --dir D'");
    } finally {
      zoolab('down', '--dir', dir);
    }
  });
});

