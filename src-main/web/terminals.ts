/**
 * Terminals beside the supervisor's Backend: each one is the zoolab shell (zkCli-compatible,
 * from src-main/shell) connected to the ensemble or to one server, its output pushed as
 * `terminalOutput` events. Shared by both hosts, so IPC and WebSocket behave the same.
 */
import type { Backend, TerminalCalls } from '../api/contract';
import type { EventHub } from '../api/rpc';
import { ZooLabError } from '../common/errors';
import { openTerminalShell, type ShellZkFactory, type TerminalShell } from '../shell';

export const terminalsMax = 8;

export interface TerminalOptions {
  /** the client binding (the shell's own by default) */
  connect?: ShellZkFactory;
  /** session timeout of each terminal's ZooKeeper session */
  sessionTimeoutMs?: number;
}

/** Terminal calls over `backend`'s ensemble; output and exits go out through `hub`. */
export function createTerminals(backend: Backend, hub: EventHub, options: TerminalOptions = {}): { calls: TerminalCalls; dispose(): Promise<void> } {
  const terminals = new Map<number, TerminalShell>();
  let nextId = 1;

  const need = (id: number): TerminalShell => {
    const t = terminals.get(id);
    if (!t) throw new ZooLabError('NOT_FOUND', `terminal ${id} is closed: open a new one`);
    return t;
  };

  const terminalCalls: TerminalCalls = {
    async openTerminal({ server, columns }) {
      if (terminals.size >= terminalsMax) throw new ZooLabError('USAGE', `at most ${terminalsMax} terminals at once: close one first`);
      const ensemble = await backend.calls.getEnsemble();
      if (!ensemble) throw new ZooLabError('NOT_FOUND', 'no ensemble is running: start one first');
      let connectString = ensemble.connectionString;
      if (server !== null) {
        const s = ensemble.servers.find((x) => x.id === server);
        if (!s) throw new ZooLabError('NOT_FOUND', `no server ${server} in this ensemble`);
        connectString = `${s.host}:${s.clientPort}`;
      }
      const id = nextId++;
      const shell = openTerminalShell({
        server: connectString,
        columns,
        ...(options.sessionTimeoutMs !== undefined ? { timeoutMs: options.sessionTimeoutMs } : {}),
        ...(options.connect ? { connect: options.connect } : {}),
        write: (data) => hub.emit('terminalOutput', { id, data }),
        onExit: (code) => {
          terminals.delete(id);
          hub.emit('terminalExit', { id, code });
        },
      });
      terminals.set(id, shell);
      return { id, connectString };
    },
    async terminalInput(id, data) {
      need(id).input(data);
    },
    async resizeTerminal(id, columns) {
      need(id).resize(columns);
    },
    async closeTerminal(id) {
      const t = terminals.get(id);
      if (!t) return;
      terminals.delete(id);
      await t.dispose();
    },
  };

  return {
    calls: terminalCalls,
    async dispose() {
      const open = [...terminals.values()];
      terminals.clear();
      await Promise.allSettled(open.map((t) => t.dispose()));
    },
  };
}
