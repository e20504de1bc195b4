/** The ServerCore's sessions, connections and watches as the four-letter words want them. */
import type { ServerCore } from '../server/server-core';
import type { ServerCoreOptions } from '../server/types';
import type { FourLetterDetails } from './four-letter-words';

export function coreDetails(core: ServerCore, tickTimeMs: number): FourLetterDetails {
  return {
    connections: () => core.connections(),
    watchSummary: () => core.watchSummary(),
    watchesBySession: () => core.watchesBySession(),
    watchesByPath: () => core.watchesByPath(),
    dump: () => core.dump(),
    digestLog: () => core.tree.digestLog(),
    globalSessions: core.stats().sessionCount,
    tickTimeMs,
  };
}

/** ZooKeeper's container/TTL reaper system properties (no zookeeper. prefix), from SERVER_JVMFLAGS. */
export function containerOptions(sys: ReadonlyMap<string, string>): Pick<ServerCoreOptions, 'containerCheckIntervalMs' | 'containerMaxPerMinute' | 'containerMaxNeverUsedIntervalMs'> {
  const num = (key: string): number | undefined => {
    const v = sys.get(key);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const out: Pick<ServerCoreOptions, 'containerCheckIntervalMs' | 'containerMaxPerMinute' | 'containerMaxNeverUsedIntervalMs'> = {};
  const check = num('znode.container.checkIntervalMs');
  const perMinute = num('znode.container.maxPerMinute');
  const neverUsed = num('znode.container.maxNeverUsedIntervalMs');
  if (check !== undefined && check > 0) out.containerCheckIntervalMs = check;
  if (perMinute !== undefined && perMinute > 0) out.containerMaxPerMinute = perMinute;
  if (neverUsed !== undefined) out.containerMaxNeverUsedIntervalMs = neverUsed;
  return out;
}
