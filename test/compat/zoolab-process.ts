/**
 * A standalone ZooLab server as a real process, the way a person runs it: `node
 * out/main/cli.js server <zoo.cfg>` with a temp zoo.cfg, dataDir and myid, on a free port.
 * The counterpart of test/support/apache-zookeeper.ts for compat runs, crash and fuzz tests
 * (the supervisor's startEnsemble hides zoo.cfg; these tests need to set keys in it).
 *
 * The child watches its stdin (ZOOLAB_PARENT_WATCH=stdin): if the test process dies, the
 * server exits by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sendFourLetterWord } from '../support/apache-zookeeper';
import { freePorts } from '../support/ports';

export const BUILT_CLI = resolve(import.meta.dirname, '../../out/main/cli.js');

export interface ZooLabServerOptions {
  tickTimeMs?: number;
  /** more zoo.cfg lines; override the defaults below */
  extraConfig?: Record<string, string>;
  /** SERVER_JVMFLAGS for the process (ZooLab reads -Dk=v from it, as zkServer.sh passes them) */
  jvmFlags?: string;
  /** reuse this dataDir (restart after a crash); default a fresh temp one */
  dataDir?: string;
  /** deadline for srvr to answer (default 30 s) */
  startTimeoutMs?: number;
}

export interface ZooLabServer {
  port: number;
  connectString: string;
  dataDir: string;
  cfgPath: string;
  pid: number;
  /** recent stdout+stderr (log lines) */
  output(): string;
  fourLetterWord(word: string, timeoutMs?: number): Promise<string>;
  /** true while the process runs */
  alive(): boolean;
  /** SIGKILL, wait for exit; the folder stays */
  kill(): Promise<void>;
  /** SIGTERM (SIGKILL after a deadline), wait for exit, remove the folder unless keepDir */
  stop(keepDir?: boolean): Promise<void>;
  /** start again on the same zoo.cfg/dataDir/port (after kill or stop(true)) */
  restart(): Promise<void>;
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((res) => {
    const timer = setTimeout(() => res(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      res(true);
    });
  });
}

export function zoolabBuilt(): boolean {
  return existsSync(BUILT_CLI);
}

export async function startZooLabServer(options: ZooLabServerOptions = {}): Promise<ZooLabServer> {
  const dir = mkdtempSync(join(tmpdir(), 'zoolab-compat-'));
  const dataDir = options.dataDir ?? join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const lease = await freePorts(1);
  const port = lease.ports[0]!;
  const config: Record<string, string> = {
    tickTime: String(options.tickTimeMs ?? 2000),
    dataDir,
    clientPort: String(port),
    clientPortAddress: '127.0.0.1',
    'admin.enableServer': 'false',
    '4lw.commands.whitelist': '*',
    ...options.extraConfig,
  };
  const cfgPath = join(dir, 'zoo.cfg');
  writeFileSync(cfgPath, Object.entries(config).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  writeFileSync(join(dataDir, 'myid'), '1\n');
  let log = '';
  let child: ChildProcess;

  const launch = async (): Promise<void> => {
    const env: NodeJS.ProcessEnv = { ...process.env, ZOOLAB_PARENT_WATCH: 'stdin' };
    delete env.ZOOLAB_TRACE;
    if (options.jvmFlags !== undefined) env.SERVER_JVMFLAGS = options.jvmFlags;
    child = spawn(process.execPath, [BUILT_CLI, 'server', cfgPath], { stdio: ['pipe', 'pipe', 'pipe'], env });
    const keep = (c: Buffer): void => {
      log = (log + c.toString('utf8')).slice(-2_000_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let spawnError: Error | undefined;
    child.on('error', (e) => {
      spawnError = e;
    });
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    for (;;) {
      if (spawnError !== undefined || child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`ZooLab server exited before serving (${spawnError?.message ?? `exit ${child.exitCode ?? child.signalCode}`}):\n${log}`);
      }
      const answer = await sendFourLetterWord(port, 'srvr', 1000).catch(() => '');
      if (answer.includes('Mode:')) return;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`ZooLab server on port ${port} did not answer srvr within the deadline:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  try {
    await launch();
  } catch (e) {
    lease.release();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  const handle: ZooLabServer = {
    port,
    connectString: `127.0.0.1:${port}`,
    dataDir,
    cfgPath,
    get pid() {
      return child.pid ?? -1;
    },
    output: () => log,
    fourLetterWord: (word, timeoutMs) => sendFourLetterWord(port, word, timeoutMs),
    alive: () => child.exitCode === null && child.signalCode === null,
    async kill() {
      if (handle.alive()) child.kill('SIGKILL');
      await waitExit(child, 10_000);
    },
    async stop(keepDir = false) {
      if (handle.alive()) {
        child.kill('SIGTERM');
        if (!(await waitExit(child, 10_000))) {
          child.kill('SIGKILL');
          await waitExit(child, 10_000);
        }
      }
      if (!keepDir) {
        rmSync(dir, { recursive: true, force: true });
        if (options.dataDir !== undefined) rmSync(options.dataDir, { recursive: true, force: true });
        lease.release();
      }
    },
    async restart() {
      if (handle.alive()) await handle.kill();
      await launch();
    },
  };
  return handle;
}
