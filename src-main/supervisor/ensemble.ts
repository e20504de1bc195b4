/**
 * A local ensemble: a workspace on disk plus one ServerProcess per server. Every call acts on
 * real processes. Listeners hear `ensemble` (a fresh EnsembleView on each change) and
 * `serverLog` (new log lines, batched). Children never outlive this process: orderly shutdown
 * stops them; on process exit they are SIGKILLed; if this process is SIGKILLed they notice
 * their stdin pipe close and exit by themselves.
 *
 * The Ensemble holds the processes, their lifecycle, waiting, the manifest and shutdown; it
 * delegates by concern to collaborators over explicit state: `trace-relay.ts` (listeners, log
 * and trace batches, the trace ring, the trace level), `link-control.ts` (link faults and step
 * mode), `membership.ts` (dynamic membership by reconfig), `keep-alive.ts` (crash restarts),
 * `waiters.ts` (waiting on a condition with a deadline), `manifest-saver.ts` (D/ensemble.json).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EnsembleView, ServerState } from '../api/contract';
import type { TraceEvent } from '../common/trace';
import { ZooLabError } from '../common/errors';
import { releaseAllPorts } from './ports';
import type { MembershipSnapshot } from './reconfig-admin';
import { ServerProcess } from './server-process';
import type { HealthSample, ServerProcessOptions } from './server-process';
import type { LinkRule } from '../node/peer-network';
import { KeepAlive } from './keep-alive';
import { LinkControl } from './link-control';
import type { HeldAt } from './link-control';
import { ManifestSaver } from './manifest-saver';
import { Membership } from './membership';
import { TraceRelay } from './trace-relay';
import { Waiters, waitForEvery, waitForServer, waitForSettled } from './waiters';
import type { EnsembleEvents, EnsembleListener } from './trace-relay';
import { prepareWorkspace } from './workspace';
import type { PeerType, ServerSlot, Workspace, WorkspaceOptions } from './workspace';

export type { EnsembleEvents } from './trace-relay';

export interface EnsembleOptions extends Omit<WorkspaceOptions, 'dir'>, ServerProcessOptions {
  /** workspace folder; default a fresh temporary folder, removed on shutdown */
  dir?: string;
  /** remove the folder on shutdown (default: only when it was a temporary one) */
  removeDirOnShutdown?: boolean;
  /** wait until every server answers srvr (default true) */
  waitRunning?: boolean;
  /** how long start waits for all servers to run (default 60 s) */
  readyTimeoutMs?: number;
  /** batch window for serverLog events (default 100 ms) */
  logBatchMs?: number;
  /** restart a crashed server, with backoff 1 s, 2 s, 4 s … 30 s (default false) */
  keepAlive?: boolean;
  /**
   * trace every write step (request, proposal, log append, fsync, ack, quorum, commit, apply,
   * reply) even while no `trace` listener is subscribed and step mode is off, e.g. for
   * `traceEvents()` / `requestStory()` (default false: those events cost the servers 15–20% of
   * their CPU under load, so they are made only while someone watches)
   */
  traceWrites?: boolean;
}

const live = new Set<Ensemble>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const e of live) e.killAllNow();
    releaseAllPorts();
  });
}

export class Ensemble {
  readonly dir: string;
  private readonly procs = new Map<number, ServerProcess>();
  private readonly procOptions: ServerProcessOptions;
  private viewQueued = false;
  private closed = false;
  private readonly waiters = new Waiters();
  private readonly manifest: ManifestSaver;
  /** listeners, log and trace batches, the trace ring, the trace level */
  private readonly relay: TraceRelay;
  /** link faults and step mode */
  private readonly links: LinkControl;
  /** crash restarts */
  private readonly keepAlive: KeepAlive;
  /** dynamic membership (a fixed one unless the workspace has reconfig on) */
  private readonly members: Membership;

