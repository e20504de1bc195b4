/**
 * A local ensemble: a workspace on disk plus one ServerProcess per server. Every call acts on
 * real processes. Listeners hear `ensemble` (a fresh EnsembleView on each change) and
 * `serverLog` (new log lines, batched). Children never outlive this process: orderly shutdown
 * stops them; on process exit they are SIGKILLed; if this process is SIGKILLed they notice
 * their stdin pipe close and exit by themselves.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EnsembleView, ServerState } from '../api/contract';
import { limits } from '../common/limits';
import type { TraceEvent } from '../common/trace';
import { ZooLabError } from '../common/errors';
import { formatServerLine } from '../client/dynamic-config';
import { allocatePorts, releaseAllPorts } from './ports';
import type { PortLease } from './ports';
import { ReconfigAdmin } from './reconfig-admin';
import type { MembershipSnapshot } from './reconfig-admin';
import { ServerProcess } from './server-process';
import type { HealthSample, ServerProcessOptions } from './server-process';
import type { HeldMessage, LinkRule } from '../node/peer-network';
import { requestStory } from './trace-story';
import { clientOrder, connectionStringOf, newSlot, prepareWorkspace, renderZooCfg, serverLineOf, writeManifest } from './workspace';
import type { PeerType, ServerSlot, Workspace, WorkspaceOptions } from './workspace';

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

export interface EnsembleEvents {
  ensemble: EnsembleView;
  serverLog: { server: number; lines: string[] };
  trace: TraceEvent[];
}

type Listener<E extends keyof EnsembleEvents> = (payload: EnsembleEvents[E]) => void;

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
  /** ports of servers added after the start (the workspace lease holds the first ones) */
  private readonly addedLeases = new Map<number, PortLease>();
  /** dynamic membership: the supervisor's reconfig session, and the last membership it read */
  private admin: ReconfigAdmin | null = null;
  private lastMembership: MembershipSnapshot | null = null;
  private readonly listeners = {
    ensemble: new Set<Listener<'ensemble'>>(),
    serverLog: new Set<Listener<'serverLog'>>(),
    trace: new Set<Listener<'trace'>>(),
  };
  /** the most recent trace events of every server, oldest first, bounded */
  /** newest last; a server's line stays unparsed until something reads it */
  private readonly traceRing: (TraceEvent | string)[] = [];
  private pendingTrace: TraceEvent[] = [];
  private readonly pendingLogs = new Map<number, string[]>();
  private logTimer: NodeJS.Timeout | null = null;
  private viewQueued = false;
  private closed = false;
  private readonly waiters = new Set<() => void>();
  private readonly keepAlive = new Set<number>();
  /** the link fault table every server obeys */
  private faultRules: LinkRule[] = [];
  /** step mode: quorum messages the servers hold, oldest first */
  private stepping = false;
  private heldQueue: (HeldMessage & { server: number })[] = [];
  private releaseTimer: NodeJS.Timeout | null = null;
  /** per-write tracing asked for explicitly (option or setTraceWrites) */
  private traceWritesAsked: boolean;
  private readonly backoff = new Map<number, { delayMs: number; timer: NodeJS.Timeout | null; runningSinceMs: number | null }>();

  private constructor(
    private readonly ws: Workspace,
    private readonly options: EnsembleOptions,
    private readonly removeDir: boolean,
  ) {
    this.dir = ws.dir;
    this.traceWritesAsked = options.traceWrites ?? false;
    if (options.keepAlive) for (const s of ws.servers) this.keepAlive.add(s.id);
    this.procOptions = { ...options, env: { ...options.env, ZOOLAB_SESSION_SECRET: ws.settings.sessionSecret } };
    for (const slot of ws.servers) this.addProcess(slot);
    const reconfig = ws.settings.reconfig;
    if (reconfig !== undefined) {
      this.admin = new ReconfigAdmin(
        () => this.connectionString,
        reconfig.superPassword,
        (m) => this.membershipChanged(m),
      );
    }
  }

  /** The client connection string of the current servers (voters first); changes as servers are added or removed. */
  get connectionString(): string {
    return this.ws.connectionString;
  }

  private addProcess(slot: ServerSlot): ServerProcess {
    const proc: ServerProcess = new ServerProcess(slot, this.procOptions, {
        changed: () => this.changed(),
        log: (lines) => this.queueLog(slot.id, lines),
        traceLine: (line) => this.queueTraceLine(line),
        spawned: () => {
          if (this.faultRules.length > 0) proc.sendControl({ faults: this.faultRules });
          if (this.stepping) proc.sendControl({ step: true });
        },
        held: (m) => {
          // a report still in the pipe after step mode ended: the server has sent it already
          if (!this.stepping) return;
          this.heldQueue.push({ server: slot.id, ...m });
          if (this.heldQueue.length > 100_000) this.heldQueue.shift();
          this.changed();
        },
        exited: () => {
          // what a dead server held is lost with it
          this.heldQueue = this.heldQueue.filter((h) => h.server !== slot.id);
        },
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
      e.saveManifest();
      if (e.admin !== null) e.watchMembership();
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

  /** Follow /zookeeper/config in the background (retried until the ensemble answers, bounded). */
  private watchMembership(): void {
    const admin = this.admin;
    if (admin === null) return;
    let attempt = 0;
    const tryWatch = (): void => {
      if (this.closed) return;
      admin.watch().catch(() => {
        attempt += 1;
        if (attempt < 60 && !this.closed) setTimeout(tryWatch, 1000).unref();
      });
    };
    tryWatch();
  }

  get workspace(): Workspace {
    return this.ws;
  }

  view(): EnsembleView {
    const m = this.lastMembership;
    const members = m === null ? null : new Map(m.config.servers.map((s) => [s.id, s]));
    const servers = [...this.procs.values()].map((p) => {
      const v = p.view();
      return members === null ? v : { ...v, inConfig: members.has(v.id) };
    });
    const view: EnsembleView = { dir: this.dir, connectionString: this.connectionString, servers };
    if (this.admin !== null) {
      view.membership =
        m === null
          ? { version: null, members: [] }
          : { version: m.version < 0n ? null : m.version.toString(16), members: m.config.servers.map((s) => ({ id: s.id, role: s.role })) };
    }
    return view;
  }

  // ---- dynamic membership (workspaces started with reconfig: true) ----

  /** Whether this ensemble's servers run with reconfigEnabled (see WorkspaceSettings.reconfig). */
  get reconfigEnabled(): boolean {
    return this.admin !== null;
  }

  private needAdmin(what: string): ReconfigAdmin {
    if (this.admin === null) {
      throw new ZooLabError('USAGE', `${what}: this ensemble has a fixed membership; start it with reconfig on (zoolab up --reconfig, startEnsemble({ reconfig: true })) to grow or shrink it`);
    }
    return this.admin;
  }

  /** The membership as /zookeeper/config holds it now (read from the ensemble). */
  async membership(): Promise<MembershipSnapshot> {
    return this.needAdmin('membership').read();
  }

  /**
   * Grow the ensemble while it serves: lay out server `id` (default: the next free id) with its
   * own ports, myid and a zoo.cfg whose membership is the current one plus itself, start it,
   * wait until it answers, then `reconfig -add` it. Resolves with its id once the new
   * membership is committed. On failure the new server is stopped and its folder removed.
   */
  async addServer(opts: { id?: number; role?: PeerType; readyTimeoutMs?: number } = {}): Promise<number> {
    const admin = this.needAdmin('addServer');
    const role = opts.role ?? 'participant';
    const current = await admin.read();
    // the next id no process, workspace slot or config line (a server added from a shell) uses
    const id = opts.id ?? Math.max(0, ...this.ids(), ...this.ws.servers.map((s) => s.id), ...current.config.servers.map((s) => s.id)) + 1;
    if (!Number.isInteger(id) || id < 1 || id > 255) throw new ZooLabError('USAGE', `server id ${id}: a whole number 1..255`);
    if (this.procs.has(id)) throw new ZooLabError('USAGE', `server ${id} is already part of this ensemble`);
    if (current.config.servers.some((s) => s.id === id)) throw new ZooLabError('USAGE', `server ${id} is already in the configuration (version ${current.version.toString(16)})`);
    const lease = await allocatePorts(3, this.options.ports);
    const slot = newSlot(this.dir, id, role, lease.ports as unknown as [number, number, number]);
    const own = serverLineOf(slot, true);
    const lines = [...current.config.servers.map((s) => formatServerLine(s)), own];
    writeFileSync(slot.configPath, renderZooCfg(this.ws, slot, lines));
    this.addedLeases.set(id, lease);
    this.ws.servers.push(slot);
    if (this.options.keepAlive) this.keepAlive.add(id);
    const proc = this.addProcess(slot);
    try {
      await proc.start();
      await this.waitFor(id, 'running', opts.readyTimeoutMs ?? 60_000);
      await admin.reconfig({ joining: [own] }, opts.readyTimeoutMs ?? 60_000);
    } catch (e) {
      await this.forget(id);
      throw e;
    }
    this.ws.connectionString = connectionStringOf(clientOrder(this.ws.servers));
    this.saveManifest();
    this.changed();
    return id;
  }

  /**
   * Shrink the ensemble: `reconfig -remove id`, then stop that server and remove its folder
   * (its data belongs to a membership it is no longer part of).
   */
  async removeServer(id: number): Promise<void> {
    const admin = this.needAdmin('removeServer');
    this.server(id);
    const current = await admin.read();
    if (current.config.servers.some((s) => s.id === id)) await admin.reconfig({ leaving: [id] });
    await this.forget(id);
    this.ws.connectionString = connectionStringOf(clientOrder(this.ws.servers));
    this.saveManifest();
    this.changed();
  }

  /** Turn a server into an observer or a voter again (`reconfig -add` of its line with the new role). */
  async setRole(id: number, role: PeerType): Promise<void> {
    const admin = this.needAdmin('setRole');
    const p = this.server(id);
    const current = await admin.read();
    const member = current.config.servers.find((s) => s.id === id);
    if (member === undefined) throw new ZooLabError('USAGE', `server ${id} is not in the configuration (version ${current.version.toString(16)}); add it first`);
    if (member.role !== role) await admin.reconfig({ joining: [formatServerLine({ ...member, role })] });
    p.slot.type = role;
    this.ws.connectionString = connectionStringOf(clientOrder(this.ws.servers));
    this.saveManifest();
    this.changed();
  }

  /** Stop a server for good and drop it from the workspace (folder, ports, manifest). */
  private async forget(id: number): Promise<void> {
    const p = this.procs.get(id);
    if (p !== undefined) {
      const st = p.state.state;
      if (st === 'starting' || st === 'running') await p.stop().catch(() => p.killNow());
      else if (st === 'stopping') await p.whenExited();
      await p.flushFiles();
      this.procs.delete(id);
      rmSync(p.slot.dir, { recursive: true, force: true });
    }
    this.keepAlive.delete(id);
    const i = this.ws.servers.findIndex((s) => s.id === id);
    if (i >= 0) this.ws.servers.splice(i, 1);
    this.addedLeases.get(id)?.release();
    this.addedLeases.delete(id);
  }

  /** A membership was read: roles flipped from a shell show on the cards too. */
  private membershipChanged(m: MembershipSnapshot): void {
    this.lastMembership = m;
    for (const s of m.config.servers) {
      const p = this.procs.get(s.id);
      if (p !== undefined && p.slot.type !== s.role) p.slot.type = s.role;
    }
    this.changed();
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

  /** Listen; a `trace` listener turns per-write tracing on until the last one unsubscribes. */
  on<E extends keyof EnsembleEvents>(event: E, listener: Listener<E>): () => void {
    const set = this.listeners[event] as Set<Listener<E>>;
    set.add(listener);
    if (event === 'trace') this.syncTraceLevel();
    return () => {
      const had = set.delete(listener);
      if (event === 'trace') this.syncTraceLevel();
      return had;
    };
  }

  /**
   * Whether the servers trace every write step (node/trace-out.ts level `writes`): while a
   * `trace` listener is subscribed (the app draws the write path from them), while step mode is
   * on, or when asked for (`traceWrites` option, setTraceWrites). Otherwise they trace only
   * elections, roles, syncs, faults, sessions and the like.
   */
  get traceWrites(): boolean {
    return this.traceWritesAsked || this.listeners.trace.size > 0 || this.stepping;
  }

  /** Ask for per-write tracing (or stop asking: it stays on while a listener or step mode needs it). */
  setTraceWrites(on: boolean): void {
    this.traceWritesAsked = on;
    this.syncTraceLevel();
  }

  /** tell every server the level (each ServerProcess sends only a change) */
  private syncTraceLevel(): void {
    const on = this.traceWrites;
    for (const p of this.procs.values()) p.setTraceWrites(on);
  }

  async kill(id: number): Promise<void> {
    await this.server(id).kill();
    this.saveManifest();
  }

  async stopServer(id: number): Promise<void> {
    await this.server(id).stop();
    this.saveManifest();
  }

  async startServer(id: number): Promise<void> {
    await this.server(id).start();
    this.saveManifest();
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

  /**
   * Step mode: every server holds its quorum messages (PROPOSAL, ACK, COMMIT, … but not PING)
   * until `release` lets them go, so a person can follow one write message by message. Use a
   * long tickTime with it, or the held messages run into syncLimit. Off releases everything.
   */
  setStepMode(on: boolean): void {
    this.stepping = on;
    // step mode shows the write steps: the servers trace them before they hold the first message
    this.syncTraceLevel();
    if (!on) {
      this.releaseEvery(null);
      this.heldQueue = [];
    }
    for (const p of this.procs.values()) p.sendControl({ step: on });
    this.changed();
  }

  get stepMode(): boolean {
    return this.stepping;
  }

  /** The messages held right now, oldest first (`server` holds it; `to` will receive it). */
  heldMessages(): readonly (HeldMessage & { server: number })[] {
    return this.heldQueue;
  }

  /** Let the `count` oldest held messages go (per-link order is kept); returns them. */
  release(count = 1): (HeldMessage & { server: number })[] {
    const out = this.heldQueue.splice(0, Math.max(0, count));
    const byServer = new Map<number, number[]>();
    for (const h of out) byServer.set(h.server, [...(byServer.get(h.server) ?? []), h.id]);
    for (const [server, ids] of byServer) this.procs.get(server)?.sendControl({ release: ids });
    if (out.length > 0) this.changed();
    return out;
  }

  /** Release one held message every `intervalMs` (a slowed-down run); null stops. */
  releaseEvery(intervalMs: number | null): void {
    if (this.releaseTimer) clearInterval(this.releaseTimer);
    this.releaseTimer = null;
    if (intervalMs === null) return;
    if (!(intervalMs >= 1)) throw new ZooLabError('USAGE', `release interval ${intervalMs} ms: at least 1`);
    this.releaseTimer = setInterval(() => this.release(1), intervalMs);
    this.releaseTimer.unref();
  }

  /** The current link fault table. */
  faults(): readonly LinkRule[] {
    return this.faultRules;
  }

  /** Replace the link fault table on every server (an empty table heals everything). */
  setFaults(rules: readonly LinkRule[]): void {
    for (const r of rules) {
      for (const end of [r.from, r.to]) if (end !== '*') this.server(end);
      if (r.delayMs !== undefined && !(r.delayMs >= 0 && r.delayMs <= 600_000)) throw new ZooLabError('USAGE', `delay ${r.delayMs} ms: 0 to 600000`);
    }
    this.faultRules = rules.map((r) => ({ ...r }));
    for (const p of this.procs.values()) p.sendControl({ faults: this.faultRules });
    const kind = this.faultRules.length === 0 ? 'fault.healed' : 'fault.set';
    this.queueTrace([{ t: Date.now(), kind, server: 0, detail: { rules: JSON.stringify(this.faultRules) } }]);
  }

  /** Cut `id` off from every other server (both directions). */
  isolate(id: number): void {
    this.server(id);
    this.setFaults([...this.faultRules, { from: id, to: '*', drop: true }, { from: '*', to: id, drop: true }]);
  }

  /** Split the servers into sides that cannot reach each other; servers not named form one more side. */
  partition(...sides: number[][]): void {
    const named = new Set(sides.flat());
    for (const id of named) this.server(id);
    const rest = this.ids().filter((id) => !named.has(id));
    const all = rest.length > 0 ? [...sides, rest] : sides;
    const rules: LinkRule[] = [];
    for (let i = 0; i < all.length; i += 1) {
      for (let j = 0; j < all.length; j += 1) {
        if (i === j) continue;
        for (const a of all[i] as number[]) for (const b of all[j] as number[]) rules.push({ from: a, to: b, drop: true });
      }
    }
    this.setFaults([...this.faultRules, ...rules]);
  }

  /** Lose every message from `from` to `to` (one way). */
  dropLink(from: number, to: number): void {
    this.setFaults([...this.faultRules, { from, to, drop: true }]);
  }

  /** Hold every message from `from` to `to` for delayMs (order kept). */
  delayLink(from: number, to: number, delayMs: number): void {
    this.setFaults([...this.faultRules, { from, to, delayMs }]);
  }

  /** Remove every link fault; messages a delayed link still holds go out at once, in order. */
  heal(): void {
    this.setFaults([]);
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
    if (on) this.keepAlive.add(id);
    else this.keepAlive.delete(id);
  }

  resume(id: number): void {
    this.server(id).resume();
  }

  /** Wait until server `id` is in `state` (or the predicate holds); rejects after timeoutMs. */
  waitFor(id: number, state: ServerState, timeoutMs = 30_000): Promise<void> {
    const p = this.server(id);
    return this.waitUntil(() => p.state.state === state, `server ${id} to be ${state}`, timeoutMs, () => {
      const v = p.view();
      return `it is ${v.state}${v.lastError ? `: ${v.lastError}` : ''}`;
    });
  }

  waitForAll(state: ServerState, timeoutMs = 60_000): Promise<void> {
    return this.waitUntil(
      () => [...this.procs.values()].every((p) => p.state.state === state),
      `every server to be ${state}`,
      timeoutMs,
      () =>
        [...this.procs.values()]
          .map((p) => `server ${p.slot.id} ${p.state.state}${p.state.lastError ? ` (${p.state.lastError})` : ''}`)
          .join(', '),
    );
  }

  /** Wait until every server is running or has crashed (a crash does not make the others wait). */
  waitForAllSettled(timeoutMs = 60_000): Promise<void> {
    return this.waitUntil(
      () => [...this.procs.values()].every((p) => p.state.state === 'running' || p.state.state === 'crashed'),
      'every server to run (or fail)',
      timeoutMs,
      () => [...this.procs.values()].map((p) => `server ${p.slot.id} ${p.state.state}`).join(', '),
    );
  }

  /** Wait on a condition re-checked at every change (and every 200 ms), with a deadline. */
  waitUntil(condition: () => boolean, what: string, timeoutMs: number, describe?: () => string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (condition()) {
          cleanup();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new ZooLabError('TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}${describe ? `; ${describe()}` : ''}`));
      }, timeoutMs);
      const ticker = setInterval(check, 200);
      const cleanup = (): void => {
        clearTimeout(timer);
        clearInterval(ticker);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
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
    for (const b of this.backoff.values()) if (b.timer) clearTimeout(b.timer);
    if (this.releaseTimer) clearInterval(this.releaseTimer);
    await Promise.all(
      [...this.procs.values()].map(async (p) => {
        const st = p.state.state;
        if (st === 'starting' || st === 'running') await p.stop().catch(() => p.killNow());
        else if (st === 'stopping') await p.whenExited();
      }),
    );
    await this.admin?.close();
    // the log and trace files are written asynchronously: all of it lands before the folder may go
    await Promise.all([...this.procs.values()].map((p) => p.flushFiles()));
    this.flushLogs();
    this.saveManifest();
    this.ws.lease.release();
    for (const l of this.addedLeases.values()) l.release();
    live.delete(this);
    if (this.logTimer) clearTimeout(this.logTimer);
    for (const b of this.backoff.values()) if (b.timer) clearTimeout(b.timer);
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
    void this.admin?.close();
    for (const p of this.procs.values()) p.disown();
    live.delete(this);
    if (this.logTimer) clearTimeout(this.logTimer);
    if (this.manifestTimer) clearTimeout(this.manifestTimer);
    writeManifest(this.ws, this.pids(), { supervisorPid: null, detached: true });
    this.ws.lease.release();
  }

  /** synchronous last resort (process exit) */
  killAllNow(): void {
    for (const p of this.procs.values()) p.killNow();
  }

  pids(): Map<number, number | null> {
    return new Map([...this.procs.values()].map((p) => [p.slot.id, p.pid]));
  }

  private saveManifest(): void {
    if (this.removeDir && this.closed) return;
    try {
      writeManifest(this.ws, this.pids(), { supervisorPid: this.closed ? null : process.pid, detached: false });
    } catch {
      // the manifest is for other zoolab commands; the ensemble itself does not depend on it
    }
  }

  /** keepAlive: schedule a restart of crashed servers, with backoff */
  private watchCrashes(): void {
    for (const p of this.procs.values()) {
      const id = p.slot.id;
      const b = this.backoff.get(id) ?? { delayMs: 1000, timer: null, runningSinceMs: null };
      this.backoff.set(id, b);
      const st = p.state.state;
      if (st === 'running') {
        b.runningSinceMs ??= Date.now();
        if (Date.now() - b.runningSinceMs > 30_000) b.delayMs = 1000;
      } else b.runningSinceMs = null;
      if (st !== 'crashed' || !this.keepAlive.has(id) || b.timer || this.closed) continue;
      const delay = b.delayMs;
      b.delayMs = Math.min(30_000, b.delayMs * 2);
      b.timer = setTimeout(() => {
        b.timer = null;
        if (this.closed || !this.keepAlive.has(id) || p.state.state !== 'crashed') return;
        this.startServer(id).catch(() => {});
      }, delay);
      b.timer.unref();
    }
  }

  private changed(): void {
    for (const w of [...this.waiters]) w();
    if (this.keepAlive.size > 0) this.watchCrashes();
    if (this.viewQueued) return;
    this.viewQueued = true;
    queueMicrotask(() => {
      this.viewQueued = false;
      const v = this.view();
      for (const l of this.listeners.ensemble) l(v);
    });
    if (!this.closed) this.saveManifestSoon();
  }

  private manifestTimer: NodeJS.Timeout | null = null;
  private saveManifestSoon(): void {
    if (this.manifestTimer) return;
    this.manifestTimer = setTimeout(() => {
      this.manifestTimer = null;
      if (!this.closed) this.saveManifest();
    }, 50);
    this.manifestTimer.unref();
  }

  private queueLog(id: number, lines: string[]): void {
    if (this.listeners.serverLog.size === 0) return;
    const q = this.pendingLogs.get(id) ?? [];
    q.push(...lines);
    if (q.length > 2000) q.splice(0, q.length - 2000);
    this.pendingLogs.set(id, q);
    this.armFlush();
  }

  /** One client request's story (session id in hex, xid) from the retained trace. */
  requestStory(session: string, xid: number): TraceEvent[] {
    return requestStory(this.traceEvents(), session, xid);
  }

  /** Trace events kept in memory (bounded by limits.traceEventsRetainedMax), oldest first. */
  traceEvents(): readonly TraceEvent[] {
    const max = limits.traceEventsRetainedMax;
    const ring = this.traceRing;
    const from = Math.max(0, ring.length - max);
    const out: TraceEvent[] = [];
    for (let i = from; i < ring.length; i += 1) {
      let e = ring[i] as TraceEvent | string;
      if (typeof e === 'string') {
        const parsed = parseTraceLine(e);
        if (parsed === null) continue;
        ring[i] = e = parsed;
      }
      out.push(e);
    }
    return out;
  }

  /** a server's trace line: kept as text until read, parsed now only for listeners */
  private queueTraceLine(line: string): void {
    if (this.listeners.trace.size === 0) {
      const max = limits.traceEventsRetainedMax;
      this.traceRing.push(line);
      if (this.traceRing.length >= 2 * max) this.traceRing.splice(0, this.traceRing.length - max);
      return;
    }
    const e = parseTraceLine(line);
    if (e !== null) this.queueTrace([e]);
  }

  private queueTrace(events: TraceEvent[]): void {
    const max = limits.traceEventsRetainedMax;
    // trimmed when twice the bound, not at every event: cutting the head of a 20,000-event
    // array per event was most of this process's CPU under a traced write load
    for (const e of events) this.traceRing.push(e);
    if (this.traceRing.length >= 2 * max) this.traceRing.splice(0, this.traceRing.length - max);
    if (this.listeners.trace.size === 0) return;
    for (const e of events) this.pendingTrace.push(e);
    if (this.pendingTrace.length >= 2 * max) this.pendingTrace.splice(0, this.pendingTrace.length - max);
    this.armFlush();
  }

  private armFlush(): void {
    if (this.logTimer) return;
    this.logTimer = setTimeout(() => {
      this.logTimer = null;
      this.flushLogs();
    }, this.options.logBatchMs ?? 100);
    this.logTimer.unref();
  }

  private flushLogs(): void {
    if (this.pendingTrace.length > 0) {
      // servers' clocks are the same machine's clock: order by time, then by server
      const pending = this.pendingTrace.length > limits.traceEventsRetainedMax ? this.pendingTrace.slice(-limits.traceEventsRetainedMax) : this.pendingTrace;
      const batch = pending.sort((a, b) => a.t - b.t || a.server - b.server);
      this.pendingTrace = [];
      for (const l of this.listeners.trace) l(batch);
    }
    for (const [server, lines] of this.pendingLogs) {
      if (lines.length === 0) continue;
      for (const l of this.listeners.serverLog) l({ server, lines });
    }
    this.pendingLogs.clear();
  }
}

function parseTraceLine(line: string): TraceEvent | null {
  try {
    return JSON.parse(line) as TraceEvent;
  } catch {
    return null;
  }
}
