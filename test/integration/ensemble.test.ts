/**
 * A real 3-server ensemble: three `node out/main/cli.js server <zoo.cfg>` processes on
 * 127.0.0.1, driven through the supervisor's Node API.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSrvr } from '../../src-main/node/four-letter-words';
import { askFourLetterWord } from '../../src-main/supervisor/four-letter-client';
import { startEnsemble } from '../../src-main/supervisor';
import type { LocalEnsemble } from '../../src-main/supervisor';
import { pidAlive, waitUntil } from '../support/processes';

describe('ensemble: 3 real server processes', () => {
  let zk: LocalEnsemble;
  const seenPids = new Set<number>();
  const remember = (): void => {
    for (const s of zk.servers()) if (s.pid !== null) seenPids.add(s.pid);
  };

  beforeAll(async () => {
    zk = await startEnsemble({ servers: 3, tickTimeMs: 500, pollIntervalMs: 200, stopTimeoutMs: 3000 });
    remember();
  });

  afterAll(async () => {
    await zk?.stop();
  });

  it('all running, each answers srvr and ruok on its client port', async () => {
    const servers = zk.servers();
    expect(servers.map((s) => s.state)).toEqual(['running', 'running', 'running']);
    expect(zk.connectionString).toBe(servers.map((s) => `127.0.0.1:${s.clientPort}`).join(','));
    for (const s of servers) {
      expect(s.pid).not.toBeNull();
      const srvr = await askFourLetterWord('127.0.0.1', s.clientPort, 'srvr');
      expect(srvr.length).toBeGreaterThan(0);
      parseSrvr(srvr); // parses: either ZooKeeper's stat lines or its not-serving sentence
      expect(await askFourLetterWord('127.0.0.1', s.clientPort, 'ruok')).toBe('imok');
    }
  });

  it('the workspace is a ZooKeeper deployment: zoo.cfg with every server.N line, myid in dataDir', () => {
    const s2 = zk.server(2);
    const cfg = readFileSync(s2.configPath, 'utf8');
    for (const s of zk.servers()) {
      expect(cfg).toContain(`server.${s.id}=127.0.0.1:${s.quorumPort}:${s.electionPort};127.0.0.1:${s.clientPort}\n`);
    }
    expect(cfg).toContain(`dataDir=${s2.dataDir}\n`);
    expect(cfg).toContain('tickTime=500\n');
    expect(readFileSync(join(s2.dataDir, 'myid'), 'utf8').trim()).toBe('2');
    const manifest = JSON.parse(readFileSync(join(zk.dir, 'ensemble.json'), 'utf8')) as { connectionString: string };
    expect(manifest.connectionString).toBe(zk.connectionString);
  });

  it('kill server 2 → stopped, its process gone, the others keep running', async () => {
    const pid = zk.server(2).pid as number;
    await zk.kill(2);
    expect(zk.server(2).state).toBe('stopped');
    expect(zk.server(2).pid).toBeNull();
    await waitUntil(() => !pidAlive(pid), `pid ${pid} to be gone`);
    await expect(askFourLetterWord('127.0.0.1', zk.server(2).clientPort, 'ruok', 1000)).rejects.toThrow();
    expect(zk.server(1).state).toBe('running');
    expect(zk.server(3).state).toBe('running');
  });

  it('restart server 2 → running with a new pid, answering again', async () => {
    await zk.restart(2);
    remember();
    const s2 = zk.server(2);
    expect(s2.state).toBe('running');
    expect(await askFourLetterWord('127.0.0.1', s2.clientPort, 'ruok')).toBe('imok');
  });

  it('a server killed from outside → crashed with the reason; restart brings it back', async () => {
    const pid = zk.server(3).pid as number;
    process.kill(pid, 'SIGKILL');
    await zk.waitFor(3, 'crashed', 10_000);
    expect(zk.server(3).lastError).toMatch(/killed by SIGKILL/);
    await zk.restart(3);
    remember();
    expect(zk.server(3).state).toBe('running');
    expect(zk.server(3).lastError).toBeNull();
  });

  it('pause (SIGSTOP) → no answer; resume (SIGCONT) → answers', async () => {
    const port = zk.server(1).clientPort;
    zk.pause(1);
    await expect(askFourLetterWord('127.0.0.1', port, 'ruok', 700)).rejects.toThrow(/did not answer/);
    expect(zk.server(1).state).toBe('running');
    zk.resume(1);
    expect(await askFourLetterWord('127.0.0.1', port, 'ruok', 5000)).toBe('imok');
  });

  it('a server that fails at start → crashed naming the cause; the others keep running', async () => {
    await zk.stopServer(3);
    const myidPath = join(zk.server(3).dataDir, 'myid');
    writeFileSync(myidPath, 'three\n');
    await zk.ensemble.startServer(3);
    await zk.waitFor(3, 'crashed', 15_000);
    expect(zk.server(3).lastError).toMatch(/myid: 'three' is not a number/);
    expect(zk.server(1).state).toBe('running');
    expect(zk.server(2).state).toBe('running');
    writeFileSync(myidPath, '3\n');
    await zk.start(3);
    remember();
    expect(zk.server(3).state).toBe('running');
  });

  it('a client port taken by another process → crashed naming the port; free it → starts', async () => {
    await zk.stopServer(3);
    const port = zk.server(3).clientPort;
    // hang up on everyone (a silent blocker would keep the supervisor's srvr probes open)
    const blocker = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => blocker.listen({ host: '127.0.0.1', port }, () => r()));
    try {
      await zk.ensemble.startServer(3);
      await zk.waitFor(3, 'crashed', 15_000);
      expect(zk.server(3).lastError).toMatch(new RegExp(`client port 127\\.0\\.0\\.1:${port} is already in use`));
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    await zk.start(3);
    remember();
    expect(zk.server(3).state).toBe('running');
  });

  it('keepAlive: a crashed server is restarted by the supervisor', async () => {
    zk.ensemble.setKeepAlive(3, true);
    const pid = zk.server(3).pid as number;
    process.kill(pid, 'SIGKILL');
    await zk.waitFor(3, 'crashed', 10_000);
    await zk.waitFor(3, 'running', 15_000);
    expect(zk.server(3).pid).not.toBe(pid);
    remember();
    zk.ensemble.setKeepAlive(3, false);
  });

  it('stop → every process this suite saw is gone', async () => {
    remember();
    expect(seenPids.size).toBeGreaterThanOrEqual(5);
    await zk.stop();
    expect(zk.servers().map((s) => s.state)).toEqual(['stopped', 'stopped', 'stopped']);
    await waitUntil(() => [...seenPids].every((p) => !pidAlive(p)), 'every server pid to be gone', 10_000);
  });
});

describe('ensemble: a bad config', () => {
  it('startEnsemble fails fast, naming the server and the line of its zoo.cfg', async () => {
    const started = Date.now();
    await expect(startEnsemble({ servers: 1, cfg: { maxClientCnxns: 'lots' } })).rejects.toThrow(
      /server 1 failed to start: exited with code 1: CONFIG_INVALID: .*zoo\.cfg:\d+: maxClientCnxns=lots: not a whole number/,
    );
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
