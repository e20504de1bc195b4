import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadZooCfg } from '../node/config';
import { readMyid } from '../node/server-identity';
import { digestAuthId } from '../client/index';
import { prepareWorkspace, readManifest, superDigestOf, writeManifest } from './workspace';
import type { Workspace } from './workspace';

describe('workspace', () => {
  let dir = '';
  const held: Workspace[] = [];
  afterEach(() => {
    for (const w of held.splice(0)) w.lease.release();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const lockDir = (): string => join(dir, '.locks');

  it('lays out a ZooKeeper deployment our own config parser accepts', async () => {
    dir = mkdtempSync(join(tmpdir(), 'zoolab-ws-'));
    const ws = await prepareWorkspace({ dir: join(dir, 'e'), servers: 3, observers: 1, tickTimeMs: 300, cfg: { maxClientCnxns: '10' }, ports: { lockDir: lockDir() } });
    held.push(ws);
    expect(ws.servers.map((s) => s.type)).toEqual(['participant', 'participant', 'participant', 'observer']);
    for (const s of ws.servers) {
      const cfg = loadZooCfg(s.configPath, {});
      expect(cfg.distributed).toBe(true);
      expect(cfg.tickTimeMs).toBe(300);
      expect(cfg.maxClientCnxns).toBe(10);
      expect(cfg.fourLetterWords).toBe('*');
      expect(cfg.servers.size).toBe(4);
      expect(cfg.servers.get(4)?.type).toBe('observer');
      expect(cfg.peerType).toBe(s.type);
      expect(readMyid(cfg).myid).toBe(s.id);
      expect(existsSync(join(s.dir, 'logs'))).toBe(true);
    }
    const ports = ws.servers.flatMap((s) => [s.clientPort, s.quorumPort, s.electionPort]);
    expect(new Set(ports).size).toBe(12);
    expect(readManifest(ws.dir)?.connectionString).toBe(ws.connectionString);
  });

  it('reconfig: zoo.cfg enables it with a super digest of a per-workspace password; a reopen keeps ids and roles reconfig made', async () => {
    dir = mkdtempSync(join(tmpdir(), 'zoolab-ws-'));
    const ws = await prepareWorkspace({ dir: join(dir, 'e'), servers: 3, reconfig: true, ports: { lockDir: lockDir() } });
    const password = ws.settings.reconfig?.superPassword ?? '';
    expect(password).toMatch(/^[0-9a-f]{32}$/);
    expect(superDigestOf(password)).toBe(digestAuthId('super', password));
    const cfg = loadZooCfg(ws.servers[0]?.configPath ?? '', {});
    expect(cfg.systemProperties.get('zookeeper.DigestAuthenticationProvider.superDigest')).toBe(superDigestOf(password));
    expect(cfg.servers.size).toBe(3);
    // as if reconfig had removed server 2, added 5 and made 3 an observer
    const s3 = ws.servers[2];
    if (s3 === undefined) throw new Error('no server 3');
    s3.type = 'observer';
    ws.servers.splice(1, 1);
    ws.servers.push({ ...s3, id: 5, type: 'participant', clientPort: s3.clientPort + 1, quorumPort: s3.quorumPort + 1, electionPort: s3.electionPort + 1 });
    writeManifest(ws, new Map(), { supervisorPid: null, detached: false });
    ws.lease.release();
    const again = await prepareWorkspace({ dir: join(dir, 'e'), servers: 3, ports: { lockDir: lockDir() } });
    held.push(again);
    expect(again.servers.map((s) => `${s.id}:${s.type}`)).toEqual(['1:participant', '3:observer', '5:participant']);
    expect(again.settings.reconfig?.superPassword).toBe(password);
  });

  // below the 20000..31999 range random allocations use, so parallel suites don't collide
  it('--port-base layout: client P.., quorum P+100.., election P+200..', async () => {
    dir = mkdtempSync(join(tmpdir(), 'zoolab-ws-'));
    const ws = await prepareWorkspace({ dir, servers: 3, portBase: 19100, ports: { lockDir: lockDir() } });
    held.push(ws);
    expect(ws.servers.map((s) => [s.clientPort, s.quorumPort, s.electionPort])).toEqual([
      [19100, 19200, 19300],
      [19101, 19201, 19301],
      [19102, 19202, 19302],
    ]);
    expect(ws.connectionString).toBe('127.0.0.1:19100,127.0.0.1:19101,127.0.0.1:19102');
  });

  it('reopening keeps settings and ports; a different size is refused', async () => {
    dir = mkdtempSync(join(tmpdir(), 'zoolab-ws-'));
    const first = await prepareWorkspace({ dir, servers: 3, tickTimeMs: 700, ports: { lockDir: lockDir() } });
    first.lease.release();
    const again = await prepareWorkspace({ dir, servers: 3, ports: { lockDir: lockDir() } });
    held.push(again);
    expect(again.reopened).toBe(true);
    expect(again.settings.tickTimeMs).toBe(700);
    expect(again.connectionString).toBe(first.connectionString);
    await expect(prepareWorkspace({ dir, servers: 5, ports: { lockDir: lockDir() } })).rejects.toThrow(/already holds an ensemble of 3 servers/);
  });

  it('refuses --cfg keys the workspace owns, and bad sizes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'zoolab-ws-'));
    await expect(prepareWorkspace({ dir, servers: 3, cfg: { dataDir: '/x' } })).rejects.toThrow(/ZooLab writes dataDir itself/);
    await expect(prepareWorkspace({ dir, servers: 3, cfg: { 'server.9': 'h:1:2' } })).rejects.toThrow(/writes server\.9 itself/);
    await expect(prepareWorkspace({ dir, servers: 0 })).rejects.toThrow(/1 to 9 voting servers/);
  });
});
