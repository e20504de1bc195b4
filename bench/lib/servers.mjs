/**
 * Server processes for the bench: a ZooLab standalone server (`node out/main/cli.js server
 * zoo.cfg`) and an Apache ZooKeeper standalone server (Debian package: java +
 * /usr/share/java/zookeeper.jar, as zkServer.sh runs it), each with a temp zoo.cfg and dataDir
 * on the same disk, fsync on (forceSync=yes), admin server off, every four-letter word allowed.
 * Cold start = spawn → first session established (ConnectResponse); RSS from /proc/<pid>/status.
 */
import { fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WireSession } from './wire.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
export const ZOOLAB_CLI = join(ROOT, 'out/main/cli.js');
const ZOOKEEPER_JAR = process.env.APACHE_ZOOKEEPER_JAR ?? '/usr/share/java/zookeeper.jar';
const ZOOKEEPER_CONF_DIR = '/etc/zookeeper/conf';
/** zkEnv.sh's default ZK_SERVER_HEAP (MB): ZooKeeper as shipped */
const ZOOKEEPER_HEAP_MB = Number(process.env.BENCH_ZK_HEAP_MB ?? 1000);

/**
 * Every server process and temp folder the bench started and has not stopped yet. On any exit
 * of the bench (normal, error, watchdog, Ctrl-C) the processes get SIGKILL and the folders go,
 * so no JVM or node server outlives a run.
 */
const liveChildren = new Set();
const liveDirs = new Set();
let exitHookInstalled = false;
function track(child, dir) {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of liveChildren) {
        try {
          c.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
      for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
    });
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, () => process.exit(130));
  }
  if (child) {
    liveChildren.add(child);
    child.once('exit', () => liveChildren.delete(child));
  }
  if (dir) liveDirs.add(dir);
}
function untrackDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

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
  track(child, dir);
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
    untrackDir(dir);
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

// ---------------------------------------------------------------------------------------------
// 3-server ensembles. Both kinds expose the same shape:
//   { name, ids, port(id), pidOf(id), coldStartMs, alive(id), kill(id), restart(id), stop() }
// kill = SIGKILL (a no-op signal if the bench already sent it to pidOf(id)), resolves when the
// process is gone; restart resolves when the server answers a
// session again; coldStartMs = start requested → every server answered a session.

/** One four-letter word over a fresh connection; resolves with the reply text ('' on failure). */
export function fourLetterWord(port, word, timeoutMs = 1000) {
  return new Promise((res) => {
    let out = '';
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('connect', () => socket.write(word));
    socket.on('data', (c) => {
      out += c.toString('utf8');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      res(out);
    });
  });
}

/** `srvr` Mode line: 'leader' | 'follower' | 'observer' | 'standalone' | null (not serving). */
export async function modeOf(port) {
  const m = /Mode: (\w+)/.exec(await fourLetterWord(port, 'srvr'));
  return m ? m[1] : null;
}

/** Resolves when a session can be opened on every port (polled every 5 ms); rejects after deadlineMs. */
export async function waitServing(ports, deadlineMs, alive = () => true) {
  const t0 = performance.now();
  await Promise.all(
    ports.map(async (port) => {
      for (;;) {
        try {
          const s = await WireSession.open(port, '127.0.0.1', 1000);
          await s.close();
          return;
        } catch {
          // not serving yet
        }
        if (!alive()) throw new Error(`a server exited while waiting for port ${port}`);
        if (performance.now() - t0 > deadlineMs) throw new Error(`port ${port} did not serve a session within ${deadlineMs} ms`);
        await new Promise((r) => setTimeout(r, 5));
      }
    }),
  );
}

async function distinctFreePorts(n) {
  const ports = new Set();
  for (let i = 0; ports.size < n && i < n * 20; i++) ports.add(await freePort());
  if (ports.size < n) throw new Error(`could not find ${n} free ports`);
  return [...ports];
}

/**
 * Apache ZooKeeper, `size` servers: one folder each (zoo.cfg with server.N lines, dataDir with
 * myid), `java … QuorumPeerMain zoo.cfg` as zkServer.sh start-foreground runs it.
 */
