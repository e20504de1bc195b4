/**
 * What both shells do at launch: make the backend and start the ensemble asked for (3
 * servers by default), reporting progress in lines a person reads in the terminal.
 */
import type { AppBackend, AppCalls, AppEventName, AppEvents, Backend } from '../api/contract';
import { EventHub } from '../api/rpc';
import { createBackend } from '../supervisor/backend';
import type { AppOptions } from './app-options';
import { createTerminals, type TerminalOptions } from './terminals';
import { createTreeHost, type TreeHostOptions } from './tree-host';
import { withExternal } from './external';

/** the supervisor's backend (real server processes) plus terminals running the zoolab shell */
export function createAppBackend(options: Pick<AppOptions, 'dir'>): AppBackend {
  // TTL znodes (the tree offers them) need extended types, as in ZooKeeper
  const cfg = { extendedTypesEnabled: 'true' };
  return withAppServices(options.dir === null ? createBackend({ cfg }) : createBackend({ dir: options.dir, cfg }));
}

/**
 * What both hosts serve: the supervisor's Backend, plus terminals (the zoolab shell) and the
 * znode tree, whose events share one hub.
 */
export function withAppServices(local: Backend, options: TerminalOptions & TreeHostOptions = {}): AppBackend {
  const hub = new EventHub();
  const external = withExternal(local, options.connect);
  const backend = external.backend;
  const terminals = createTerminals(backend, hub, { ...options, connect: external.connect });
  const tree = createTreeHost(backend, hub, { ...options, connect: external.connect });
  const calls: AppCalls = { ...backend.calls, ...terminals.calls, ...tree.calls, ...external.calls };
  const own = new Set<AppEventName>(['terminalOutput', 'terminalExit', 'treeChanged']);
  return {
    calls,
    on<E extends AppEventName>(event: E, listener: (payload: AppEvents[E]) => void): () => void {
      if (own.has(event)) return hub.on(event, listener);
      return backend.on(event as 'ensemble', listener as (p: AppEvents['ensemble']) => void);
    },
    async dispose() {
      await Promise.allSettled([terminals.dispose(), tree.dispose()]);
      await backend.dispose();
    },
  };
}

/** Starts `servers` servers (none when 0). Never throws: a failure is reported and the UI offers a retry. */
export async function startLaunchEnsemble(backend: AppBackend, servers: number, log: (line: string) => void): Promise<boolean> {
  if (servers === 0) return true;
  log(`starting a local ensemble of ${servers} server${servers === 1 ? '' : 's'}…`);
  try {
    const e = await backend.calls.startEnsemble({ servers });
    log(`ensemble in ${e.dir}`);
    log(`connection string: ${e.connectionString}`);
    return true;
  } catch (err) {
    log(`could not start the ensemble: ${err instanceof Error ? err.message : String(err)}`);
    return false;
  }
}
