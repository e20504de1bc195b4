/**
 * The Backend the app's hosts (Electron main, the web host) serve to the renderer: the calls
 * of src-main/api/contract.ts acting on one local ensemble of real processes, and the pushed
 * `ensemble` / `serverLog` events. Workspaces persist under `dir` (one folder per ensemble
 * size), so reopening the app brings back the same data.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import type { Backend, BackendCalls, BackendEvents, EnsembleView, EventName, SavedEnsembleView, StartEnsembleOptions } from '../api/contract';
import { ZooLabError } from '../common/errors';
import { Ensemble } from './ensemble';
import type { ServerProcessOptions } from './server-process';
import { readManifest } from './workspace';

export interface BackendOptions extends ServerProcessOptions {
  /** parent folder of the workspaces; default ~/.zoolab/ensembles */
  dir?: string;
  /** extra zoo.cfg lines for every server */
  cfg?: Record<string, string>;
}

const LOG_TAIL_BYTES = 256 * 1024;

function tail(path: string, bytes: number): string {
  const size = statSync(path).size;
  const start = Math.max(0, size - bytes);
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    const text = buf.toString('utf8');
    // drop a partial first line
    return start > 0 ? text.slice(text.indexOf('\n') + 1) : text;
  } finally {
    closeSync(fd);
  }
}

