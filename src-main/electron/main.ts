/**
 * Electron main: one window showing the built renderer, the backend served to it over IPC.
 * The only file (with preload.ts) that imports electron. Main only orchestrates: the
 * supervisor spawns the same `zoolab server` processes the CLI and the tests use.
 *
 * Started as `electron <app root> [zoolab app flags]` (package.json "main" points here).
 */
import { app, BrowserWindow, ipcMain, session, shell } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AppBackend } from '../api/contract';
import { parseAppArgs, type AppOptions } from '../web/app-options';
import { createAppBackend, startLaunchEnsemble } from '../web/app-backend';
import { hostBackendOverIpc } from './ipc-host';

const here = dirname(fileURLToPath(import.meta.url));
const preloadPath = join(here, '../preload/preload.cjs');
const indexHtml = join(here, '../renderer/index.html');
const indexUrl = pathToFileURL(indexHtml).href;
/** electron-vite's dev server, when run under `electron-vite dev` */
const devUrl = process.env['ELECTRON_RENDERER_URL'] ?? null;

function isTrustedUrl(url: string): boolean {
  if (devUrl !== null && url.startsWith(devUrl)) return true;
  return url === indexUrl || url.startsWith(`${indexUrl}#`) || url.startsWith(`${indexUrl}?`);
}

function appArgs(): AppOptions {
  // argv: [electron, app root, ...flags] (packaged apps drop the app root)
  return parseAppArgs(process.argv.slice(app.isPackaged ? 1 : 2), { ignoreUnknown: true });
}

async function openWindow(backend: AppBackend): Promise<BrowserWindow> {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 720,
    minHeight: 480,
    title: 'ZooLab',
    backgroundColor: '#0d1117',
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  const detach = hostBackendOverIpc(ipcMain, backend, win.webContents, isTrustedUrl);
  win.on('closed', detach);
  // the window never navigates away from our page; links open in the user's browser
  win.webContents.on('will-navigate', (e, url) => {
    if (!isTrustedUrl(url)) e.preventDefault();
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://') || url.startsWith('http://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.once('ready-to-show', () => win.show());
  if (devUrl !== null) await win.loadURL(devUrl);
  else await win.loadFile(indexHtml);
  return win;
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  const options = appArgs();
  await app.whenReady();
  // no camera, microphone, notifications… for anything shown in this app
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));

  const backend = createAppBackend(options);
  let win = await openWindow(backend);
  void startLaunchEnsemble(backend, options.servers, (line) => process.stdout.write(`${line}\n`));

  app.on('second-instance', () => {
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void openWindow(backend).then((w) => (win = w));
  });
  app.on('window-all-closed', () => app.quit());

  let disposed = false;
  app.on('before-quit', (e) => {
    if (disposed) return;
    e.preventDefault();
    void backend.dispose().finally(() => {
      disposed = true;
      app.quit();
    });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());
}

main().catch((err: unknown) => {
  process.stderr.write(`zoolab: ${err instanceof Error ? err.message : String(err)}\n`);
  app.exit(1);
});
