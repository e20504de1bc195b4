/**
 * Server processes for the bench: a ZooLab standalone server (`node out/main/cli.js server
 * zoo.cfg`) and an Apache ZooKeeper standalone server (Debian package: java +
 * /usr/share/java/zookeeper.jar, as zkServer.sh runs it), each with a temp zoo.cfg and dataDir
 * on the same disk, fsync on (forceSync=yes), admin server off, every four-letter word allowed.
 * Cold start = spawn → first session established (ConnectResponse); RSS from /proc/<pid>/status.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WireSession } from './wire.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
export const ZOOLAB_CLI = join(ROOT, 'out/main/cli.js');
const ZOOKEEPER_JAR = process.env.APACHE_ZOOKEEPER_JAR ?? '/usr/share/java/zookeeper.jar';
const ZOOKEEPER_CONF_DIR = '/etc/zookeeper/conf';
/** zkEnv.sh's default ZK_SERVER_HEAP (MB): ZooKeeper as shipped */
const ZOOKEEPER_HEAP_MB = Number(process.env.BENCH_ZK_HEAP_MB ?? 1000);

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolvePort(port));
    });
  });
}

export function apacheZooKeeperAvailable() {
  if (!existsSync(ZOOKEEPER_JAR)) return { available: false, reason: `${ZOOKEEPER_JAR} missing (Debian package zookeeper)` };
  const java = spawnSync('java', ['-version'], { encoding: 'utf8', timeout: 20_000 });
  if (java.error !== undefined || java.status !== 0) return { available: false, reason: 'java is not on PATH' };
  const version = (java.stderr.split('\n')[0] ?? '').trim();
  return { available: true, java: version };
}

export function rssBytes(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** RSS once it has settled (three samples 200 ms apart within 2 %, at most 3 s). */
export async function settledRss(pid) {
  let last = rssBytes(pid);
  let stable = 0;
  for (let i = 0; i < 15 && stable < 2; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const now = rssBytes(pid);
    if (now !== null && last !== null && Math.abs(now - last) <= last * 0.02) stable++;
    else stable = 0;
    last = now;
  }
  return last;
}

function waitExit(child, timeoutMs) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((res) => {
    const timer = setTimeout(() => res(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      res(true);
    });
  });
}

/**
 * Spawns `command`, then tries to open a session every 5 ms until one is established.
 * Returns { pid, port, coldStartMs, stop(), output() }.
 */
async function launch(name, command, args, port, dir, env, deadlineMs = 60_000) {
  let log = '';
  const t0 = performance.now();
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  const keep = (c) => {
    log = (log + c.toString('utf8')).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let spawnError = null;
  child.on('error', (e) => {
    spawnError = e;
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await waitExit(child, 10_000))) {
        child.kill('SIGKILL');
        await waitExit(child, 10_000);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (;;) {
    if (spawnError !== null || child.exitCode !== null) {
      await stop();
      throw new Error(`${name} exited before serving (${spawnError?.message ?? `exit ${child.exitCode}`}):\n${log}`);
    }
    try {
      const session = await WireSession.open(port, '127.0.0.1', 1000);
      const coldStartMs = performance.now() - t0;
      await session.close();
      return { name, pid: child.pid, port, coldStartMs, stop, output: () => log };
    } catch {
      // not serving yet
    }
    if (performance.now() - t0 > deadlineMs) {
      await stop();
      throw new Error(`${name} did not serve within ${deadlineMs} ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

function writeConfig(dir, port, tickTimeMs, extra = {}) {
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const cfg = {
    tickTime: String(tickTimeMs),
    dataDir,
    clientPort: String(port),
    clientPortAddress: '127.0.0.1',
    maxClientCnxns: '0',
    forceSync: 'yes',
    'admin.enableServer': 'false',
    '4lw.commands.whitelist': '*',
    ...extra,
  };
  const path = join(dir, 'zoo.cfg');
  writeFileSync(path, Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  return { path, dataDir };
}

export async function startZooLab({ tickTimeMs = 2000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'zoolab-bench-zoolab-'));
  const port = await freePort();
  const { path } = writeConfig(dir, port, tickTimeMs);
  const env = { ...process.env, ZOOLAB_PARENT_WATCH: 'stdin' };
  delete env.ZOOLAB_TRACE;
  return launch('ZooLab', process.execPath, [ZOOLAB_CLI, 'server', path], port, dir, env);
}

export async function startApacheZooKeeper({ tickTimeMs = 2000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'zoolab-bench-zookeeper-'));
  const port = await freePort();
  const { path } = writeConfig(dir, port, tickTimeMs);
  const classpath = existsSync(ZOOKEEPER_CONF_DIR) ? `${ZOOKEEPER_CONF_DIR}:${ZOOKEEPER_JAR}` : ZOOKEEPER_JAR;
  const args = [
    `-Xmx${ZOOKEEPER_HEAP_MB}m`,
    '-Dzookeeper.admin.enableServer=false',
    `-Dzookeeper.log.dir=${dir}`,
    '-Dzookeeper.root.logger=INFO,CONSOLE',
    '-cp',
    classpath,
    'org.apache.zookeeper.server.ZooKeeperServerMain',
    path,
  ];
  return launch('ZooKeeper', 'java', args, port, dir, process.env);
}