/** The workspaces under `root` (each a folder with an ensemble.json), newest first. */
export function listSaved(root: string, runningDir: string | null): SavedEnsembleView[] {
  let names: string[];
  try {
    names = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
  const out: SavedEnsembleView[] = [];
  for (const name of names.slice(0, 200)) {
    const dir = join(root, name);
    try {
      const m = readManifest(dir);
      if (!m) continue;
      out.push({
        name,
        dir,
        voters: m.servers.filter((s) => s.type !== 'observer').length,
        observers: m.servers.filter((s) => s.type === 'observer').length,
        tickTimeMs: m.settings.tickTimeMs,
        connectionString: m.connectionString,
        updatedAt: m.updatedAt,
        running: runningDir === dir,
      });
    } catch {
      // a folder with a broken manifest is not offered; `zoolab up --dir` says what is wrong with it
    }
  }
  return out.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
}

export function createBackend(options: BackendOptions = {}): Backend {
  const root = options.dir ?? join(homedir(), '.zoolab', 'ensembles');
  type Listeners = { [E in EventName]: Set<(p: BackendEvents[E]) => void> };
  const listeners: Listeners = { ensemble: new Set(), trace: new Set(), serverLog: new Set() };
  const emit = <E extends EventName>(event: E, payload: BackendEvents[E]): void => {
    for (const l of listeners[event] as Set<(p: BackendEvents[E]) => void>) {
      try {
        l(payload);
      } catch {
        // one broken listener must not stop the others
      }
    }
  };
  let current: Ensemble | null = null;
  let releaseEveryMs: number | null = null;
  /** the ensemble's own view plus the fault table and step mode, which only the supervisor knows */
  const viewOf = (e: Ensemble, v: EnsembleView = e.view()): EnsembleView => ({
    ...v,
    faults: e.faults().map((r) => ({ ...r })),
    stepMode: e.stepMode,
    held: e.heldMessages().length,
    releaseEveryMs: e.stepMode ? releaseEveryMs : null,
  });
  /** fault and step changes do not change a process: announce them ourselves */
  const announce = (e: Ensemble): void => emit('ensemble', viewOf(e));
  let unsubscribe: (() => void)[] = [];
  /**
   * The ensemble's trace is listened to only while something listens to ours (the app's hosts
   * relay it to the renderer): a trace listener makes the servers trace every write step.
   */
  let traceOff: (() => void) | null = null;
  const syncTrace = (): void => {
    const want = current !== null && listeners.trace.size > 0;
    if (want && traceOff === null && current) traceOff = current.on('trace', (t) => emit('trace', t));
    else if (!want && traceOff !== null) {
      traceOff();
      traceOff = null;
    }
  };
  let busy: Promise<unknown> = Promise.resolve();
  let disposed = false;

  /** ensemble-wide operations run one at a time */
  const serial = <T>(op: () => Promise<T>): Promise<T> => {
    const run = busy.then(op, op);
    busy = run.catch(() => {});
    return run;
  };

  const need = (): Ensemble => {
    if (!current) throw new ZooLabError('NOT_FOUND', 'no ensemble is running: start one first');
    return current;
  };

  const stopCurrent = async (): Promise<void> => {
    const e = current;
    if (!e) return;
    await e.shutdown();
    for (const u of unsubscribe) u();
    unsubscribe = [];
    emit('ensemble', viewOf(e));
    current = null;
    syncTrace();
    releaseEveryMs = null;
  };

  const startIn = (dir: string, o: StartEnsembleOptions): Promise<EnsembleView> =>
    serial(async () => {
      if (disposed) throw new ZooLabError('USAGE', 'the backend is shut down');
      await stopCurrent();
      const e = await Ensemble.start({
        ...options,
        dir,
        servers: o.servers,
        observers: o.observers,
        tickTimeMs: o.tickTimeMs,
        initLimit: o.initLimit,
        syncLimit: o.syncLimit,
        ...(o.reconfig === true ? { reconfig: true } : {}),
        cfg: options.cfg,
        waitRunning: false,
      });
      current = e;
      unsubscribe = [
        e.on('ensemble', (v) => emit('ensemble', viewOf(e, v))),
        e.on('serverLog', (l) => emit('serverLog', l)),
      ];
      syncTrace();
      const view = viewOf(e);
      emit('ensemble', view);
      return view;
    });

  const calls: BackendCalls = {
    async getEnsemble(): Promise<EnsembleView | null> {
      return current ? viewOf(current) : null;
    },
    startEnsemble(o: StartEnsembleOptions): Promise<EnsembleView> {
      const observers = o.observers ?? 0;
      const base = observers > 0 ? `${o.servers}-servers-${observers}-observers` : `${o.servers}-servers`;
      // a dynamic workspace lives apart: its membership is whatever reconfig made it
      return startIn(join(root, o.reconfig === true ? `${base}-dynamic` : base), o);
    },
    async listSavedEnsembles(): Promise<SavedEnsembleView[]> {
      return listSaved(root, current?.dir ?? null);
    },
    async openSavedEnsemble(name: string): Promise<EnsembleView> {
      const saved = (await listSaved(root, null)).find((x) => x.name === name);
      if (!saved) throw new ZooLabError('NOT_FOUND', `no saved ensemble '${name}' in ${root}`);
      return startIn(saved.dir, { servers: saved.voters, observers: saved.observers });
    },
    stopEnsemble: () => serial(stopCurrent),
    async killServer(id) {
      await need().kill(id);
    },
    async stopServer(id) {
      await need().stopServer(id);
    },
    async startServer(id) {
      await need().startServer(id);
    },
    async restartServer(id) {
      await need().restart(id);
    },
    async pauseServer(id) {
      need().pause(id);
    },
    async resumeServer(id) {
      need().resume(id);
    },
    async isolateServer(id) {
      const e = need();
      e.isolate(id);
      announce(e);
    },
    async partitionEnsemble(sides) {
      const e = need();
      e.partition(...sides);
      announce(e);
    },
    async faultLink(from, to, fault) {
      const e = need();
      if ('drop' in fault) e.dropLink(from, to);
      else e.delayLink(from, to, fault.delayMs);
      announce(e);
    },
    async healEnsemble() {
      const e = need();
      e.heal();
      announce(e);
    },
    async setStepMode(on) {
      const e = need();
      e.setStepMode(on);
      if (!on) releaseEveryMs = null;
      announce(e);
    },
    async releaseHeld(count) {
      const e = need();
      const n = e.release(count).length;
      announce(e);
      return n;
    },
    async releaseEvery(intervalMs) {
      const e = need();
      if (intervalMs !== null && !e.stepMode) throw new ZooLabError('USAGE', 'turn step mode on first: only held messages can be released slowly');
      e.releaseEvery(intervalMs);
      releaseEveryMs = intervalMs;
      announce(e);
    },
    async serverHealth(id, max) {
      const samples = need().health(id);
      return samples.slice(-max).map((s) => ({ t: s.t, connections: s.connections, outstanding: s.outstanding, latencyAvgMs: s.latencyAvgMs, latencyMaxMs: s.latencyMaxMs }));
    },
    addServer: (o) => serial(async () => need().addServer({ role: o.role })),
    removeServer: (id) => serial(async () => need().removeServer(id)),
    setServerRole: (id, role) => serial(async () => need().setRole(id, role)),
    async readServerFile(id, file) {
      const p = need().server(id);
      if (file === 'zoo.cfg') return readFileSync(p.slot.configPath, 'utf8');
      if (file === 'zoo.cfg.dynamic') {
        // ZooKeeper 3.5+ servers with reconfigEnabled move the server lines there and point zoo.cfg at it
        const m = /^\s*dynamicConfigFile\s*=\s*(.+?)\s*$/m.exec(readFileSync(p.slot.configPath, 'utf8'));
        if (!m) throw new ZooLabError('NOT_FOUND', `server ${id}'s zoo.cfg names no dynamicConfigFile: its server lines are in zoo.cfg itself`);
        return readFileSync(resolvePath(p.slot.dir, m[1] ?? ''), 'utf8');
      }
      if (file === 'myid') return readFileSync(join(p.slot.dataDir, 'myid'), 'utf8');
      if (file === 'log') {
        await p.flushFiles();
        try {
          return tail(p.slot.logPath, LOG_TAIL_BYTES);
        } catch {
          return p.logs().join('\n');
        }
      }
      throw new ZooLabError('USAGE', `unknown server file '${String(file)}'`);
    },
  };

  return {
    calls,
    on(event, listener) {
      const set = listeners[event] as Set<typeof listener>;
      set.add(listener);
      if (event === 'trace') syncTrace();
      return () => {
        set.delete(listener);
        if (event === 'trace') syncTrace();
      };
    },
    dispose() {
      disposed = true;
      return serial(stopCurrent);
    },
  };
}