export async function startApacheEnsemble({ size = 3, tickTimeMs = 2000, readyTimeoutMs = 60_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'zoolab-bench-zkensemble-'));
  track(null, dir);
  const ports = await distinctFreePorts(size * 3);
  const ids = Array.from({ length: size }, (_, i) => i + 1);
  const slot = (id) => ({ clientPort: ports[id - 1], quorumPort: ports[size + id - 1], electionPort: ports[2 * size + id - 1] });
  const classpath = existsSync(ZOOKEEPER_CONF_DIR) ? `${ZOOKEEPER_CONF_DIR}:${ZOOKEEPER_JAR}` : ZOOKEEPER_JAR;
  const configs = new Map();
  for (const id of ids) {
    const sdir = join(dir, `server${id}`);
    const { path, dataDir } = writeConfig(sdir, slot(id).clientPort, tickTimeMs, {
      initLimit: '10',
      syncLimit: '5',
      ...Object.fromEntries(ids.map((peer) => [`server.${peer}`, `127.0.0.1:${slot(peer).quorumPort}:${slot(peer).electionPort}`])),
    });
    writeFileSync(join(dataDir, 'myid'), `${id}\n`);
    configs.set(id, { sdir, path });
  }
  const children = new Map();
  const logs = new Map();
  const spawnMember = (id) => {
    const { sdir, path } = configs.get(id);
    const args = [
      `-Xmx${ZOOKEEPER_HEAP_MB}m`,
      '-Dzookeeper.admin.enableServer=false',
      `-Dzookeeper.log.dir=${sdir}`,
      '-Dzookeeper.root.logger=INFO,CONSOLE',
      '-cp',
      classpath,
      'org.apache.zookeeper.server.quorum.QuorumPeerMain',
      path,
    ];
    const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child, null);
    logs.set(id, '');
    const keep = (c) => logs.set(id, (logs.get(id) + c.toString('utf8')).slice(-20_000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', () => {});
    children.set(id, child);
  };
  const alive = (id) => {
    const c = children.get(id);
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  };
  const kill = async (id) => {
    const c = children.get(id);
    if (c && alive(id)) {
      c.kill('SIGKILL');
      await waitExit(c, 10_000);
    }
  };
  const stop = async () => {
    await Promise.all(ids.map(kill));
    untrackDir(dir);
  };
  const t0 = performance.now();
  for (const id of ids) spawnMember(id);
  try {
    await waitServing(ids.map((id) => slot(id).clientPort), readyTimeoutMs, () => ids.every(alive));
  } catch (e) {
    const tail = ids.map((id) => `--- server ${id}\n${logs.get(id).slice(-3000)}`).join('\n');
    await stop();
    throw new Error(`ZooKeeper ensemble did not start: ${e.message}\n${tail}`);
  }
  const coldStartMs = performance.now() - t0;
  return {
    name: 'ZooKeeper',
    ids,
    coldStartMs,
    port: (id) => slot(id).clientPort,
    pidOf: async (id) => children.get(id)?.pid ?? null,
    alive,
    kill,
    async restart(id) {
      await kill(id);
      spawnMember(id);
      await waitServing([slot(id).clientPort], readyTimeoutMs, () => alive(id));
    },
    logs: (id) => logs.get(id) ?? '',
    stop,
  };
}

let builtEnsemble = null;
/** The supervisor's Ensemble class from the built bundle (out/main/chunks/ensemble-*.js). */
async function loadBuiltEnsemble() {
  if (builtEnsemble) return builtEnsemble;
  const dir = join(ROOT, 'out/main/chunks');
  for (const f of readdirSync(dir).filter((n) => /^ensemble-.*\.js$/.test(n))) {
    const m = /export \{[^}]*\bEnsemble as (\w+)/.exec(readFileSync(join(dir, f), 'utf8'));
    if (!m) continue;
    const mod = await import(pathToFileURL(join(dir, f)).href);
    if (typeof mod[m[1]]?.start === 'function') return (builtEnsemble = mod[m[1]]);
  }
  throw new Error(`no supervisor Ensemble export found in ${dir}: run 'npm run build' first`);
}

/**
 * ZooLab, `size` servers, started by the supervisor as the app and startEnsemble
 * (src-main/supervisor) start them: Ensemble.start from the built bundle, each server
 * `node out/main/cli.js server zoo.cfg` with its own folder, myid and server.N lines.
 * The supervisor runs in a child process (zoolab-host.mjs), as it runs in the app's main
 * process, so its log/trace reading does not share a thread with the bench's clients.
 */
