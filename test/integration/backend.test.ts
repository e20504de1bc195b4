/**
 * createBackend — what Electron main and the web host serve to the renderer — acting on real
 * processes: start an ensemble, hear `ensemble` events, kill and restart a server, read its files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend, EnsembleView } from '../../src-main/api/contract';
import { createBackend } from '../../src-main/supervisor/backend';
import { pidAlive, waitUntil } from '../support/processes';

describe('backend over a real ensemble', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zoolab-backend-'));
  const backend: Backend = createBackend({ dir, pollIntervalMs: 200 });
  let last: EnsembleView | null = null;
  const logLines: string[] = [];
  backend.on('ensemble', (v) => (last = v));
  backend.on('serverLog', (l) => logLines.push(...l.lines.map((x) => `${l.server}: ${x}`)));
  const pids = new Set<number>();
  const state = (id: number): string | undefined => last?.servers.find((s) => s.id === id)?.state;

  afterAll(async () => {
    await backend.dispose();
    for (const p of pids) if (pidAlive(p)) process.kill(p, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('startEnsemble → events until every server runs', async () => {
    expect(await backend.calls.getEnsemble()).toBeNull();
    const view = await backend.calls.startEnsemble({ servers: 3, tickTimeMs: 500 });
    expect(view.servers).toHaveLength(3);
    expect(view.dir).toBe(join(dir, '3-servers'));
    await waitUntil(() => [1, 2, 3].every((id) => state(id) === 'running'), 'three running servers', 30_000);
    for (const s of last?.servers ?? []) if (s.pid) pids.add(s.pid);
    await waitUntil(() => logLines.some((l) => l.includes('serving clients on 127.0.0.1')), 'server log lines', 10_000);
  });

  it('killServer → stopped; restartServer → running', async () => {
    await backend.calls.killServer(2);
    await waitUntil(() => state(2) === 'stopped', 'server 2 stopped');
    await backend.calls.restartServer(2);
    await waitUntil(() => state(2) === 'running', 'server 2 running', 30_000);
    const s2 = last?.servers.find((s) => s.id === 2);
    if (s2?.pid) pids.add(s2.pid);
  });

  it('readServerFile: zoo.cfg, myid, log', async () => {
    expect(await backend.calls.readServerFile(3, 'zoo.cfg')).toMatch(/^server\.3=127\.0\.0\.1:\d+:\d+;127\.0\.0\.1:\d+$/m);
    expect((await backend.calls.readServerFile(3, 'myid')).trim()).toBe('3');
    expect(await backend.calls.readServerFile(3, 'log')).toContain('serving clients');
  });

  it('calls on an unknown server or without an ensemble fail with a sentence', async () => {
    await expect(backend.calls.killServer(9)).rejects.toThrow(/no server 9/);
    await backend.calls.stopEnsemble();
    expect(await backend.calls.getEnsemble()).toBeNull();
    expect(last?.servers.every((s) => s.state === 'stopped')).toBe(true);
    await expect(backend.calls.killServer(1)).rejects.toThrow(/no ensemble is running/);
    for (const p of pids) await waitUntil(() => !pidAlive(p), `pid ${p} gone`, 10_000);
  });
});
