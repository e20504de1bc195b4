/**
 * Transport-independent halves of the contract: the host side checks and dispatches a call
 * (`serveCall`), the client side turns `BackendCalls` into wire messages and matches replies
 * (`createRpcClient`). The web host, Electron main, the renderer's bridge and the tests all
 * use these, so both transports behave the same. Pure: no node:*, no DOM, no timers.
 */
import type { AppCallName, AppCalls, AppEventName, AppEvents, WireMessage } from './contract';
import { isAppCallName } from './contract';
import { checkCallArgs } from './call-args';

export { checkCallArgs } from './call-args';

export type CallResult = { ok: true; value: unknown } | { ok: false; error: string };

/** every pushed event the hosts relay: the supervisor's and the terminals' */
export const eventNames: readonly AppEventName[] = ['ensemble', 'trace', 'serverLog', 'terminalOutput', 'terminalExit', 'treeChanged'] as const;

export function isEventName(name: unknown): name is AppEventName {
  return typeof name === 'string' && (eventNames as readonly string[]).includes(name);
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Validates and runs one call; never throws: failures come back as `{ ok: false, error }`. */
export async function serveCall(calls: AppCalls, method: unknown, args: unknown): Promise<CallResult> {
  if (!isAppCallName(method)) return { ok: false, error: `unknown method '${String(method)}'` };
  const problem = checkCallArgs(method, args);
  if (problem !== null) return { ok: false, error: problem };
  try {
    const fn = calls[method] as (...a: unknown[]) => Promise<unknown>;
    const value = await fn.apply(calls, args as unknown[]);
    return { ok: true, value: value === undefined ? null : value };
  } catch (e) {
    return { ok: false, error: messageOf(e) };
  }
}

/** One frame's JSON text as an object, or null when it is not JSON or not an object. */
export function parseJsonObject(text: string): Record<string, unknown> | null {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return null;
  }
  return typeof m === 'object' && m !== null ? (m as Record<string, unknown>) : null;
}

/** Parses one incoming frame (JSON text) into a wire message, or null if it is not one. */
export function parseWireMessage(text: string): WireMessage | null {
  const r = parseJsonObject(text);
  if (r === null) return null;
  const m: unknown = r; // checked below, per kind
  switch (r['kind']) {
    case 'call':
      return typeof r['id'] === 'number' && isAppCallName(r['method']) && Array.isArray(r['args']) ? (m as WireMessage) : null;
    case 'result':
      return typeof r['id'] === 'number' && typeof r['ok'] === 'boolean' ? (m as WireMessage) : null;
    case 'event':
      return isEventName(r['name']) ? (m as WireMessage) : null;
    default:
      return null;
  }
}

export type EventListener<E extends AppEventName> = (payload: AppEvents[E]) => void;

/** A listener table, one list per event name. */
export class EventHub {
  private readonly listeners = new Map<AppEventName, Set<(payload: unknown) => void>>();

  on<E extends AppEventName>(event: E, listener: EventListener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const l = listener as (payload: unknown) => void;
    set.add(l);
    return () => {
      set.delete(l);
    };
  }

  /** every listener runs even if one throws; the error is rethrown on its own, not swallowed */
  emit(event: AppEventName, payload: unknown): void {
    for (const l of [...(this.listeners.get(event) ?? [])]) {
      try {
        l(payload);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}

export interface RpcClient {
  readonly calls: AppCalls;
  on<E extends AppEventName>(event: E, listener: EventListener<E>): () => void;
  /** feed every incoming wire message here */
  receive(message: WireMessage): void;
  /** rejects every pending call (the transport closed) */
  failAll(reason: string): void;
  pendingCount(): number;
}

/** Client half: `send` puts a call on the wire; replies and events come back through `receive`. */
export function createRpcClient(send: (message: WireMessage) => void): RpcClient {
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const hub = new EventHub();
  const invoke = (method: AppCallName, args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      try {
        send({ kind: 'call', id, method, args });
      } catch (e) {
        pending.delete(id);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  const calls = callsFromInvoke(invoke);
  return {
    calls,
    on: (event, listener) => hub.on(event, listener),
    receive(message) {
      if (message.kind === 'event') {
        hub.emit(message.name, message.payload);
      } else if (message.kind === 'result') {
        const p = pending.get(message.id);
        if (!p) return;
        pending.delete(message.id);
        if (message.ok) p.resolve(message.value);
        else p.reject(new Error(message.error));
      }
    },
    failAll(reason) {
      for (const p of pending.values()) p.reject(new Error(reason));
      pending.clear();
    },
    pendingCount: () => pending.size,
  };
}

/** Builds typed `AppCalls` from one untyped invoke function (used by both transports). */
export function callsFromInvoke(invoke: (method: AppCallName, args: unknown[]) => Promise<unknown>): AppCalls {
  const c = (method: AppCallName) => (...args: unknown[]) => invoke(method, args);
  return {
    getEnsemble: c('getEnsemble'),
    startEnsemble: c('startEnsemble'),
    stopEnsemble: c('stopEnsemble'),
    killServer: c('killServer'),
    stopServer: c('stopServer'),
    startServer: c('startServer'),
    restartServer: c('restartServer'),
    pauseServer: c('pauseServer'),
    resumeServer: c('resumeServer'),
    readServerFile: c('readServerFile'),
    isolateServer: c('isolateServer'),
    partitionEnsemble: c('partitionEnsemble'),
    faultLink: c('faultLink'),
    healEnsemble: c('healEnsemble'),
    setStepMode: c('setStepMode'),
    releaseHeld: c('releaseHeld'),
    releaseEvery: c('releaseEvery'),
    serverHealth: c('serverHealth'),
    listSavedEnsembles: c('listSavedEnsembles'),
    openSavedEnsemble: c('openSavedEnsemble'),
    addServer: c('addServer'),
    removeServer: c('removeServer'),
    setServerRole: c('setServerRole'),
    openTerminal: c('openTerminal'),
    terminalInput: c('terminalInput'),
    resizeTerminal: c('resizeTerminal'),
    closeTerminal: c('closeTerminal'),
    treeChildren: c('treeChildren'),
    treeGet: c('treeGet'),
    treeSet: c('treeSet'),
    treeCreate: c('treeCreate'),
    treeDelete: c('treeDelete'),
    treeUseServer: c('treeUseServer'),
    treeGetAcl: c('treeGetAcl'),
    treeSetAcl: c('treeSetAcl'),
    treeDigestId: c('treeDigestId'),
    treeExport: c('treeExport'),
    treeImport: c('treeImport'),
    treeCopy: c('treeCopy'),
    treeSearch: c('treeSearch'),
    connectExisting: c('connectExisting'),
    disconnectExisting: c('disconnectExisting'),
  } as AppCalls;
}

/**
 * The facade the Electron preload puts on `window.zoolab` (and nothing else). The renderer's
 * bridge uses it when present, else the WebSocket.
 */
export interface ZoolabFacade {
  call(method: AppCallName, args: unknown[]): Promise<unknown>;
  on(event: AppEventName, listener: (payload: unknown) => void): () => void;
}

/** IPC channel names shared by preload and main. */
export const ipcChannels = { call: 'zoolab:call', event: 'zoolab:event' } as const;
