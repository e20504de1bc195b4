/**
 * One supervised server process: spawn `node out/main/cli.js server <zoo.cfg>`, follow its
 * lifecycle (state.ts) from the process and from `srvr` polling, capture its log lines, and
 * kill / stop / pause / resume it. The child watches its stdin pipe, whose write end only we
 * hold, so it exits on its own if this process dies without cleaning up.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ServerRole, ServerView } from '../api/contract';
import type { TraceEvent } from '../common/trace';
import type { HeldMessage } from '../node/peer-network';
import { TRACE_ENV, TRACE_LEVEL_ENV } from '../node/trace-out';
import { ZooLabError } from '../common/errors';
import { parseSrvr } from '../node/four-letter-words';
import { AppendWriter } from './append-writer';
import { askFourLetterWord } from './four-letter-client';
import { initialLifecycle, transition } from './state';
import type { LifecycleEvent, ServerLifecycle } from './state';
import type { ServerSlot } from './workspace';

export interface ServerProcessOptions {
  /** the built CLI bundle; default: cli.js beside this bundle (out/main/cli.js) */
  cliPath?: string;
  /**
   * the node binary; default $ZOOLAB_NODE, else process.execPath (with ELECTRON_RUN_AS_NODE
   * under Electron). It is run as `<nodePath> <cli.js> server <zoo.cfg>`.
   */
  nodePath?: string;
  env?: NodeJS.ProcessEnv;
  /** SIGTERM → SIGKILL deadline */
  stopTimeoutMs?: number;
  /** a server that does not answer srvr within this is killed and marked crashed */
  startTimeoutMs?: number;
  pollIntervalMs?: number;
  /** log lines kept in memory per server */
  logLinesMax?: number;
  /** srvr samples kept per server (default 600: five minutes at the default poll) */
  healthSamplesMax?: number;
  /**
   * Servers that outlive this process (`zoolab up --detach`): own session, log straight to
   * logs/server.log, no parent watch. Default false: children die with their supervisor.
   */
  detached?: boolean;
}

/** One `srvr` poll, for charts. */
export interface HealthSample {
  t: number;
  role: ServerRole;
  /** hex */
  zxid: string | null;
  epoch: number | null;
  connections: number | null;
  outstanding: number | null;
  latencyAvgMs: number | null;
  latencyMaxMs: number | null;
  received: number | null;
  sent: number | null;
}

export interface ServerProcessEvents {
  changed(): void;
  log(lines: string[]): void;
  /** trace events the server wrote (NDJSON on its stdout) */
  trace?(events: TraceEvent[]): void;
  /** the same, unparsed (one NDJSON line): when given, `trace` is not called and the receiver
   * parses a line only if something reads it (a traced write load is ~30 lines per write) */
  traceLine?(line: string): void;
  /** the process is up: time to send it the current control state (faults) */
  spawned?(): void;
  /** step mode: the server holds this quorum message until released */
  held?(message: HeldMessage): void;
  /** the process exited */
  exited?(): void;
}

/** Longest partial line kept while its end has not arrived (a runaway line is cut there). */
const LINE_CHARS_MAX = 1 << 20;

/**
 * Calls `line` for each line the stream carries (without its \n or \r\n), and for a last line
 * without one at the end. A plain split instead of node:readline, whose per-line machinery
 * was a fifth of this process's CPU while the servers traced every write (~25 lines a write).
 */
export function onLines(stream: Readable, line: (text: string) => void): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    let from = 0;
    let nl = chunk.indexOf('\n');
    if (nl !== -1 && partial !== '') {
      const first = partial + chunk.slice(0, nl);
      partial = '';
      line(first.endsWith('\r') ? first.slice(0, -1) : first);
      from = nl + 1;
      nl = chunk.indexOf('\n', from);
    }
    while (nl !== -1) {
      const end = nl > from && chunk.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      line(chunk.slice(from, end));
      from = nl + 1;
      nl = chunk.indexOf('\n', from);
    }
    if (from < chunk.length) {
      partial += chunk.slice(from);
      while (partial.length > LINE_CHARS_MAX) {
        line(partial.slice(0, LINE_CHARS_MAX));
        partial = partial.slice(LINE_CHARS_MAX);
      }
    }
  });
  stream.on('end', () => {
    if (partial !== '') line(partial.endsWith('\r') ? partial.slice(0, -1) : partial);
    partial = '';
  });
}

