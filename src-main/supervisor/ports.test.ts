import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allocatePorts, isPortFree, reservePorts } from './ports';

describe('port allocation', () => {
  const dirs: string[] = [];
  const lockDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'zoolab-locks-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('distinct free ports, locked with our pid, unlocked on release', async () => {
    const dir = lockDir();
    const lease = await allocatePorts(6, { lockDir: dir });
    expect(new Set(lease.ports).size).toBe(6);
    for (const p of lease.ports) {
      expect(p).toBeGreaterThanOrEqual(20000);
      expect(p).toBeLessThan(32000);
      expect(readFileSync(join(dir, `${p}.lock`), 'utf8')).toBe(String(process.pid));
      expect(await isPortFree(p)).toBe(true);
    }
    lease.release();
    for (const p of lease.ports) expect(() => readFileSync(join(dir, `${p}.lock`))).toThrow();
  });

  it('never hands out a port already leased in this process', async () => {
    const dir = lockDir();
    // a range of 4 ports: two leases of 2 must split it
    const a = await allocatePorts(2, { lockDir: dir, rangeMin: 24000, rangeMax: 24004 });
    const b = await allocatePorts(2, { lockDir: dir, rangeMin: 24000, rangeMax: 24004 });
    expect(new Set([...a.ports, ...b.ports]).size).toBe(4);
    await expect(allocatePorts(1, { lockDir: dir, rangeMin: 24000, rangeMax: 24004 })).rejects.toThrow(/could not find 1 free ports/);
    a.release();
    b.release();
  });

  it("skips a port locked by another live process, takes one whose owner is dead", async () => {
    const dir = lockDir();
    writeFileSync(join(dir, '25000.lock'), String(process.ppid));
    writeFileSync(join(dir, '25001.lock'), '999999999');
    const picks = [0, 0.6]; // 25000 first, then 25001
    let i = 0;
    const lease = await allocatePorts(1, { lockDir: dir, rangeMin: 25000, rangeMax: 25002, random: () => picks[Math.min(i++, 1)] as number });
    expect(lease.ports).toEqual([25001]);
    expect(readFileSync(join(dir, '25000.lock'), 'utf8')).toBe(String(process.ppid));
    expect(readFileSync(join(dir, '25001.lock'), 'utf8')).toBe(String(process.pid));
    lease.release();
  });

  it('skips a port another process has bound; reservePorts names it', async () => {
    const dir = lockDir();
    const server = net.createServer();
    await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, () => r()));
    const busy = (server.address() as net.AddressInfo).port;
    try {
      expect(await isPortFree(busy)).toBe(false);
      await expect(reservePorts([busy], { lockDir: dir, what: () => 'client port of server 1' })).rejects.toThrow(
        new RegExp(`127\\.0\\.0\\.1:${busy} \\(client port of server 1\\) is in use`),
      );
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
