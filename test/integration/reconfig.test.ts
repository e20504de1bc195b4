/**
 * Dynamic reconfiguration on real processes: `node out/main/cli.js server zoo.cfg` ×3 with
 * reconfigEnabled, then servers 4 and 5 join while a client writes, a follower is removed, the
 * leader is removed (leadership goes to a designated server), a participant becomes an observer.
 * After each step every member's /zookeeper/config shows the new membership and version,
 * writes keep working, and at the end every tree agrees. Plus the refusals, in ZooKeeper's codes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type ZkClient } from '../../src-main/client/index';
import { ErrorCode } from '../../src-main/common/error-codes';
import { OpCode } from '../../src-main/jute/types';
import { parseSrvr } from '../../src-main/node/four-letter-words';
import { askFourLetterWord } from '../../src-main/supervisor/four-letter-client';
import { freePorts, type PortLease } from '../support/ports';
import { waitUntil } from '../support/processes';
import { startZooLabServer } from '../compat/zoolab-process';

const CLI = resolve(import.meta.dirname, '../../out/main/cli.js');
const text = (b: Uint8Array | null): string => new TextDecoder().decode(b ?? new Uint8Array());
const SUPER_PASSWORD = 'reconfig-secret';
const superDigest = `super:${createHash('sha1').update(`super:${SUPER_PASSWORD}`).digest('base64')}`;

interface Node {
  id: number;
  client: number;
  quorum: number;
  election: number;
  dir: string;
  cfgPath: string;
  child: ChildProcess | null;
  log: string;
}

type Role = 'participant' | 'observer';

class ReconfigEnsemble {
  readonly nodes = new Map<number, Node>();
  private lease: PortLease | null = null;
  readonly root = mkdtempSync(join(tmpdir(), 'zoolab-reconfig-'));

  async allocate(ids: number[]): Promise<void> {
    this.lease = await freePorts(ids.length * 3);
    const p = this.lease.ports;
    ids.forEach((id, i) => {
      const dir = join(this.root, `server${id}`);
      mkdirSync(join(dir, 'data'), { recursive: true });
      writeFileSync(join(dir, 'data', 'myid'), `${id}\n`);
      this.nodes.set(id, { id, client: p[i * 3] as number, quorum: p[i * 3 + 1] as number, election: p[i * 3 + 2] as number, dir, cfgPath: join(dir, 'zoo.cfg'), child: null, log: '' });
    });
  }

  node(id: number): Node {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no server ${id}`);
    return n;
  }

  spec(id: number, role: Role = 'participant'): string {
    const n = this.node(id);
    return `server.${id}=127.0.0.1:${n.quorum}:${n.election}:${role};127.0.0.1:${n.client}`;
  }

  /** zoo.cfg listing `members` (this server among them), as a person writes it for a joiner */
  writeConfig(id: number, members: number[], reconfigEnabled = true): void {
    const n = this.node(id);
    const lines = [
      'tickTime=200',
      'initLimit=10',
      'syncLimit=5',
      `dataDir=${join(n.dir, 'data')}`,
      `reconfigEnabled=${reconfigEnabled}`,
      'standaloneEnabled=false',
      '4lw.commands.whitelist=*',
      'admin.enableServer=false',
      `DigestAuthenticationProvider.superDigest=${superDigest}`,
      ...members.map((m) => this.spec(m)),
    ];
    writeFileSync(n.cfgPath, `${lines.join('\n')}\n`);
  }

  start(id: number): void {
    const n = this.node(id);
    const env: NodeJS.ProcessEnv = { ...process.env, ZOOLAB_PARENT_WATCH: 'stdin' };
    delete env.ZOOLAB_TRACE;
    const child = spawn(process.execPath, [CLI, 'server', n.cfgPath], { stdio: ['pipe', 'pipe', 'pipe'], env });
    const keep = (c: Buffer): void => {
      n.log = (n.log + c.toString('utf8')).slice(-500_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    n.child = child;
  }

  async stop(id: number): Promise<void> {
    const n = this.node(id);
    const child = n.child;
    n.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await exited;
  }

  async srvr(id: number): Promise<{ serving: boolean; mode: string | null; zxid: bigint | null }> {
    try {
      const r = parseSrvr(await askFourLetterWord('127.0.0.1', this.node(id).client, 'srvr', 1000));
      return { serving: r.serving, mode: r.mode, zxid: r.zxid };
    } catch {
      return { serving: false, mode: null, zxid: null };
    }
  }

  async modes(ids: number[]): Promise<Map<number, string | null>> {
    const out = new Map<number, string | null>();
    for (const id of ids) out.set(id, (await this.srvr(id)).mode);
    return out;
  }

  async leaderOf(ids: number[]): Promise<number | null> {
    const modes = await this.modes(ids);
    const leaders = [...modes].filter(([, m]) => m === 'leader').map(([id]) => id);
    return leaders.length === 1 ? (leaders[0] as number) : null;
  }

  readonly removedLogs: string[] = [];

  logs(): string {
    return [...this.removedLogs, ...[...this.nodes.values()].map((n) => `--- server ${n.id}\n${n.log.slice(-6000)}`)].join('\n');
  }

  async close(): Promise<void> {
    for (const id of this.nodes.keys()) await this.stop(id);
    this.lease?.release();
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** ZooKeeper's config text for these members (sorted by id) and version. */
function configText(ens: ReconfigEnsemble, members: [number, Role][], version: bigint): string {
  const lines = [...members].sort((a, b) => a[0] - b[0]).map(([id, role]) => ens.spec(id, role));
  return `${lines.join('\n')}\nversion=${version.toString(16)}`;
}

describe('reconfig: dynamic membership on real processes', () => {
  const ens = new ReconfigEnsemble();
  const clients: ZkClient[] = [];
  let writer: { stop(): Promise<number>; errors: string[] } | null = null;

  const connect = async (id: number, superUser = false): Promise<ZkClient> => {
    const c = await connectClient(`127.0.0.1:${ens.node(id).client}`, { sessionTimeoutMs: 20_000 }, 20_000);
    if (superUser) await c.addAuth('digest', `super:${SUPER_PASSWORD}`);
    clients.push(c);
    return c;
  };

  /** every given server shows exactly this config text (after a sync) */
  const expectConfigEverywhere = async (ids: number[], expected: string): Promise<void> => {
    for (const id of ids) {
      let seen = '';
      await waitUntil(
        async () => {
          try {
            const c = await connectClient(`127.0.0.1:${ens.node(id).client}`, { sessionTimeoutMs: 20_000 }, 5_000);
            try {
              await c.sync('/');
              seen = text((await c.getConfig()).data);
            } finally {
              await c.close().catch(() => {});
            }
          } catch {
            return false;
          }
          return seen === expected;
        },
        `server ${id} to show the config\n${expected}\n(last seen:\n${seen})\n${ens.logs()}`,
        30_000,
        200,
      );
    }
  };

  /** a client that keeps creating /w/n-… through `id` until stopped; returns how many succeeded */
  const startWriter = (c: ZkClient): { stop(): Promise<number>; errors: string[] } => {
    let running = true;
    let ok = 0;
    const errors: string[] = [];
    const loop = (async () => {
      for (let i = 0; running && i < 100_000; i++) {
        try {
          await c.create(`/w/n-${i}`, `${i}`);
          ok++;
        } catch (e) {
          errors.push((e as Error).message);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    })();
    return {
      errors,
      async stop() {
        running = false;
        await loop;
        return ok;
      },
    };
  };

  beforeAll(async () => {
    await ens.allocate([1, 2, 3, 4, 5]);
    for (const id of [1, 2, 3]) ens.writeConfig(id, [1, 2, 3]);
    for (const id of [1, 2, 3]) ens.start(id);
    await waitUntil(async () => {
      const m = await ens.modes([1, 2, 3]);
      return [...m.values()].filter((x) => x === 'leader').length === 1 && [...m.values()].filter((x) => x === 'follower').length === 2;
    }, `a leader and two followers\n${ens.logs()}`, 30_000, 100);
  }, 60_000);

  afterAll(async () => {
    if (process.env.RECONFIG_TEST_LOGS === '1') console.log(ens.logs());
    await writer?.stop();
    for (const c of clients) await c.close().catch(() => {});
    await ens.close();
  });

  it('/zookeeper/config shows the static membership stamped with the first epoch, world-readable only; zoo.cfg now points at zoo.cfg.dynamic.100000000', async () => {
    const expected = configText(ens, [[1, 'participant'], [2, 'participant'], [3, 'participant']], 0x100000000n);
    await expectConfigEverywhere([1, 2, 3], expected);
    const c = await connect(1);
    const { stat } = await c.getConfig();
    expect(stat.version).toBe(-1);
    expect(stat.mzxid).toBe(0x100000000n);
    expect(stat.czxid).toBe(0n);
    expect(stat.dataLength).toBe(expected.length);
    const acl = await c.getACL('/zookeeper/config');
    expect(acl.acl).toEqual([{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
    for (const id of [1, 2, 3]) {
      const n = ens.node(id);
      const dyn = `${n.cfgPath}.dynamic.100000000`;
      await waitUntil(() => existsSync(dyn), `${dyn} to be written`, 10_000);
      expect(readFileSync(dyn, 'utf8')).toBe(expected.slice(0, expected.lastIndexOf('\nversion=')));
      const cfg = readFileSync(n.cfgPath, 'utf8');
      expect(cfg).toContain(`dynamicConfigFile=${dyn}\n`);
      expect(cfg).not.toMatch(/^server\./m);
      expect(existsSync(`${n.cfgPath}.bak`)).toBe(true);
    }
  });

  it('refusals come in ZooKeeper 3.8 order and codes: NOAUTH without super, BADVERSION, BADARGUMENTS, NEWCONFIGNOQUORUM', async () => {
    const plain = await connect(2);
    const su = await connect(2, true);
    const req = (r: Partial<{ joiningServers: string | null; leavingServers: string | null; newMembers: string | null; curConfigId: bigint }>) => ({
      type: OpCode.reconfig,
      req: { joiningServers: null, leavingServers: null, newMembers: null, curConfigId: -1n, ...r },
    });
    // every check before the ACL passes here: the refusal is the ACL's
    expect((await plain.send(req({ leavingServers: '3' }))).header.err).toBe(ErrorCode.NOAUTH);
    // … but a bad version is found before the ACL
    expect((await plain.send(req({ leavingServers: '3', curConfigId: 5n }))).header.err).toBe(ErrorCode.BADVERSION);
    expect((await su.send(req({ leavingServers: '3', curConfigId: 5n }))).header.err).toBe(ErrorCode.BADVERSION);
    expect((await su.send(req({ joiningServers: 'server.4=127.0.0.1:1:2;x' }))).header.err).toBe(ErrorCode.BADARGUMENTS);
    expect((await su.send(req({ joiningServers: 'server.4=127.0.0.1:1' }))).header.err).toBe(ErrorCode.BADARGUMENTS);
    // a joiner without a client port
    expect((await su.send(req({ joiningServers: `server.4=127.0.0.1:${ens.node(4).quorum}:${ens.node(4).election}` }))).header.err).toBe(ErrorCode.BADARGUMENTS);
    // a membership none of whose servers runs
    expect((await su.send(req({ newMembers: 'server.7=127.0.0.1:1001:1002:participant;1003,server.8=127.0.0.1:1004:1005:participant;1006' }))).header.err).toBe(ErrorCode.NEWCONFIGNOQUORUM);
    // nothing changed
    expect(text((await su.getConfig()).data)).toBe(configText(ens, [[1, 'participant'], [2, 'participant'], [3, 'participant']], 0x100000000n));
  });

  it('servers 4 and 5 join (started as non-voting learners) while a client writes; every member shows each new membership', async () => {
    const w = await connect(1);
    await w.create('/w', '');
    writer = startWriter(w);
    const su = await connect(2, true);
    for (const joiner of [4, 5]) {
      const members = joiner === 4 ? [1, 2, 3, 4] : [1, 2, 3, 4, 5];
      ens.writeConfig(joiner, members);
      ens.start(joiner);
      await waitUntil(async () => (await ens.srvr(joiner)).mode === 'follower', `server ${joiner} to sync as a follower\n${ens.logs()}`, 30_000, 100);
      const before = text((await su.getConfig()).data);
      const fromVersion = BigInt(`0x${before.slice(before.lastIndexOf('=') + 1)}`);
      const res = await su.reconfig({ joining: ens.spec(joiner), fromConfig: fromVersion });
      const version = res.stat.mzxid;
      const expected = configText(ens, members.map((m) => [m, 'participant'] as [number, Role]), version);
      expect(text(res.data)).toBe(expected);
      expect(res.stat.version).toBe(-1);
      await expectConfigEverywhere(members, expected);
    }
    expect(await ens.leaderOf([1, 2, 3, 4, 5])).not.toBeNull();
  });

  it('removing a follower: it stops serving, the rest show the 4-server membership, writes go on; added back while still running, it rejoins (as Apache does)', async () => {
    const leader = (await ens.leaderOf([1, 2, 3, 4, 5])) as number;
    const victim = [5, 4, 3].find((id) => id !== leader && id !== 2) as number;
    const su = await connect(2, true);
    let res = await su.reconfig({ leaving: [victim] });
    const rest = [1, 2, 3, 4, 5].filter((id) => id !== victim);
    await expectConfigEverywhere(rest, configText(ens, rest.map((m) => [m, 'participant'] as [number, Role]), res.stat.mzxid));
    await waitUntil(async () => !(await ens.srvr(victim)).serving, `removed server ${victim} to stop serving\n${ens.logs()}`, 20_000, 100);
    // back in: it learns the membership from the election and syncs again
    res = await su.reconfig({ joining: ens.spec(victim) });
    await expectConfigEverywhere([1, 2, 3, 4, 5], configText(ens, [1, 2, 3, 4, 5].map((m) => [m, 'participant'] as [number, Role]), res.stat.mzxid));
    await waitUntil(async () => (await ens.srvr(victim)).mode === 'follower', `server ${victim} to follow again\n${ens.logs()}`, 30_000, 100);
    // and out again, for the rest of the story
    res = await su.reconfig({ leaving: [victim] });
    await expectConfigEverywhere(rest, configText(ens, rest.map((m) => [m, 'participant'] as [number, Role]), res.stat.mzxid));
    await waitUntil(async () => !(await ens.srvr(victim)).serving, `removed server ${victim} to stop serving again\n${ens.logs()}`, 20_000, 100);
    await ens.stop(victim);
    ens.removedLogs.push(`--- removed server ${victim}\n${ens.node(victim).log.slice(-6000)}`);
    ens.nodes.delete(victim);
    const c = await connect(rest[0] as number);
    await c.create('/after-removal', 'x');
  });

  it('removing the leader hands leadership to another member without losing writes', async () => {
    const members = [...ens.nodes.keys()].filter((id) => ens.node(id).child !== null);
    const leader = (await ens.leaderOf(members)) as number;
    expect(leader).not.toBeNull();
    const via = members.find((id) => id !== leader) as number;
    const su = await connect(via, true);
    const res = await su.reconfig({ leaving: [leader] });
    const rest = members.filter((id) => id !== leader);
    await waitUntil(async () => (await ens.leaderOf(rest)) !== null, `a new leader among ${rest.join(',')}\n${ens.logs()}`, 30_000, 100);
    await expectConfigEverywhere(rest, configText(ens, rest.map((m) => [m, 'participant'] as [number, Role]), res.stat.mzxid));
    await ens.stop(leader);
    ens.removedLogs.push(`--- removed leader ${leader}\n${ens.node(leader).log.slice(-6000)}`);
    ens.nodes.delete(leader);
    const c = await connect(rest[0] as number);
    await c.create('/after-leader-removal', 'x');
  });

  it('a participant becomes an observer (and srvr says so); a config watch on that very server fires', async () => {
    const members = [...ens.nodes.keys()];
    const leader = (await ens.leaderOf(members)) as number;
    const target = members.find((id) => id !== leader) as number;
    const watcher = await connect(target);
    const fired = new Promise<string>((resolve) => {
      void watcher.getConfig((e) => resolve(`${e.type}:${e.path}`));
    });
    const su = await connect(leader, true);
    const res = await su.reconfig({ joining: ens.spec(target, 'observer') });
    await expectConfigEverywhere(members, configText(ens, members.map((m) => [m, m === target ? 'observer' : 'participant'] as [number, Role]), res.stat.mzxid));
    await waitUntil(async () => (await ens.srvr(target)).mode === 'observer', `server ${target} to observe\n${ens.logs()}`, 30_000, 100);
    // NodeDataChanged (3) on /zookeeper/config, even though the server re-synced in its new role
    expect(await fired).toBe('3:/zookeeper/config');
  });

  it('the writer never stopped for good, and every server holds the same tree', async () => {
    const ok = await (writer as { stop(): Promise<number> }).stop();
    writer = null;
    expect(ok).toBeGreaterThan(10);
    const members = [...ens.nodes.keys()];
    const views: string[] = [];
    for (const id of members) {
      const c = await connect(id);
      await c.sync('/');
      const kids = (await c.getChildren('/w')).sort();
      views.push(`${kids.length}:${kids.join(',')}`);
    }
    expect(new Set(views).size).toBe(1);
  });

  it('a restarted member comes back with the latest membership from its rewritten zoo.cfg', async () => {
    const members = [...ens.nodes.keys()];
    const leader = (await ens.leaderOf(members)) as number;
    const target = members.find((id) => id !== leader) as number;
    const su = await connect(leader);
    const expected = text((await su.getConfig()).data);
    await ens.stop(target);
    ens.start(target);
    await expectConfigEverywhere([target], expected);
  });
});

describe('reconfig refused where ZooKeeper refuses it', () => {
  const reconfigRequest = { type: OpCode.reconfig, req: { joiningServers: null, leavingServers: '2', newMembers: null, curConfigId: -1n } } as const;

  it('standalone: RECONFIGDISABLED by default, UNIMPLEMENTED with reconfigEnabled=true; /zookeeper/config stays empty', async () => {
    for (const [enabled, err] of [[false, ErrorCode.RECONFIGDISABLED], [true, ErrorCode.UNIMPLEMENTED]] as const) {
      const server = await startZooLabServer({ tickTimeMs: 200, extraConfig: { reconfigEnabled: String(enabled), 'DigestAuthenticationProvider.superDigest': superDigest } });
      try {
        const c = await connectClient(server.connectString, { sessionTimeoutMs: 10_000 }, 10_000);
        await c.addAuth('digest', `super:${SUPER_PASSWORD}`);
        expect((await c.send(reconfigRequest)).header.err).toBe(err);
        expect(text((await c.getConfig()).data)).toBe('');
        await c.close();
      } finally {
        await server.stop();
      }
    }
  });

  it('an ensemble without reconfigEnabled: RECONFIGDISABLED, /zookeeper/config shows the membership at version 0, zoo.cfg untouched', async () => {
    const ens = new ReconfigEnsemble();
    try {
      await ens.allocate([1, 2, 3]);
      for (const id of [1, 2, 3]) ens.writeConfig(id, [1, 2, 3], false);
      const before = readFileSync(ens.node(1).cfgPath, 'utf8');
      for (const id of [1, 2, 3]) ens.start(id);
      await waitUntil(async () => (await ens.leaderOf([1, 2, 3])) !== null, `a leader\n${ens.logs()}`, 30_000, 100);
      const c = await connectClient(`127.0.0.1:${ens.node(2).client}`, { sessionTimeoutMs: 10_000 }, 20_000);
      await c.addAuth('digest', `super:${SUPER_PASSWORD}`);
      expect((await c.send(reconfigRequest)).header.err).toBe(ErrorCode.RECONFIGDISABLED);
      const { data, stat } = await c.getConfig();
      expect(text(data)).toBe(configText(ens, [[1, 'participant'], [2, 'participant'], [3, 'participant']], 0n));
      expect(stat.mzxid).toBe(0n);
      await c.close();
      expect(readFileSync(ens.node(1).cfgPath, 'utf8')).toBe(before);
      expect(existsSync(`${ens.node(1).cfgPath}.dynamic.0`)).toBe(false);
    } finally {
      await ens.close();
    }
  });
});