/** Where the built cli.js lives: $ZOOLAB_CLI, else next to this bundle when bundled, else out/main from the repo. */
export function defaultCliPath(): string {
  const fromEnv = process.env.ZOOLAB_CLI;
  if (fromEnv) return resolve(fromEnv);
  const here = dirname(fileURLToPath(import.meta.url));
  // bundled: out/main/*.js or out/main/chunks/*.js; from source (tests): src-main/supervisor
  const candidates = [resolve(here, 'cli.js'), resolve(here, '../cli.js'), resolve(here, '../../out/main/cli.js')];
  return candidates.find((p) => existsSync(p)) ?? (candidates[2] as string);
}

function mapRole(mode: string | null, serving: boolean): ServerRole {
  if (!serving) return 'looking';
  switch (mode) {
    case 'standalone':
    case 'leader':
    case 'follower':
    case 'observer':
      return mode;
    case 'read-only':
      return 'unknown';
    default:
      return 'unknown';
  }
}

export class ServerProcess {
  private life: ServerLifecycle = initialLifecycle();
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private pollTimer: NodeJS.Timeout | null = null;
  private startTimer: NodeJS.Timeout | null = null;
  private killTimer: NodeJS.Timeout | null = null;
  private readonly logLines: string[] = [];
  private readonly healthSamples: HealthSample[] = [];
  private lastProblem: string | null = null;
  private polling = false;
  /** logs/server.log and logs/trace.ndjson, written off the event loop (append-writer.ts) */
  private readonly logFile: AppendWriter;
  private readonly traceFile: AppendWriter;
  /** the trace level asked for (setTraceWrites) */
  private traceWrites = false;
  role: ServerRole = 'unknown';
  lastZxid: string | null = null;
  epoch: number | null = null;
  connections: number | null = null;

  constructor(
    readonly slot: ServerSlot,
    private readonly opts: ServerProcessOptions,
    private readonly events: ServerProcessEvents,
  ) {
    this.logFile = new AppendWriter(slot.logPath);
    this.traceFile = new AppendWriter(join(dirname(slot.logPath), 'trace.ndjson'));
  }

  /** Resolves when every log line and trace event received so far is in the files. */
  async flushFiles(): Promise<void> {
    await Promise.all([this.logFile.flush(), this.traceFile.flush()]);
  }

  get state(): ServerLifecycle {
    return this.life;
  }

  get pid(): number | null {
    return this.life.pid;
  }

  view(): ServerView {
    const s = this.slot;
    const live = this.life.state === 'running';
    return {
      id: s.id,
      host: s.host,
      clientPort: s.clientPort,
      quorumPort: s.quorumPort,
      electionPort: s.electionPort,
      state: this.life.state,
      pid: this.life.pid,
      role: live ? this.role : 'unknown',
      lastZxid: live ? this.lastZxid : null,
      epoch: live ? this.epoch : null,
      connections: live ? this.connections : null,
      dir: s.dir,
      dataDir: s.dataDir,
      configPath: s.configPath,
      lastError: this.life.lastError,
      paused: this.life.paused,
      observer: s.type === 'observer',
    };
  }

  logs(): readonly string[] {
    return this.logLines;
  }

  /** srvr samples, oldest first (bounded: the last healthSamplesMax) */
  health(): readonly HealthSample[] {
    return this.healthSamples;
  }

  private apply(e: LifecycleEvent): void {
    const t = transition(this.life, e);
    if (!t.ok) throw new ZooLabError('USAGE', `server ${this.slot.id}: ${t.reason}`);
    this.life = t.next;
    this.events.changed();
  }

  private note(line: string): void {
    this.capture([`${new Date().toISOString()} INFO  [supervisor] ${line}`]);
  }

  /** a stdout line: a trace event (NDJSON, starts with {"t":), a held message, or a log line */
  private stdoutLine(line: string): void {
    if (line.startsWith('{"held":')) {
      try {
        this.events.held?.((JSON.parse(line) as { held: HeldMessage }).held);
        return;
      } catch {
        // not ours: a log line
      }
    }
    if (line.startsWith('{"t":')) {
      if (this.events.traceLine) {
        this.traceFile.append(`${line}\n`);
        this.events.traceLine(line);
        return;
      }
      try {
        const event = JSON.parse(line) as TraceEvent;
        this.traceFile.append(`${line}\n`);
        this.events.trace?.([event]);
        return;
      } catch {
        // not JSON after all: keep it as a log line
      }
    }
    this.capture([line]);
  }

