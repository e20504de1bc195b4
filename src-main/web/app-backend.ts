/**
 * What both shells do at launch: make the backend and start the ensemble asked for (3
 * servers by default), reporting progress in lines a person reads in the terminal.
 */
import type { AppBackend } from '../api/contract';
import { createBackend } from '../supervisor/backend';
import type { AppOptions } from './app-options';
import { withTerminals } from './terminals';

/** the supervisor's backend (real server processes) plus terminals running the zoolab shell */
export function createAppBackend(options: Pick<AppOptions, 'dir'>): AppBackend {
  return withTerminals(options.dir === null ? createBackend() : createBackend({ dir: options.dir }));
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
