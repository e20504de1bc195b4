/**
 * `zoolab up` as a person runs it: foreground until Ctrl-C, and --detach with
 * status/kill/restart/pause/resume/down. Every pid the test sees must be gone at the end.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { askFourLetterWord } from '../../src-main/supervisor/four-letter-client';
import { pidAlive, waitUntil } from '../support/processes';

const CLI = resolve(import.meta.dirname, '../../out/main/cli.js');

interface ManifestLite {
  connectionString: string;
  servers: { id: number; pid: number | null; clientPort: number }[];
}
const manifest = (dir: string): ManifestLite => JSON.parse(readFileSync(join(dir, 'ensemble.json'), 'utf8')) as ManifestLite;

function zoolab(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('zoolab up', () => {
  const dirs: string[] = [];
  const pids = new Set<number>();
  let child: ChildProcess | null = null;
  const newDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'zoolab-up-'));
    dirs.push(d);
    return d;
  };

  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    child = null;
  });
  afterAll(() => {
    for (const d of dirs) spawnSync(process.execPath, [CLI, 'down', '--dir', d], { timeout: 30_000 });
    for (const p of pids) if (pidAlive(p)) process.kill(p, 'SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('foreground: prints the connection string once all serve; SIGINT stops every server', async () => {
    const dir = newDir();
    const c = spawn(process.execPath, [CLI, 'up', '-n', '3', '--dir', dir, '--tick-time', '500', '-q'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let stdout = '';
    let stderr = '';
    c.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => c.on('exit', (code) => r(code)));
    await waitUntil(() => stdout.includes('\n'), 'the connection string', 30_000);
    const cs = stdout.trim();
    expect(cs).toMatch(/^127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
    const m = manifest(dir);
    expect(m.connectionString).toBe(cs);
    for (const s of m.servers) {
      expect(s.pid).not.toBeNull();
      pids.add(s.pid as number);
      expect(await askFourLetterWord('127.0.0.1', s.clientPort, 'ruok')).toBe('imok');
    }
    c.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stderr).toContain('zoolab: stopped');
    for (const s of m.servers) expect(pidAlive(s.pid as number)).toBe(false);
    expect(manifest(dir).servers.every((s) => s.pid === null)).toBe(true);
  });

  it('the supervisor killed with SIGKILL: its servers notice and exit by themselves', async () => {
    const dir = newDir();
    const c = spawn(process.execPath, [CLI, 'up', '-n', '3', '--dir', dir, '-q'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let stdout = '';
    c.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    await waitUntil(() => stdout.includes('\n'), 'the connection string', 30_000);
    const servers = manifest(dir).servers.map((s) => s.pid as number);
    for (const p of servers) pids.add(p);
    expect(servers.every((p) => pidAlive(p))).toBe(true);
    c.kill('SIGKILL');
    for (const p of servers) await waitUntil(() => !pidAlive(p), `server pid ${p} to exit after its supervisor was killed`, 10_000);
  });

  it('--detach, then status, kill, restart, pause, resume, down', async () => {
    const dir = newDir();
    const started = zoolab(['up', '-n', '3', '--dir', dir, '--detach', '--tick-time', '500']);
    expect(started.code).toBe(0);
    const m = manifest(dir);
    expect(started.stdout.trim()).toBe(m.connectionString);
    for (const s of m.servers) pids.add(s.pid as number);
    expect(m.servers.every((s) => s.pid !== null && pidAlive(s.pid))).toBe(true);

    const status = zoolab(['status', '--dir', dir]);
    expect(status.code).toBe(0);
    expect(status.stdout.split('\n').filter((l) => /^server \d\trunning/.test(l))).toHaveLength(3);

    expect(zoolab(['kill', '2', '--dir', dir]).code).toBe(0);
    const old2 = m.servers[1]?.pid as number;
    await waitUntil(() => !pidAlive(old2), 'server 2 to be gone');
    expect(zoolab(['status', '--dir', dir]).stdout).toMatch(/^server 2\tstopped/m);

    const restarted = zoolab(['restart', '2', '--dir', dir]);
    expect(restarted.code).toBe(0);
    const new2 = manifest(dir).servers[1]?.pid as number;
    pids.add(new2);
    expect(new2).not.toBe(old2);
    expect(await askFourLetterWord('127.0.0.1', m.servers[1]?.clientPort as number, 'ruok')).toBe('imok');

    expect(zoolab(['pause', '1', '--dir', dir]).code).toBe(0);
    expect(zoolab(['status', '--dir', dir]).stdout).toMatch(/^server 1\trunning paused/m);
    expect(zoolab(['resume', '1', '--dir', dir]).code).toBe(0);
    expect(await askFourLetterWord('127.0.0.1', m.servers[0]?.clientPort as number, 'ruok', 5000)).toBe('imok');

    const down = zoolab(['down', '--dir', dir]);
    expect(down.code).toBe(0);
    expect(down.stderr).toContain('stopped 3 servers');
    for (const p of pids) await waitUntil(() => !pidAlive(p), `pid ${p} to be gone`, 10_000);
  });

  it('bad input: a zoo.cfg line no server accepts → every server named with the cause, exit 1', () => {
    const r = zoolab(['up', '-n', '3', '--cfg', 'maxClientCnxns=lots', '-q']);
    expect(r.code, r.stderr).toBe(1);
    for (const id of [1, 2, 3]) expect(r.stderr).toMatch(new RegExp(`server ${id} crashed: .*maxClientCnxns=lots: not a whole number`));
    expect(r.stderr).toContain('no server could start');
    expect(r.stdout).toBe('');
  });

  it('bad input: a folder in use, or of another size, is a clear usage error', () => {
    const dir = newDir();
    const a = zoolab(['up', '-n', '3', '--dir', dir, '--detach']);
    expect(a.code, a.stderr).toBe(0);
    for (const s of manifest(dir).servers) pids.add(s.pid as number);
    const b = zoolab(['up', '-n', '5', '--dir', dir, '--detach']);
    expect(b.code, b.stderr).toBe(2);
    expect(b.stderr).toMatch(/is in use: server 1 \(pid \d+\), server 2 \(pid \d+\), server 3 \(pid \d+\) still running/);
    expect(zoolab(['down', '--dir', dir]).code).toBe(0);
    const c = zoolab(['up', '-n', '5', '--dir', dir, '--detach']);
    expect(c.code, c.stderr).toBe(2);
    expect(c.stderr).toContain('already holds an ensemble of 3 servers');
  });
});