  private constructor(
    private readonly ws: Workspace,
    options: EnsembleOptions,
    private readonly removeDir: boolean,
  ) {
    this.dir = ws.dir;
    this.manifest = new ManifestSaver(ws, () => this.pids(), () => this.closed, removeDir);
    this.relay = new TraceRelay({ stepping: () => this.links.stepMode, procs: () => this.procs.values() }, options.logBatchMs ?? 100, options.traceWrites ?? false);
    this.links = new LinkControl({
      server: (id) => this.server(id),
      find: (id) => this.procs.get(id),
      procs: () => this.procs.values(),
      ids: () => this.ids(),
      changed: () => this.changed(),
      syncTraceLevel: () => this.relay.syncTraceLevel(),
      trace: (events) => this.relay.queueTrace(events),
    });
    this.keepAlive = new KeepAlive(
      (id) => this.startServer(id),
      () => this.closed,
    );
    if (options.keepAlive) for (const s of ws.servers) this.keepAlive.set(s.id, true);
    this.procOptions = { ...options, env: { ...options.env, ZOOLAB_SESSION_SECRET: ws.settings.sessionSecret } };
    for (const slot of ws.servers) this.addProcess(slot);
    this.members = new Membership({
      ws,
      ports: options.ports,
      keepAliveNew: options.keepAlive === true,
      keepAlive: this.keepAlive,
      isClosed: () => this.closed,
      ids: () => this.ids(),
      find: (id) => this.procs.get(id),
      server: (id) => this.server(id),
      addProcess: (slot) => this.addProcess(slot),
      dropProcess: (id) => this.procs.delete(id),
      waitFor: (id, state, timeoutMs) => this.waitFor(id, state, timeoutMs),
      saveManifest: () => this.manifest.save(),
      changed: () => this.changed(),
    });
  }

  /** The client connection string of the current servers (voters first); changes as servers are added or removed. */
  get connectionString(): string {
    return this.ws.connectionString;
  }

  private addProcess(slot: ServerSlot): ServerProcess {
    const proc: ServerProcess = new ServerProcess(slot, this.procOptions, {
        changed: () => this.changed(),
        log: (lines) => this.relay.queueLog(slot.id, lines),
        traceLine: (line) => this.relay.queueTraceLine(line),
        spawned: () => this.links.spawned(proc),
        held: (m) => this.links.held(slot.id, m),
        exited: () => this.links.exited(slot.id),
      });
    proc.setTraceWrites(this.traceWrites);
    this.procs.set(slot.id, proc);
    return proc;
  }

