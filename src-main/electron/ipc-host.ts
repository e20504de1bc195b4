/**
 * Both ends of the Electron IPC transport, written against the small slice of Electron's API
 * they use, so they are tested over a real in-process channel without the Electron binary.
 * main.ts and preload.ts pass in the real `ipcMain`, `webContents` and `ipcRenderer`.
 *
 * Main validates every call: the sender must be the window we created, showing our own page,
 * and the method and arguments must fit the contract (`serveCall`).
 */
import type { AppBackend, AppCallName, AppEventName } from '../api/contract';
import type { CallResult, ZoolabFacade } from '../api/rpc';
import { eventNames, ipcChannels, isEventName, serveCall } from '../api/rpc';

export interface IpcSenderInfo {
  sender: { id: number };
  senderFrame?: { url: string } | null;
}

export interface IpcMainLike {
  handle(channel: string, handler: (event: IpcSenderInfo, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface WebContentsLike {
  readonly id: number;
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
}

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/**
 * Serves `backend` to one window. `isTrustedUrl` says whether a frame URL is our renderer
 * (file://…/out/renderer/index.html, or the dev server). Returns a function that detaches.
 */
export function hostBackendOverIpc(
  ipcMain: IpcMainLike,
  backend: AppBackend,
  target: WebContentsLike,
  isTrustedUrl: (url: string) => boolean,
): () => void {
  ipcMain.handle(ipcChannels.call, async (event, method, args): Promise<CallResult> => {
    if (event.sender.id !== target.id) return { ok: false, error: 'call refused: not the ZooLab window' };
    const url = event.senderFrame?.url ?? '';
    if (!isTrustedUrl(url)) return { ok: false, error: `call refused: untrusted page ${url || '(unknown)'}` };
    return serveCall(backend.calls, method, args);
  });
  const unsubscribe = eventNames.map((name: AppEventName) =>
    backend.on(name, (payload) => {
      if (!target.isDestroyed()) target.send(ipcChannels.event, name, payload);
    }),
  );
  return () => {
    ipcMain.removeHandler(ipcChannels.call);
    for (const off of unsubscribe) off();
  };
}

/** The preload's facade: the only thing the page gets (via contextBridge). */
export function createPreloadFacade(ipcRenderer: IpcRendererLike): ZoolabFacade {
  const listeners = new Map<AppEventName, Set<(payload: unknown) => void>>();
  ipcRenderer.on(ipcChannels.event, (_event, name, payload) => {
    if (!isEventName(name)) return;
    for (const l of [...(listeners.get(name) ?? [])]) l(payload);
  });
  return {
    async call(method: AppCallName, args: unknown[]): Promise<unknown> {
      const r = (await ipcRenderer.invoke(ipcChannels.call, method, args)) as CallResult;
      if (!r.ok) throw new Error(r.error);
      return r.value;
    },
    on(event: AppEventName, listener: (payload: unknown) => void): () => void {
      if (!isEventName(event) || typeof listener !== 'function') throw new Error(`unknown event '${String(event)}'`);
      let set = listeners.get(event);
      if (!set) {
        set = new Set();
        listeners.set(event, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
  };
}
