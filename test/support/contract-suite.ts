/**
 * One contract test suite, run against every transport (WebSocket via the real web host, IPC
 * via the real preload/main pair over an in-process channel). Each run hosts a real backend
 * that spawns real `zoolab server` processes on 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppBackend, AppCalls, AppEventName, AppEvents, EnsembleView } from '../../src-main/api/contract';
import { createBackend } from '../../src-main/supervisor/backend';
import { withAppServices } from '../../src-main/web/app-backend';

export interface ContractConnection {
  calls: AppCalls;
  on<E extends AppEventName>(event: E, listener: (payload: AppEvents[E]) => void): () => void;
  /** an untyped call, to check that the host refuses what the types would not allow */
  raw(method: string, args: unknown): Promise<unknown>;
  close(): Promise<void>;
}

const startDeadlineMs = 30_000;

/** ZOOLAB_CLI points the backend at a private build of the CLI instead of out/main/cli.js */
export const backendOptions: { cliPath?: string } = process.env['ZOOLAB_CLI'] ? { cliPath: process.env['ZOOLAB_CLI'] } : {};

export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, deadlineMs = startDeadlineMs): Promise<T> {
  const until = Date.now() + deadlineMs;
  let last: unknown = null;
  for (let attempt = 0; Date.now() < until; attempt++) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, Math.min(50 * (attempt + 1), 250)));
  }
  throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** the backend both hosts serve: real server processes plus terminals running the zoolab shell */
export function createTestBackend(dir: string): AppBackend {
  return withAppServices(createBackend({ dir, ...backendOptions }));
}

