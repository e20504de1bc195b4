/**
 * A real in-process IPC channel standing in for Electron's: the main and renderer halves talk
 * over a worker_threads MessageChannel, so every payload is structured-cloned exactly as
 * Electron's IPC does. The code under test (hostBackendOverIpc, createPreloadFacade) is the
 * code main.ts and preload.ts run; only Electron's transport is replaced.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { IpcMainLike, IpcRendererLike, IpcSenderInfo, WebContentsLike } from '../../src-main/electron/ipc-host';

type Msg =
  | { kind: 'invoke'; id: number; channel: string; args: unknown[] }
  | { kind: 'reply'; id: number; ok: true; value: unknown }
  | { kind: 'reply'; id: number; ok: false; error: string }
  | { kind: 'send'; channel: string; args: unknown[] };

export interface IpcPairOptions {
  /** the window main serves */
  webContentsId?: number;
  /** who the renderer says it is (another window when it differs from webContentsId) */
  senderId?: number;
  /** the page the renderer frame shows */
  frameUrl: string;
}

export interface IpcPair {
  ipcMain: IpcMainLike;
  webContents: WebContentsLike;
  ipcRenderer: IpcRendererLike;
  close(): void;
}

export function createIpcPair(options: IpcPairOptions): IpcPair {
  const { port1: mainPort, port2: rendererPort }: { port1: MessagePort; port2: MessagePort } = new MessageChannel();
  const webContentsId = options.webContentsId ?? 1;
  const sender: IpcSenderInfo = { sender: { id: options.senderId ?? webContentsId }, senderFrame: { url: options.frameUrl } };
  const handlers = new Map<string, (event: IpcSenderInfo, ...args: unknown[]) => Promise<unknown>>();
  let destroyed = false;

  mainPort.on('message', (m: Msg) => {
    if (m.kind !== 'invoke') return;
    const handler = handlers.get(m.channel);
    if (!handler) {
      mainPort.postMessage({ kind: 'reply', id: m.id, ok: false, error: `No handler registered for '${m.channel}'` } satisfies Msg);
      return;
    }
    handler(sender, ...m.args).then(
      (value) => mainPort.postMessage({ kind: 'reply', id: m.id, ok: true, value } satisfies Msg),
      (e: unknown) => mainPort.postMessage({ kind: 'reply', id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) } satisfies Msg),
    );
  });

  const ipcMain: IpcMainLike = {
    handle(channel, handler) {
      if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
      handlers.set(channel, handler);
    },
    removeHandler(channel) {
      handlers.delete(channel);
    },
  };
  const webContents: WebContentsLike = {
    id: webContentsId,
    send(channel, ...args) {
      if (!destroyed) mainPort.postMessage({ kind: 'send', channel, args } satisfies Msg);
    },
    isDestroyed: () => destroyed,
  };

  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, Set<(event: unknown, ...args: unknown[]) => void>>();
  rendererPort.on('message', (m: Msg) => {
    if (m.kind === 'reply') {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (p && m.ok) p.resolve(m.value);
      else if (p && !m.ok) p.reject(new Error(`Error invoking remote method: ${m.error}`));
    } else if (m.kind === 'send') {
      for (const l of [...(listeners.get(m.channel) ?? [])]) l({}, ...m.args);
    }
  });
  const ipcRenderer: IpcRendererLike = {
    invoke(channel, ...args) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        rendererPort.postMessage({ kind: 'invoke', id, channel, args } satisfies Msg);
      });
    },
    on(channel, listener) {
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
      }
      set.add(listener);
      return ipcRenderer;
    },
    removeListener(channel, listener) {
      listeners.get(channel)?.delete(listener);
      return ipcRenderer;
    },
  };

  return {
    ipcMain,
    webContents,
    ipcRenderer,
    close() {
      destroyed = true;
      for (const p of pending.values()) p.reject(new Error('channel closed'));
      pending.clear();
      mainPort.close();
      rendererPort.close();
    },
  };
}
