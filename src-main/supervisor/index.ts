/**
 * The Node API for test suites (the role Curator's TestingCluster plays in Java):
 *
 *   const zk = await startEnsemble({ servers: 3 });
 *   // … connect a client to zk.connectionString …
 *   await zk.kill(2);            // kill -9, resolves when the process is gone
 *   await zk.restart(2);         // resolves when server 2 answers srvr again
 *   await zk.stop();             // every process gone, ports released, temp folder removed
 *
 * Every method acts on real server processes on 127.0.0.1 with ports chosen free at run time.
 */
import type { ServerState, ServerView } from '../api/contract';
import { Ensemble } from './ensemble';
import type { EnsembleOptions } from './ensemble';

export { createBackend } from './backend';
export type { BackendOptions } from './backend';
export { Ensemble } from './ensemble';
export type { EnsembleOptions } from './ensemble';
export type { LinkRule } from '../node/peer-network';

export interface StartEnsembleOptions extends Partial<EnsembleOptions> {
  /** voting servers (default 3) */
  servers?: number;
}

export interface LocalEnsemble {
  /** the current servers' client addresses (changes as servers are added or removed) */
  readonly connectionString: string;
  readonly dir: string;
  servers(): ServerView[];
  server(id: number): ServerView;
  /** id of the server srvr reports as leader (or standalone); null if none */
  leader(): number | null;
  /** SIGKILL; resolves when the process is gone */
  kill(id: number): Promise<void>;
  /** SIGTERM (SIGKILL after the deadline); resolves when the process is gone */
  stopServer(id: number): Promise<void>;
  /** start a stopped/crashed server; resolves when it runs */
  start(id: number): Promise<void>;
  /** stop if live, start again; resolves when it runs */
  restart(id: number): Promise<void>;
  pause(id: number): void;
  resume(id: number): void;
  /** empty a stopped server's dataDir (myid stays) */
  wipe(id: number): void;
  /** link faults: cut one server off, split into sides, one-way loss, delay; heal removes all */
  isolate(id: number): void;
  partition(...sides: number[][]): void;
  dropLink(from: number, to: number): void;
  delayLink(from: number, to: number, delayMs: number): void;
  heal(): void;
  /** step mode: quorum messages wait until released (one at a time, or one every intervalMs) */
  stepMode(on: boolean): void;
  release(count?: number): { server: number; from: number; to: number; type: string; zxid?: string }[];
  /**
   * trace every write step (for `ensemble.traceEvents()` / `requestStory()`); off by default
   * unless a `trace` listener or step mode needs it. Same as the `traceWrites` option.
   */
  traceWrites(on: boolean): void;
  waitFor(id: number, state: ServerState, timeoutMs?: number): Promise<void>;
  logs(id: number): readonly string[];
  /**
   * Dynamic membership (start with `reconfig: true`): start one more server and reconfig it in
   * (resolves with its id); reconfig one out and remove it; flip one to observer or back;
   * read the membership from /zookeeper/config.
   */
  addServer(options?: { id?: number; role?: 'participant' | 'observer' }): Promise<number>;
  removeServer(id: number): Promise<void>;
  setRole(id: number, role: 'participant' | 'observer'): Promise<void>;
  membership(): Promise<{ version: bigint; members: { id: number; role: 'participant' | 'observer' }[] }>;
  /** stop everything; nothing is left running */
  stop(): Promise<void>;
  /** the underlying supervisor object, for events and more */
  readonly ensemble: Ensemble;
}

export async function startEnsemble(options: StartEnsembleOptions = {}): Promise<LocalEnsemble> {
  const e = await Ensemble.start({ ...options, servers: options.servers ?? 3 });
  const readyMs = options.readyTimeoutMs ?? 60_000;
  return {
    get connectionString() {
      return e.connectionString;
    },
    dir: e.dir,
    ensemble: e,
    servers: () => e.view().servers,
    server: (id) => e.server(id).view(),
    leader: () => e.leader(),
    kill: (id) => e.kill(id),
    stopServer: (id) => e.stopServer(id),
    async start(id) {
      await e.startServer(id);
      await e.waitFor(id, 'running', readyMs);
    },
    async restart(id) {
      await e.restart(id);
      await e.waitFor(id, 'running', readyMs);
    },
    pause: (id) => e.pause(id),
    wipe: (id) => e.wipe(id),
    isolate: (id) => e.isolate(id),
    partition: (...sides) => e.partition(...sides),
    dropLink: (from, to) => e.dropLink(from, to),
    delayLink: (from, to, ms) => e.delayLink(from, to, ms),
    heal: () => e.heal(),
    stepMode: (on) => e.setStepMode(on),
    release: (count) => e.release(count),
    traceWrites: (on) => e.setTraceWrites(on),
    resume: (id) => e.resume(id),
    waitFor: (id, state, timeoutMs) => e.waitFor(id, state, timeoutMs ?? readyMs),
    logs: (id) => e.logs(id),
    addServer: (o) => e.addServer({ ...o, readyTimeoutMs: readyMs }),
    removeServer: (id) => e.removeServer(id),
    setRole: (id, role) => e.setRole(id, role),
    async membership() {
      const m = await e.membership();
      return { version: m.version, members: m.config.servers.map((s) => ({ id: s.id, role: s.role })) };
    },
    stop: () => e.shutdown(),
  };
}
