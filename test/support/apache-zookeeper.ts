/**
 * Starts the Apache ZooKeeper installed on this machine (Debian package: /usr/share/java,
 * `java` on PATH) as a standalone server in the foreground, for tests, compat runs and
 * benches: temp dataDir, a free clientPort, admin server off, every four-letter word allowed.
 * When ZooKeeper or Java is missing, `startApacheZooKeeper` returns `{ available: false, reason }`
 * so callers can skip with that reason.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './ports';

const ZOOKEEPER_JAR = process.env.APACHE_ZOOKEEPER_JAR ?? '/usr/share/java/zookeeper.jar';
const CONF_DIR = '/etc/zookeeper/conf';

export interface ApacheZooKeeperOptions {
  tickTimeMs?: number;
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  /** more zoo.cfg lines, e.g. { 'extendedTypesEnabled': 'true' } */
  extraConfig?: Record<string, string>;
  /** deadline for `ruok` to answer `imok` (default 60 s) */
  startTimeoutMs?: number;
}

export interface ApacheZooKeeper {
  available: true;
  port: number;
  /** "127.0.0.1:<port>" */
  connectString: string;
  /** the temp dataDir (txn logs and snapshots under version-2/) */
  dataDir: string;
  /** recent stdout+stderr of the JVM, for failure messages */
  output(): string;
  /** sends a four-letter word, returns the whole answer */
  fourLetterWord(word: string, timeoutMs?: number): Promise<string>;
  /** SIGKILL and wait for exit; the temp folder stays (see stop) */
  kill(): Promise<void>;
  /** SIGTERM (then SIGKILL after a deadline), wait for exit, remove the temp folder */
  stop(): Promise<void>;
}

export type ApacheZooKeeperStart = ApacheZooKeeper | { available: false; reason: string };

/** Whether Apache ZooKeeper can be started here, and if not why. */
export function apacheZooKeeperAvailability(): { available: true } | { available: false; reason: string } {
  if (!existsSync(ZOOKEEPER_JAR)) return { available: false, reason: `Apache ZooKeeper is not installed (${ZOOKEEPER_JAR} missing)` };
  const java = spawnSync('java', ['-version'], { stdio: 'ignore', timeout: 20_000 });
  if (java.error !== undefined || java.status !== 0) return { available: false, reason: 'java is not on PATH' };
  return { available: true };
}

/** Sends `word` to host:port and collects the answer until the server closes. */
export function sendFourLetterWord(port: number, word: string, timeoutMs = 5000, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = createConnection({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${word} on ${host}:${port}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(word));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startApacheZooKeeper(options: ApacheZooKeeperOptions = {}): Promise<ApacheZooKeeperStart> {
  const availability = apacheZooKeeperAvailability();
  if (!availability.available) return availability;
  const dir = mkdtempSync(join(tmpdir(), 'zoolab-apache-zk-'));
  const dataDir = join(dir, 'data');
  // the shared allocator: suites running side by side never pick the same port
  const lease = await freePorts(1);
  const port = lease.ports[0]!;
  const tickTimeMs = options.tickTimeMs ?? 2000;
  const config: Record<string, string> = {
    tickTime: String(tickTimeMs),
    dataDir,
    clientPort: String(port),
    clientPortAddress: '127.0.0.1',
    'admin.enableServer': 'false',
    '4lw.commands.whitelist': '*',
    ...(options.minSessionTimeoutMs !== undefined ? { minSessionTimeout: String(options.minSessionTimeoutMs) } : {}),
    ...(options.maxSessionTimeoutMs !== undefined ? { maxSessionTimeout: String(options.maxSessionTimeoutMs) } : {}),
    ...options.extraConfig,
  };
  const cfgPath = join(dir, 'zoo.cfg');
  writeFileSync(cfgPath, Object.entries(config).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const classpath = existsSync(CONF_DIR) ? `${CONF_DIR}:${ZOOKEEPER_JAR}` : ZOOKEEPER_JAR;
  const child = spawn(
    'java',
    [
      '-Xmx256m',
      '-Dzookeeper.4lw.commands.whitelist=*',
      '-Dzookeeper.admin.enableServer=false',
      `-Dzookeeper.log.dir=${dir}`,
      '-Dzookeeper.root.logger=INFO,CONSOLE',
      '-cp',
      classpath,
      'org.apache.zookeeper.server.ZooKeeperServerMain',
      cfgPath,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const keep = (c: Buffer): void => {
    log = (log + c.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | undefined;
  child.on('error', (e) => {
    spawnError = e;
  });

  const handle: ApacheZooKeeper = {
    available: true,
    port,
    connectString: `127.0.0.1:${port}`,
    dataDir,
    output: () => log,
    fourLetterWord: (word, timeoutMs) => sendFourLetterWord(port, word, timeoutMs),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await waitExit(child, 10_000);
      lease.release();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        if (!(await waitExit(child, 10_000))) {
          child.kill('SIGKILL');
          await waitExit(child, 10_000);
        }
      }
      rmSync(dir, { recursive: true, force: true });
      lease.release();
    },
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  // poll ruok until imok; bounded by the deadline
  for (;;) {
    if (spawnError !== undefined || child.exitCode !== null) {
      await handle.stop();
      throw new Error(`Apache ZooKeeper exited before serving (${spawnError?.message ?? `exit ${child.exitCode}`}):\n${log}`);
    }
    const answer = await sendFourLetterWord(port, 'ruok', 1000).catch(() => '');
    if (answer === 'imok') return handle;
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(`Apache ZooKeeper on port ${port} did not answer ruok within the deadline:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