  private capture(lines: string[]): void {
    const max = this.opts.logLinesMax ?? 5000;
    for (const l of lines) {
      this.logLines.push(l);
      if (/ (ERROR|WARN) /.test(l)) this.lastProblem = l.replace(/^\S+ (ERROR|WARN)\s+\[[^\]]*\] /, '');
    }
    if (this.logLines.length > max) this.logLines.splice(0, this.logLines.length - max);
    // the log file is a convenience; the in-memory lines and events carry them too
    this.logFile.append(lines.map((l) => `${l}\n`).join(''));
    this.events.log(lines);
  }

  /** Spawn the process; resolves once it is spawned (not yet running). */
  start(): Promise<void> {
    this.apply({ type: 'start' });
    this.lastProblem = null;
    this.role = 'unknown';
    const cli = this.opts.cliPath ?? defaultCliPath();
    if (!existsSync(cli)) {
      this.apply({ type: 'spawnFailed', error: `${cli} is missing: run 'npm run build' first` });
      return Promise.resolve();
    }
    const detached = this.opts.detached ?? false;
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.opts.env };
    if (detached) {
      delete env.ZOOLAB_PARENT_WATCH;
      delete env[TRACE_ENV];
      delete env[TRACE_LEVEL_ENV];
    } else {
      env.ZOOLAB_PARENT_WATCH = 'stdin';
      env[TRACE_ENV] = 'stdout';
      // the level it starts with: no write is missed between start and a first control message
      env[TRACE_LEVEL_ENV] = this.traceWrites ? 'writes' : 'lifecycle';
    }
    if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
    const node = this.opts.nodePath ?? process.env.ZOOLAB_NODE ?? process.execPath;
    let child: ChildProcess;
    let logFd: number | null = null;
    try {
      if (detached) logFd = openSync(this.slot.logPath, 'a');
      child = spawn(node, [cli, 'server', this.slot.configPath], {
        cwd: this.slot.dir,
        env,
        stdio: logFd === null ? ['pipe', 'pipe', 'pipe'] : ['ignore', logFd, logFd],
        detached,
        windowsHide: true,
      });
    } catch (e) {
      this.apply({ type: 'spawnFailed', error: `cannot start ${node}: ${(e as Error).message}` });
      return Promise.resolve();
    } finally {
      if (logFd !== null) closeSync(logFd);
    }
    this.child = child;
    return new Promise<void>((resolveSpawn) => {
      let spawned = false;
      child.once('spawn', () => {
        spawned = true;
        this.apply({ type: 'spawned', pid: child.pid as number });
        this.events.spawned?.();
        this.note(`started pid ${child.pid}: ${node} ${cli} server ${this.slot.configPath}`);
        this.startPolling();
        const startTimeoutMs = this.opts.startTimeoutMs ?? 30_000;
        this.startTimer = setTimeout(() => {
          this.startTimer = null;
          if (this.life.state !== 'starting' || this.child !== child) return;
          const why = `did not answer srvr on ${this.slot.host}:${this.slot.clientPort} within ${startTimeoutMs} ms${this.lastProblem ? ` (last problem: ${this.lastProblem})` : ''}`;
          this.apply({ type: 'giveUp', error: why });
          child.kill('SIGKILL');
        }, startTimeoutMs);
        resolveSpawn();
      });
      child.once('error', (e) => {
        if (!spawned) {
          this.child = null;
          this.apply({ type: 'spawnFailed', error: `cannot start ${node}: ${e.message}` });
          resolveSpawn();
        }
      });
      if (child.stdout && child.stderr) {
        onLines(child.stdout, (l) => this.stdoutLine(l));
        onLines(child.stderr, (l) => this.capture([l]));
      }
      // never let a broken stdin pipe (child gone) become an unhandled error here
      child.stdin?.on('error', () => {});
      this.exited = new Promise<void>((resolveExit) => {
        child.once('exit', (code, signal) => {
          this.onExit(child, code, signal);
          resolveExit();
        });
      });
    });
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = null;
    this.stopTimers();
    if (this.opts.detached) this.lastProblem = this.problemFromLogFile();
    this.note(`pid ${child.pid} ${signal ? `killed by ${signal}` : `exited with code ${code}`}`);
    this.apply({ type: 'exited', code, signal, lastWords: this.lastProblem });
    this.events.exited?.();
  }

  /** detached servers write their log file themselves: find the last problem there */
  private problemFromLogFile(): string | null {
    try {
      const text = readFileSync(this.slot.logPath, 'utf8').slice(-64 * 1024);
      const lines = text.split('\n').filter((l) => / (ERROR|WARN) /.test(l));
      const last = lines[lines.length - 1];
      return last ? last.replace(/^\S+ (ERROR|WARN)\s+\[[^\]]*\] /, '') : null;
    } catch {
      return null;
    }
  }

  /** Let a detached server live on without us: no timers, no handle keeping our loop alive. */
  disown(): void {
    this.stopTimers();
    this.child?.unref();
  }

  private stopTimers(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.startTimer) clearTimeout(this.startTimer);
    if (this.killTimer) clearTimeout(this.killTimer);
    this.pollTimer = this.startTimer = this.killTimer = null;
  }

  private startPolling(): void {
    const interval = this.opts.pollIntervalMs ?? 500;
    this.pollTimer = setInterval(() => void this.poll(), interval);
    this.pollTimer.unref();
    void this.poll();
  }

  /** Ask srvr once; update role/zxid; starting → running on any answer. */
  async poll(): Promise<void> {
    if (this.polling || this.life.paused) return;
    const st = this.life.state;
    if (st !== 'starting' && st !== 'running') return;
    this.polling = true;
    const pid = this.life.pid;
    try {
      const text = await askFourLetterWord(this.slot.host, this.slot.clientPort, 'srvr', 1500);
      if (this.life.pid !== pid || this.life.paused) return;
      const r = parseSrvr(text);
      const role = mapRole(r.mode, r.serving);
      const zxid = r.zxid === null ? null : `0x${r.zxid.toString(16)}`;
      const epoch = r.zxid === null ? null : Number(r.zxid >> 32n);
      const changed = role !== this.role || zxid !== this.lastZxid || r.connections !== this.connections;
      this.healthSamples.push({
        t: Date.now(),
        role,
        zxid,
        epoch,
        connections: r.connections,
        outstanding: r.outstanding,
        latencyAvgMs: r.latency?.avg ?? null,
        latencyMaxMs: r.latency?.max ?? null,
        received: r.received,
        sent: r.sent,
      });
      const max = this.opts.healthSamplesMax ?? 600;
      if (this.healthSamples.length > max) this.healthSamples.splice(0, this.healthSamples.length - max);
      this.role = role;
      this.lastZxid = zxid;
      this.epoch = epoch;
      this.connections = r.connections;
      if (this.life.state === 'starting' && text.length > 0) {
        if (this.startTimer) clearTimeout(this.startTimer);
        this.startTimer = null;
        this.apply({ type: 'serving' });
      } else if (changed) this.events.changed();
    } catch {
      // not up yet, or busy: the next poll asks again; the start deadline bounds 'starting'
    } finally {
      this.polling = false;
    }
  }

  /** SIGKILL; resolves when the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.apply({ type: 'kill' });
    if (!child) return;
    this.note(`kill -9 pid ${child.pid}`);
    child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after the deadline; resolves when the process is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    this.apply({ type: 'stop' });
    if (!child) return;
    if (this.life.paused) child.kill('SIGCONT');
    this.note(`stopping pid ${child.pid} (SIGTERM)`);
    child.kill('SIGTERM');
    const deadline = this.opts.stopTimeoutMs ?? 5000;
    this.killTimer = setTimeout(() => {
      this.note(`pid ${child.pid} still running ${deadline} ms after SIGTERM: SIGKILL`);
      child.kill('SIGKILL');
    }, deadline);
    await this.exited;
  }

  pause(): void {
    const child = this.child;
    this.apply({ type: 'pause' });
    child?.kill('SIGSTOP');
    this.note(`paused pid ${child?.pid} (SIGSTOP)`);
  }

  resume(): void {
    const child = this.child;
    this.apply({ type: 'resume' });
    child?.kill('SIGCONT');
    this.note(`resumed pid ${child?.pid} (SIGCONT)`);
  }

  /**
   * The trace level (node/trace-out.ts): with `on`, the server traces every write step; off,
   * only elections, roles, faults, sessions and the like. Sent over the control channel to a
   * live process, and given to the next start in its environment.
   */
  setTraceWrites(on: boolean): void {
    if (this.traceWrites === on) return;
    this.traceWrites = on;
    this.sendControl({ trace: on ? 'writes' : 'lifecycle' });
  }

  /** Send one control message (a JSON line on the server's stdin); false when it cannot be sent. */
  sendControl(message: unknown): boolean {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed || this.opts.detached) return false;
    stdin.write(`${JSON.stringify(message)}\n`);
    return true;
  }

  /** Wait until the process has exited (resolves at once when none). */
  whenExited(): Promise<void> {
    return this.exited;
  }

  /** Last resort on supervisor exit: synchronous, no waiting. */
  killNow(): void {
    const child = this.child;
    if (!child?.pid) return;
    try {
      process.kill(child.pid, 'SIGCONT');
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