  /** Prepare the workspace, start every server, and (by default) wait until all run. */
  static async start(options: EnsembleOptions): Promise<Ensemble> {
    installExitHook();
    const temporary = options.dir === undefined;
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'zoolab-ensemble-'));
    const ws = await prepareWorkspace({ ...options, dir });
    const e = new Ensemble(ws, options, options.removeDirOnShutdown ?? temporary);
    live.add(e);
    try {
      await Promise.all([...e.procs.values()].map((p) => p.start()));
      e.manifest.save();
      if (e.members.enabled) e.members.watch();
      if (options.waitRunning ?? true) {
        await e.waitForAllSettled(options.readyTimeoutMs ?? 60_000);
        const crashed = e.view().servers.filter((s) => s.state === 'crashed');
        if (crashed.length > 0) {
          throw new ZooLabError('PROCESS_FAILED', crashed.map((s) => `server ${s.id} failed to start: ${s.lastError ?? 'no reason given'}`).join('; '));
        }
      }
    } catch (err) {
      await e.shutdown();
      throw err;
    }
    return e;
  }

  get workspace(): Workspace {
    return this.ws;
  }

  view(): EnsembleView {
    const servers = this.members.decorate([...this.procs.values()].map((p) => p.view()));
    const view: EnsembleView = { dir: this.dir, connectionString: this.connectionString, servers };
    const membership = this.members.view();
    if (membership !== undefined) view.membership = membership;
    return view;
  }

  // ---- dynamic membership (workspaces started with reconfig: true): membership.ts ----

  /** Whether this ensemble's servers run with reconfigEnabled (see WorkspaceSettings.reconfig). */
  get reconfigEnabled(): boolean {
    return this.members.enabled;
  }

  /** The membership as /zookeeper/config holds it now (read from the ensemble). */
  async membership(): Promise<MembershipSnapshot> {
    return this.members.read();
  }

  /**
   * Grow the ensemble while it serves: lay out server `id` (default: the next free id) with its
   * own ports, myid and a zoo.cfg whose membership is the current one plus itself, start it,
   * wait until it answers, then `reconfig -add` it. Resolves with its id once the new
   * membership is committed. On failure the new server is stopped and its folder removed.
   */
  async addServer(opts: { id?: number; role?: PeerType; readyTimeoutMs?: number } = {}): Promise<number> {
    return this.members.addServer(opts);
  }

  /**
   * Shrink the ensemble: `reconfig -remove id`, then stop that server and remove its folder
   * (its data belongs to a membership it is no longer part of).
   */
  async removeServer(id: number): Promise<void> {
    return this.members.removeServer(id);
  }

  /** Turn a server into an observer or a voter again (`reconfig -add` of its line with the new role). */
  async setRole(id: number, role: PeerType): Promise<void> {
    return this.members.setRole(id, role);
  }

  ids(): number[] {
    return [...this.procs.keys()];
  }

  server(id: number): ServerProcess {
    const p = this.procs.get(id);
    if (!p) throw new ZooLabError('NOT_FOUND', `no server ${id} in this ensemble (ids ${this.ids().join(', ')})`);
    return p;
  }

  /** the id of the server whose srvr says leader (or standalone), if any */
  leader(): number | null {
    for (const p of this.procs.values()) {
      if (p.state.state === 'running' && (p.role === 'leader' || p.role === 'standalone')) return p.slot.id;
    }
    return null;
  }

  // ---- events and the trace: trace-relay.ts ----

  /** Listen; a `trace` listener turns per-write tracing on until the last one unsubscribes. */
  on<E extends keyof EnsembleEvents>(event: E, listener: EnsembleListener<E>): () => void {
    return this.relay.on(event, listener);
  }

  /**
   * Whether the servers trace every write step (node/trace-out.ts level `writes`): while a
   * `trace` listener is subscribed (the app draws the write path from them), while step mode is
   * on, or when asked for (`traceWrites` option, setTraceWrites). Otherwise they trace only
   * elections, roles, syncs, faults, sessions and the like.
   */
  get traceWrites(): boolean {
    return this.relay.traceWrites;
  }

  /** Ask for per-write tracing (or stop asking: it stays on while a listener or step mode needs it). */
  setTraceWrites(on: boolean): void {
    this.relay.setTraceWrites(on);
  }

  /** One client request's story (session id in hex, xid) from the retained trace. */
  requestStory(session: string, xid: number): TraceEvent[] {
    return this.relay.requestStory(session, xid);
  }

  /** Trace events kept in memory (bounded by limits.traceEventsRetainedMax), oldest first. */
  traceEvents(): readonly TraceEvent[] {
    return this.relay.traceEvents();
  }

  // ---- lifecycle of one server ----

  async kill(id: number): Promise<void> {
    await this.server(id).kill();
    this.manifest.save();
  }

  async stopServer(id: number): Promise<void> {
    await this.server(id).stop();
    this.manifest.save();
  }

  async startServer(id: number): Promise<void> {
    await this.server(id).start();
    this.manifest.save();
  }

  /** Stop (gracefully) if live, then start. Resolves once spawned; use waitFor for running. */
  async restart(id: number): Promise<void> {
    const p = this.server(id);
    const st = p.state.state;
    if (st === 'starting' || st === 'running') await p.stop();
    else if (st === 'stopping') await p.whenExited();
    await this.startServer(id);
  }

  pause(id: number): void {
    this.server(id).pause();
  }

  // ---- step mode and link faults: link-control.ts ----

  /**
   * Step mode: every server holds its quorum messages (PROPOSAL, ACK, COMMIT, … but not PING)
   * until `release` lets them go, so a person can follow one write message by message. Use a
   * long tickTime with it, or the held messages run into syncLimit. Off releases everything.
   */
  setStepMode(on: boolean): void {
    this.links.setStepMode(on);
  }

  get stepMode(): boolean {
    return this.links.stepMode;
  }

  /** The messages held right now, oldest first (`server` holds it; `to` will receive it). */
  heldMessages(): readonly HeldAt[] {
    return this.links.heldMessages();
  }

  /** Let the `count` oldest held messages go (per-link order is kept); returns them. */
  release(count = 1): HeldAt[] {
    return this.links.release(count);
  }

  /** Release one held message every `intervalMs` (a slowed-down run); null stops. */
  releaseEvery(intervalMs: number | null): void {
    this.links.releaseEvery(intervalMs);
  }

  /** The current link fault table. */
  faults(): readonly LinkRule[] {
    return this.links.faults();
  }

  /** Replace the link fault table on every server (an empty table heals everything). */
  setFaults(rules: readonly LinkRule[]): void {
    this.links.setFaults(rules);
  }

  /** Cut `id` off from every other server (both directions). */
  isolate(id: number): void {
    this.links.isolate(id);
  }

  /** Split the servers into sides that cannot reach each other; servers not named form one more side. */
  partition(...sides: number[][]): void {
    this.links.partition(...sides);
  }

  /** Lose every message from `from` to `to` (one way). */
  dropLink(from: number, to: number): void {
    this.links.dropLink(from, to);
  }

  /** Hold every message from `from` to `to` for delayMs (order kept). */
  delayLink(from: number, to: number, delayMs: number): void {
    this.links.delayLink(from, to, delayMs);
  }

  /** Remove every link fault; messages a delayed link still holds go out at once, in order. */
  heal(): void {
    this.links.setFaults([]);
  }

  /**
   * Empty a stopped server's dataDir (snapshots, txn logs, epoch files; myid stays), so that
   * on its next start it resyncs from the ensemble (or starts empty when standalone).
   */
  wipe(id: number): void {
    const p = this.server(id);
    const st = p.state.state;
    if (st !== 'stopped' && st !== 'crashed') {
      throw new ZooLabError('USAGE', `server ${id} is ${st}: stop or kill it before wiping its dataDir`);
    }
    for (const name of readdirSync(p.slot.dataDir)) {
      if (name === 'myid') continue;
      rmSync(join(p.slot.dataDir, name), { recursive: true, force: true });
    }
  }

  /** Restart this server whenever it crashes (backoff 1 s doubling to 30 s; reset after 30 s up). */
  setKeepAlive(id: number, on: boolean): void {
    this.server(id);
    this.keepAlive.set(id, on);
  }

  resume(id: number): void {
    this.server(id).resume();
  }

  /** Wait until server `id` is in `state` (or the predicate holds); rejects after timeoutMs. */
  waitFor(id: number, state: ServerState, timeoutMs = 30_000): Promise<void> {
    return waitForServer(this.waiters, this.server(id), state, timeoutMs);
  }

  waitForAll(state: ServerState, timeoutMs = 60_000): Promise<void> {
    return waitForEvery(this.waiters, () => this.procs.values(), state, timeoutMs);
  }

  /** Wait until every server is running or has crashed (a crash does not make the others wait). */
  waitForAllSettled(timeoutMs = 60_000): Promise<void> {
    return waitForSettled(this.waiters, () => this.procs.values(), timeoutMs);
  }

  /** Wait on a condition re-checked at every change (and every 200 ms), with a deadline. */
  waitUntil(condition: () => boolean, what: string, timeoutMs: number, describe?: () => string): Promise<void> {
    return this.waiters.until(condition, what, timeoutMs, describe);
  }

  logs(id: number): readonly string[] {
    return this.server(id).logs();
  }

  /** srvr samples of one server (role, zxid, connections, outstanding, latency), oldest first. */
  health(id: number): readonly HealthSample[] {
    return this.server(id).health();
  }

  /** Stop every server (SIGTERM, then SIGKILL after the deadline), release ports. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.keepAlive.clearTimers();
    this.links.stopTimer();
    await Promise.all(
      [...this.procs.values()].map(async (p) => {
        const st = p.state.state;
        if (st === 'starting' || st === 'running') await p.stop().catch(() => p.killNow());
        else if (st === 'stopping') await p.whenExited();
      }),
    );
    await this.members.close();
    // the log and trace files are written asynchronously: all of it lands before the folder may go
    await Promise.all([...this.procs.values()].map((p) => p.flushFiles()));
    this.relay.flush();
    this.manifest.save();
    this.ws.lease.release();
    this.members.releaseLeases();
    live.delete(this);
    this.relay.cancelTimer();
    this.keepAlive.clearTimers();
    if (this.removeDir) rmSync(this.dir, { recursive: true, force: true });
  }

  get isShutDown(): boolean {
    return this.closed;
  }

  /**
   * Hand the servers over to themselves (`zoolab up --detach`): they keep running after this
   * process exits; D/ensemble.json records their pids for `zoolab status|kill|down`.
   * Only meaningful when started with `detached: true`.
   */
  detach(): void {
    this.closed = true;
    // the reconfig session would keep this process alive: the servers are on their own now
    void this.members.close();
    for (const p of this.procs.values()) p.disown();
    live.delete(this);
    this.relay.cancelTimer();
    this.manifest.saveDetached();
    this.ws.lease.release();
  }

  /** synchronous last resort (process exit) */
  killAllNow(): void {
    for (const p of this.procs.values()) p.killNow();
  }

  pids(): Map<number, number | null> {
    return new Map([...this.procs.values()].map((p) => [p.slot.id, p.pid]));
  }

  private changed(): void {
    this.waiters.notify();
    if (this.keepAlive.size > 0) this.keepAlive.watch(this.procs.values());
    if (this.viewQueued) return;
    this.viewQueued = true;
    queueMicrotask(() => {
      this.viewQueued = false;
      const v = this.view();
      for (const l of this.relay.listeners.ensemble) l(v);
    });
    if (!this.closed) this.manifest.saveSoon();
  }
}
