/**
 * Preload (sandboxed, context-isolated): exposes `window.zoolab` with exactly two functions,
 * call(method, args) and on(event, listener). No Node API, no ipcRenderer reaches the page.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createPreloadFacade } from './ipc-host';

const facade = createPreloadFacade(ipcRenderer);
contextBridge.exposeInMainWorld('zoolab', {
  call: (method: Parameters<typeof facade.call>[0], args: unknown[]) => facade.call(method, args),
  on: (event: Parameters<typeof facade.on>[0], listener: (payload: unknown) => void) => facade.on(event, listener),
});
