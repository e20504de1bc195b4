/** The ServerCore's sessions, connections and watches as the four-letter words want them. */
import type { ServerCore } from '../server/server-core';
import type { FourLetterDetails } from './four-letter-words';

export function coreDetails(core: ServerCore, tickTimeMs: number): FourLetterDetails {
  return {
    connections: () => core.connections(),
    watchSummary: () => core.watchSummary(),
    watchesBySession: () => core.watchesBySession(),
    watchesByPath: () => core.watchesByPath(),
    dump: () => core.dump(),
    globalSessions: core.stats().sessionCount,
    tickTimeMs,
  };
}