export function contractSuite(transport: string, connect: (backend: AppBackend) => Promise<ContractConnection>): void {
  describe(`contract over ${transport}`, () => {
    let dir: string;
    let backend: AppBackend;
    let c: ContractConnection;
    const pushed: EnsembleView[] = [];
    const pids: number[] = [];

    const ensemble = async (): Promise<EnsembleView> => {
      const e = await c.calls.getEnsemble();
      if (!e) throw new Error('no ensemble');
      for (const s of e.servers) if (s.pid !== null && !pids.includes(s.pid)) pids.push(s.pid);
      return e;
    };
    const serverIs = (id: number, ...states: string[]) =>
      waitFor(`server ${id} to be ${states.join(' or ')}`, async () => {
        const s = (await ensemble()).servers.find((x) => x.id === id);
        return s && states.includes(s.state) ? s : null;
      });

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `zoolab-contract-${transport}-`));
      backend = createTestBackend(dir);
      c = await connect(backend);
      c.on('ensemble', (e) => pushed.push(e));
    });
    afterAll(async () => {
      await c?.close();
      await backend?.dispose();
      rmSync(dir, { recursive: true, force: true });
      for (const pid of pids) expect(isAlive(pid), `server process ${pid} left running`).toBe(false);
    });

    it('getEnsemble before any start → null', async () => {
      expect(await c.calls.getEnsemble()).toBeNull();
    });

    it('startEnsemble(3) → three servers on distinct ports, all running, pushed as events', async () => {
      const started = await c.calls.startEnsemble({ servers: 3 });
      expect(started.servers.map((s) => s.id).sort()).toEqual([1, 2, 3]);
      const ports = started.servers.flatMap((s) => [s.clientPort, s.quorumPort, s.electionPort]);
      expect(new Set(ports).size).toBe(9);
      expect(started.connectionString.split(',')).toHaveLength(3);
      const e = await waitFor('3 running servers', async () => {
        const v = await ensemble();
        return v.servers.every((s) => s.state === 'running' && s.pid !== null) ? v : null;
      });
      expect(e.servers).toHaveLength(3);
      await waitFor('an ensemble event', async () => pushed.length > 0);
      expect(pushed.at(-1)?.servers).toHaveLength(3);
    });

    it('readServerFile: zoo.cfg lists every server, myid names the server', async () => {
      const cfg = await c.calls.readServerFile(2, 'zoo.cfg');
      for (const id of [1, 2, 3]) expect(cfg).toMatch(new RegExp(`^server\\.${id}=127\\.0\\.0\\.1:\\d+:\\d+`, 'm'));
      expect((await c.calls.readServerFile(2, 'myid')).trim()).toBe('2');
      expect(typeof (await c.calls.readServerFile(2, 'log'))).toBe('string');
    });

    it('killServer(2) → its process is gone and it is crashed or stopped; restartServer(2) → running again with a new pid', async () => {
      const before = (await ensemble()).servers.find((s) => s.id === 2);
      const oldPid = before?.pid ?? null;
      expect(oldPid).not.toBeNull();
      await c.calls.killServer(2);
      await serverIs(2, 'crashed', 'stopped');
      await waitFor(`pid ${oldPid} to exit`, async () => !isAlive(oldPid as number));
      await c.calls.restartServer(2);
      const after = await serverIs(2, 'running');
      expect(after.pid).not.toBeNull();
      expect(after.pid).not.toBe(oldPid);
    });

    it('refuses unknown methods and ill-typed arguments, with a sentence, without touching the servers', async () => {
      await expect(c.raw('dispose', [])).rejects.toThrow(/unknown method 'dispose'/);
      await expect(c.raw('killServer', ['1; rm -rf /'])).rejects.toThrow(/server id/);
      await expect(c.raw('readServerFile', [1, '../../../etc/passwd'])).rejects.toThrow(/must be one of/);
      expect((await ensemble()).servers.every((s) => s.state === 'running')).toBe(true);
    });

    it('terminal: the zoolab shell answers typed keys with output events; closing it ends it', async () => {
      const outputs: { id: number; data: string }[] = [];
      const off = c.on('terminalOutput', (o) => outputs.push(o));
      const term = await c.calls.openTerminal({ server: 2, columns: 100 });
      const text = () => outputs.filter((o) => o.id === term.id).map((o) => o.data).join('');
      expect(term.connectString).toMatch(/^127\.0\.0\.1:\d+$/);
      await c.calls.resizeTerminal(term.id, 120);
      await c.calls.terminalInput(term.id, 'help\r');
      await waitFor('the help text in the terminal', async () => /create \[-s\] \[-e\]/.test(text()));
      await c.calls.closeTerminal(term.id);
      await expect(c.calls.terminalInput(term.id, 'ls /\r')).rejects.toThrow(/terminal \d+ is closed/);
      await expect(c.calls.openTerminal({ server: 42, columns: 80 })).rejects.toThrow(/no server 42/);
      off();
    });

    it('tree: create, list, read, set with versions, conflict, watch events, recursive delete', async () => {
      const b64 = (t: string) => Buffer.from(t).toString('base64');
      const changed: { path: string; what: string }[] = [];
      const off = c.on('treeChanged', (e) => changed.push(e));
      // the first write waits for the ensemble to have a leader again after the restart above
      await waitFor('the ensemble to accept a write', async () => (await c.calls.treeCreate('/contract', b64('hello'), 'persistent')) === '/contract');
      expect((await c.calls.treeChildren('/')).children).toEqual(expect.arrayContaining(['contract', 'zookeeper']));
      const got = await c.calls.treeGet('/contract');
      expect(Buffer.from(got.dataBase64 ?? '', 'base64').toString()).toBe('hello');
      expect(got.stat.version).toBe(0);
      expect(got.stat.mzxid).toMatch(/^0x[0-9a-f]+$/);
      expect((await c.calls.treeSet('/contract', b64('world'), 0)).version).toBe(1);
      await waitFor('a data watch event', async () => changed.some((e) => e.path === '/contract' && e.what === 'data'));
      await expect(c.calls.treeSet('/contract', b64('stale'), 0)).rejects.toThrow(/version conflict: \/contract changed since you loaded it \(it is at version 1 now/);
      expect(await c.calls.treeCreate('/contract/a', null, 'persistent')).toBe('/contract/a');
      expect(await c.calls.treeCreate('/contract/a/b', null, 'persistent')).toBe('/contract/a/b');
      expect(await c.calls.treeCreate('/contract/seq-', null, 'persistent-sequential')).toMatch(/^\/contract\/seq-\d{10}$/);
      await expect(c.calls.treeCreate('/contract/a', null, 'persistent')).rejects.toThrow(/already exists/);
      await expect(c.calls.treeDelete('/contract', -1, false)).rejects.toThrow(/has children/);
      await c.calls.treeDelete('/contract', -1, true);
      await expect(c.calls.treeGet('/contract')).rejects.toThrow(/does not exist/);
      await expect(c.calls.treeDelete('/zookeeper', -1, true)).rejects.toThrow(/belongs to ZooKeeper/);
      off();
    });

    it('faults and step mode: isolate, split, link delay, heal, hold/release, health samples — in the pushed view', async () => {
      await c.calls.isolateServer(3);
      await waitFor('the isolation in a pushed view', async () => (pushed.at(-1)?.faults ?? []).some((r) => r.from === 3 && r.to === '*' && r.drop === true));
      await c.calls.partitionEnsemble([[1]]);
      await c.calls.faultLink(1, 2, { delayMs: 50 });
      expect(((await ensemble()).faults ?? []).some((r) => r.from === 1 && r.to === 2 && r.delayMs === 50)).toBe(true);
      await c.calls.healEnsemble();
      expect((await ensemble()).faults).toEqual([]);
      await expect(c.calls.releaseEvery(100)).rejects.toThrow(/step mode on first/);
      await c.calls.setStepMode(true);
      expect((await ensemble()).stepMode).toBe(true);
      await c.calls.releaseEvery(100);
      expect((await ensemble()).releaseEveryMs).toBe(100);
      expect(await c.calls.releaseHeld(1000)).toBeGreaterThanOrEqual(0);
      await c.calls.setStepMode(false);
      const off = await ensemble();
      expect([off.stepMode, off.held, off.releaseEveryMs]).toEqual([false, 0, null]);
      const samples = await waitFor('health samples of server 1', async () => {
        const h = await c.calls.serverHealth(1, 5);
        return h.length > 0 ? h : null;
      });
      expect(samples.length).toBeLessThanOrEqual(5);
      expect(typeof samples[0]?.t).toBe('number');
      expect((await ensemble()).servers.every((s) => s.paused === false)).toBe(true);
    });

    it('tree tools: ACL with a digest id, export/copy/import, search', async () => {
      const b64 = (t: string) => Buffer.from(t).toString('base64');
      // the faults test before may leave a leader change in progress: a create cut off by a
      // connection loss is tried again, and may have been applied: "already exists" is success too
      const create = (path: string, text: string) =>
        waitFor(`create ${path}`, async () => (await c.calls.treeCreate(path, b64(text), 'persistent').catch((e: Error) => (/already exists/.test(e.message) ? path : Promise.reject(e)))) === path);
      await create('/tools', 'top');
      await create('/tools/x', 'find-me');
      expect(await c.calls.treeDigestId('alice', 'pw')).toMatch(/^alice:[A-Za-z0-9+/]{27}=$/);
      const acl = await c.calls.treeGetAcl('/tools/x');
      expect(acl.acl).toEqual([{ scheme: 'world', id: 'anyone', perms: 31 }]);
      expect((await c.calls.treeSetAcl('/tools/x', [{ scheme: 'world', id: 'anyone', perms: 1 | 16 }], 0)).aversion).toBe(1);
      await expect(c.calls.treeSetAcl('/tools/x', [{ scheme: 'world', id: 'anyone', perms: 31 }], 0)).rejects.toThrow(/version conflict/);
      const ex = await c.calls.treeExport('/tools');
      expect(ex.nodes).toBe(2);
      expect(await c.calls.treeCopy('/tools', '/tools-copy')).toEqual({ created: 2, updated: 0 });
      expect(await c.calls.treeImport('/tools-copy', { data: null, children: { y: { data: b64('new'), children: {} } } })).toEqual({ created: 1, updated: 1 });
      const found = await c.calls.treeSearch('/', 'find-me', true);
      expect(found.hits.map((h) => h.path).sort()).toEqual(['/tools-copy/x', '/tools/x']);
      expect((await c.calls.treeSearch('/', 'copy/y', false)).hits.map((h) => h.path)).toEqual(['/tools-copy/y']);
      await c.calls.treeDelete('/tools', -1, true);
      await c.calls.treeDelete('/tools-copy', -1, true);
    });

    it('a backend failure arrives as its message: no server 42', async () => {
      await expect(c.calls.killServer(42)).rejects.toThrow(/42/);
    });

    it('a fixed-membership ensemble refuses addServer with what to do instead', async () => {
      await expect(c.calls.addServer({ role: 'participant' })).rejects.toThrow(/fixed membership; start it with reconfig on/);
      expect((await ensemble()).membership).toBeUndefined();
    });

    it('stopEnsemble → every server stopped and every process gone', async () => {
      await c.calls.stopEnsemble();
      await waitFor('every server stopped', async () => {
        const e = await c.calls.getEnsemble();
        return e === null || e.servers.every((s) => s.state === 'stopped' || s.state === 'crashed');
      });
      await waitFor('every server process to exit', async () => pids.every((pid) => !isAlive(pid)));
    });

    it('dynamic membership: start with reconfig, addServer / setServerRole / removeServer, each pushed in the view', { timeout: 120_000 }, async () => {
      await c.calls.startEnsemble({ servers: 3, tickTimeMs: 500, reconfig: true });
      const members = async (): Promise<string> => ((await ensemble()).membership?.members ?? []).map((m) => `${m.id}:${m.role}`).join(',');
      await waitFor('the membership 1,2,3', async () => (await members()) === '1:participant,2:participant,3:participant');
      expect((await ensemble()).membership?.version).toMatch(/^[0-9a-f]+$/);
      expect(await c.calls.addServer({ role: 'observer' })).toBe(4);
      expect(await members()).toBe('1:participant,2:participant,3:participant,4:observer');
      expect((await ensemble()).servers.find((x) => x.id === 4)).toMatchObject({ observer: true, inConfig: true });
      await c.calls.setServerRole(4, 'participant');
      expect(await members()).toBe('1:participant,2:participant,3:participant,4:participant');
      // the servers keep the membership in zoo.cfg.dynamic.<version>, which zoo.cfg points at
      await waitFor('server 1 to write the new membership', async () => /^server\.4=.*:participant;/m.test(await c.calls.readServerFile(1, 'zoo.cfg.dynamic')));
      await c.calls.removeServer(4);
      expect((await ensemble()).servers.map((x) => x.id)).toEqual([1, 2, 3]);
      expect(pushed.some((e) => e.membership?.members.some((m) => m.id === 4 && m.role === 'observer'))).toBe(true);
      await c.calls.stopEnsemble();
      await waitFor('every server process to exit', async () => pids.every((pid) => !isAlive(pid)));
    });
  });
}
