/**
 * `zoolab shell` as a process (the built out/main/cli.js) against Apache ZooKeeper: one-shot
 * exit statuses, piped commands, and a real TTY (through util-linux `script`, which gives the
 * child a pseudo-terminal) with the prompt, raw-mode line editing and tab completion.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApacheZooKeeper } from '../support/apache-zookeeper';
import type { ApacheZooKeeper } from '../support/apache-zookeeper';
import { connectClient } from '../../src-main/client/index';

const cli = resolve(import.meta.dirname, '../../out/main/cli.js');
let zk: ApacheZooKeeper | null = null;
let skipReason = '';
const children: ChildProcess[] = [];

beforeAll(async () => {
  const started = await startApacheZooKeeper();
  if (started.available) zk = started;
  else skipReason = started.reason;
  // ruok answers before the server takes sessions; like zkCli, the shell fails a command at the
  // first refused connection attempt, so the runs start once a session can be made
  if (zk !== null) await (await connectClient(zk.connectString, { sessionTimeoutMs: 10_000 }, 30_000)).close();
}, 90_000);

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

afterAll(async () => {
  await zk?.stop();
});

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number>;
}

function start(cmd: string, args: string[]): Proc {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exit = new Promise<number>((res) => child.on('close', (code) => res(code ?? -1)));
  return { child, out: () => out, err: () => err, exit };
}

async function until(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function withDeadline<T>(p: Promise<T>, what: string, ms = 30_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no exit within ${ms} ms`)), ms);
    }),
  ]);
}

describe('zoolab shell (process)', () => {
  it('one-shot: runs the command, exits with zkCli status', async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    const ok = start(process.execPath, [cli, 'shell', '-server', zk.connectString, 'create', '/cli1', 'x']);
    expect(await withDeadline(ok.exit, 'create')).toBe(0);
    expect(ok.err()).toBe('Created /cli1\n');
    const missing = start(process.execPath, [cli, 'shell', '-server', zk.connectString, 'get', '/nope']);
    expect(await withDeadline(missing.exit, 'get')).toBe(1);
    expect(missing.err()).toBe('Node does not exist: /nope\n');
    const unknown = start(process.execPath, [cli, 'shell', '-server', zk.connectString, 'frob']);
    expect(await withDeadline(unknown.exit, 'frob')).toBe(127);
  });

  it('piped: reads commands from stdin without a prompt, exits at end of input', async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    const p = start(process.execPath, [cli, 'shell', '-server', zk.connectString]);
    p.child.stdin?.end('create /cli2 "two words"\nget /cli2\nls /nope\n');
    expect(await withDeadline(p.exit, 'piped shell')).toBe(1);
    expect(p.out()).toContain('JLine support is disabled\n');
    expect(p.out()).toMatch(/two words\n$/);
    expect(p.out()).not.toContain('[zk:');
    expect(p.err()).toBe('Created /cli2\nNode does not exist: /nope\n');
  });

  it('TTY: prompt, raw-mode editing, tab completion from the live tree, quit', async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    if (spawnSync('script', ['--version'], { stdio: 'ignore' }).status !== 0) return ctx.skip('util-linux script is not installed');
    const seed = start(process.execPath, [cli, 'shell', '-server', zk.connectString, 'create', '/cli-tty-node', 'tty']);
    expect(await withDeadline(seed.exit, 'seed')).toBe(0);
    const command = `'${process.execPath}' '${cli}' shell -server ${zk.connectString}`;
    const p = start('script', ['-qfec', command, '/dev/null']);
    await until('connected prompt', () => p.out().includes(`[zk: ${zk?.connectString}(CONNECTED) 0] `));
    p.child.stdin?.write('get /cli-tt\t');
    await until('completed path', () => p.out().includes('/cli-tty-node'));
    p.child.stdin?.write('\r');
    await until('command output', () => /\r?\ntty\r?\r\n/.test(p.out()));
    await until('next prompt', () => p.out().includes('(CONNECTED) 1] '));
    p.child.stdin?.write('hist\t\r');
    await until('history output', () => p.out().includes('0 - get /cli-tty-node'));
    p.child.stdin?.write('quit\r');
    expect(await withDeadline(p.exit, 'tty shell')).toBe(0);
    expect(p.out()).toContain('WatchedEvent state:Closed type:None path:null');
  });
});