export async function startZooLabEnsemble(options = {}) {
  const host = fork(join(import.meta.dirname, 'zoolab-host.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  track(host, null);
  let pending = null;
  host.on('message', (m) => {
    const p = pending;
    pending = null;
    if (p === null) return;
    if (m.error) p.reject(new Error(m.error));
    else p.resolve(m);
  });
  host.on('exit', (code, signal) => {
    const p = pending;
    pending = null;
    p?.reject(new Error(`the ZooLab supervisor process exited (${signal ?? code})`));
  });
  const call = (msg) =>
    new Promise((resolveCall, reject) => {
      if (host.exitCode !== null || host.signalCode !== null) return reject(new Error('the ZooLab supervisor process is gone'));
      if (pending !== null) return reject(new Error('one supervisor call at a time'));
      pending = { resolve: resolveCall, reject };
      host.send(msg);
    });
  const hostGone = async () => {
    if (host.exitCode === null && host.signalCode === null) {
      host.kill('SIGKILL');
      await waitExit(host, 10_000);
    }
  };
  let started;
  try {
    started = await call({ op: 'start', options });
  } catch (e) {
    await hostGone();
    throw e;
  }
  const { ids, ports, coldStartMs, dir } = started;
  const killed = new Set();
  const portOf = new Map(ids.map((id, i) => [id, ports[i]]));
  return {
    name: 'ZooLab',
    ids,
    coldStartMs,
    dir,
    /** the process holding the supervisor (its CPU is ZooLab's too) */
    supervisorPid: host.pid,
    port: (id) => portOf.get(id),
    alive: (id) => !killed.has(id),
    async kill(id) {
      killed.add(id);
      await call({ op: 'kill', id });
    },
    async restart(id) {
      killed.add(id);
      await call({ op: 'restart', id });
      killed.delete(id);
    },
    /** the current pid of server id (asked of the supervisor) */
    pidOf: async (id) => (await call({ op: 'pids' })).pids[ids.indexOf(id)] ?? null,
    async stop() {
      try {
        await call({ op: 'stop' });
      } finally {
        if (host.connected) host.disconnect();
        if (!(await waitExit(host, 5000))) await hostGone();
      }
    },
  };
}

/** The same, with the supervisor in this process (used by zoolab-host.mjs). */
export async function startZooLabEnsembleHere({ size = 3, tickTimeMs = 2000, readyTimeoutMs = 60_000, ensembleOptions = {} } = {}) {
  const Ensemble = await loadBuiltEnsemble();
  const t0 = performance.now();
  const e = await Ensemble.start({ servers: size, tickTimeMs, initLimit: 10, syncLimit: 5, cfg: { forceSync: 'yes' }, cliPath: ZOOLAB_CLI, waitRunning: false, readyTimeoutMs, ...ensembleOptions });
  track(null, e.dir);
  const ids = e.ids();
  const view = (id) => e.server(id).view();
  const alive = (id) => ['starting', 'running'].includes(view(id).state);
  const stop = async () => {
    await e.shutdown();
    untrackDir(e.dir);
  };
  try {
    await waitServing(ids.map((id) => view(id).clientPort), readyTimeoutMs, () => ids.every(alive));
  } catch (err) {
    const tail = ids.map((id) => `--- server ${id}\n${e.logs(id).slice(-30).join('\n')}`).join('\n');
    await stop();
    throw new Error(`ZooLab ensemble did not start: ${err.message}\n${tail}`);
  }
  const coldStartMs = performance.now() - t0;
  return {
    name: 'ZooLab',
    ids,
    coldStartMs,
    dir: e.dir,
    port: (id) => view(id).clientPort,
    pid: (id) => view(id).pid,
    pidOf: async (id) => view(id).pid,
    alive,
    kill: (id) => e.kill(id),
    async restart(id) {
      if (alive(id)) await e.kill(id);
      await e.startServer(id);
      await waitServing([view(id).clientPort], readyTimeoutMs, () => alive(id));
    },
    logs: (id) => e.logs(id).join('\n'),
    stop,
  };
}
