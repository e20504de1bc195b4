/**
 * The contract over Electron's IPC path: the real preload facade and the real main-side host,
 * joined by an in-process structured-clone channel (the Electron binary cannot run here).
 */
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { callsFromInvoke } from '../../src-main/api/rpc';
import { createPreloadFacade, hostBackendOverIpc } from '../../src-main/electron/ipc-host';
import { backendOptions, contractSuite } from '../support/contract-suite';
import { withAppServices } from '../../src-main/web/app-backend';
import { createIpcPair } from '../support/ipc-pair';
import { createBackend } from '../../src-main/supervisor/backend';

const pageUrl = pathToFileURL('/opt/zoolab/out/renderer/index.html').href;
const trusted = (url: string) => url === pageUrl;

contractSuite('IPC (preload facade ↔ main)', async (backend) => {
  const pair = createIpcPair({ frameUrl: pageUrl });
  const detach = hostBackendOverIpc(pair.ipcMain, backend, pair.webContents, trusted);
  const facade = createPreloadFacade(pair.ipcRenderer);
  return {
    calls: callsFromInvoke((method, args) => facade.call(method, args)),
    on: (event, listener) => facade.on(event, listener as (payload: unknown) => void),
    raw: (method, args) => facade.call(method as never, args as unknown[]),
    close: async () => {
      detach();
      pair.close();
    },
  };
});

describe('IPC host: sender validation', () => {
  it('a call from another window → refused, backend untouched', async () => {
    const backend = withAppServices(createBackend(backendOptions));
    const pair = createIpcPair({ frameUrl: pageUrl, webContentsId: 1, senderId: 2 });
    const detach = hostBackendOverIpc(pair.ipcMain, backend, pair.webContents, trusted);
    try {
      await expect(createPreloadFacade(pair.ipcRenderer).call('getEnsemble', [])).rejects.toThrow(/not the ZooLab window/);
    } finally {
      detach();
      pair.close();
      await backend.dispose();
    }
  });
  it('a call from our window showing a foreign page → refused', async () => {
    const backend = withAppServices(createBackend(backendOptions));
    const pair = createIpcPair({ frameUrl: 'https://example.com/' });
    const detach = hostBackendOverIpc(pair.ipcMain, backend, pair.webContents, trusted);
    try {
      await expect(createPreloadFacade(pair.ipcRenderer).call('getEnsemble', [])).rejects.toThrow(/untrusted page https:\/\/example.com/);
    } finally {
      detach();
      pair.close();
      await backend.dispose();
    }
  });
});
