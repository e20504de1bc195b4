/**
 * "Connect to an existing ensemble" end to end: a ZooLab ensemble started by the test (not
 * by the app) with a chroot and a digest-protected znode made by node-zookeeper-client; the
 * app connects with a multi-host string + chroot + digest user, and its tree and terminal work
 * there. Then Apache ZooKeeper (when installed), then saved ensembles reopened.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnsemble, type LocalEnsemble } from '../../src-main/supervisor';
import { startApacheZooKeeper } from '../support/apache-zookeeper';
import { startApp, type AppProcess } from '../support/app-process';
import { launchBrowser, type BrowserSession } from '../support/browser';
import { backendOptions, waitFor } from '../support/contract-suite';

interface Nzk {
  once(event: 'connected', cb: () => void): void;
  connect(): void;
  close(): void;
  create(path: string, data: Buffer, acls: unknown[], mode: number, cb: (e: Error | null) => void): void;
}
const zookeeper = createRequire(import.meta.url)('node-zookeeper-client') as {
  createClient(cs: string, o: { sessionTimeout: number }): Nzk;
  ACL: new (perms: number, id: unknown) => unknown;
  Id: new (scheme: string, id: string) => unknown;
  Permission: { ALL: number };
  ACL_OPEN_ACL_UNSAFE: unknown[];
  CreateMode: { PERSISTENT: number };
};

const resultsDir = resolve(import.meta.dirname, '../../test-results');
const uiDeadlineMs = 30_000;

async function withClient<T>(cs: string, fn: (c: Nzk) => Promise<T>): Promise<T> {
  const c = zookeeper.createClient(cs, { sessionTimeout: 10_000 });
  await new Promise<void>((r) => {
    c.once('connected', r);
    c.connect();
  });
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}
const create = (c: Nzk, path: string, data: string, acls: unknown[] = zookeeper.ACL_OPEN_ACL_UNSAFE) =>
  new Promise<void>((res, rej) => c.create(path, Buffer.from(data), acls, zookeeper.CreateMode.PERSISTENT, (e) => (e ? rej(e) : res())));

describe('zoolab app --web: connect to an existing ensemble', () => {
  let dir: string;
  let app: AppProcess;
  let browser: BrowserSession;
  let ensemble: LocalEnsemble;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zoolab-e2e-connect-'));
    mkdirSync(resultsDir, { recursive: true });
    ensemble = await startEnsemble({ servers: 3, dir: join(dir, 'outside'), ...backendOptions });
    const digestId = `alice:${createHash('sha1').update('alice:secret-pw').digest('base64')}`;
    await withClient(ensemble.connectionString, async (c) => {
      await create(c, '/app', '');
      await create(c, '/app/config', 'hello-from-outside');
      await create(c, '/app/secret', 'only-alice', [new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('digest', digestId))]);
    });
    app = await startApp(['--dir', join(dir, 'ensembles'), '--servers', '0']);
    browser = await launchBrowser();
    browser.page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  });
  afterAll(async () => {
    await browser?.close();
    if (app) await app.stop();
    if (ensemble) await ensemble.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const row = (path: string) => browser.page.locator(`[data-testid=tree-list] [data-path="${path}"]`);
  const termRows = () => browser.page.locator('[data-testid=terminal] .xterm-rows');
  async function typeInTerminal(line: string): Promise<void> {
    const { page } = browser;
    await page.locator('[data-testid=terminal]').scrollIntoViewIfNeeded();
    await termRows().filter({ hasText: '(CONNECTED)' }).first().waitFor({ timeout: uiDeadlineMs });
    await page.click('[data-testid=terminal] .xterm-host');
    await page.keyboard.type(`${line}\r`);
  }

  it('a multi-host string with a chroot and a digest user: the tree shows the chroot’s children and reads the protected znode', async () => {
    const { page } = browser;
    await page.goto(app.url);
    await page.fill('[data-testid=connect-string]', `${ensemble.connectionString}/app`);
    await page.fill('[data-testid=connect-user]', 'alice');
    await page.fill('[data-testid=connect-password]', 'secret-pw');
    await page.screenshot({ path: join(resultsDir, 'app-connect.png') });
    await page.click('[data-testid=connect-existing]');
    await page.waitForSelector('[data-testid=external-panel]', { timeout: uiDeadlineMs });
    expect(await page.textContent('[data-testid=external-chroot]')).toBe('/app');
    expect(await page.textContent('[data-testid=external-user]')).toContain('alice');
    await row('/config').waitFor({ timeout: uiDeadlineMs });
    await row('/secret').click();
    await waitFor('the protected data', async () => (await page.locator('[data-testid=node-data]').inputValue()) === 'only-alice');
  });

  it('the terminal runs against it too (chroot and auth included)', async () => {
    await typeInTerminal('get /config');
    await termRows().filter({ hasText: 'hello-from-outside' }).waitFor({ timeout: uiDeadlineMs });
    await typeInTerminal('create /made-in-the-terminal x');
    await row('/made-in-the-terminal').waitFor({ timeout: uiDeadlineMs });
    await browser.page.screenshot({ path: join(resultsDir, 'app-external.png'), fullPage: false });
  });

  it('without the digest user the protected znode is refused with a sentence', async () => {
    const { page } = browser;
    await page.click('[data-testid=disconnect]');
    await page.waitForSelector('[data-testid=connect-form]', { timeout: uiDeadlineMs });
    await page.fill('[data-testid=connect-string]', `${ensemble.connectionString}/app`);
    await page.fill('[data-testid=connect-user]', '');
    await page.click('[data-testid=connect-existing]');
    await page.waitForSelector('[data-testid=external-panel]', { timeout: uiDeadlineMs });
    await row('/secret').click();
    await page.locator('[data-testid=tree]').getByText(/not allowed to read \/secret/).first().waitFor({ timeout: uiDeadlineMs });
    await page.click('[data-testid=disconnect]');
    await page.waitForSelector('[data-testid=connect-form]', { timeout: uiDeadlineMs });
  });

  it('a chroot that does not exist: refused, saying so', async () => {
    const { page } = browser;
    await page.fill('[data-testid=connect-string]', `${ensemble.connectionString}/nope`);
    await page.click('[data-testid=connect-existing]');
    await page.getByText(/chroot \/nope does not exist/).first().waitFor({ timeout: uiDeadlineMs });
  });

  it('Apache ZooKeeper: the tree shows /zookeeper and the terminal lists it', async (ctx) => {
    const zk = await startApacheZooKeeper();
    if (!zk.available) {
      ctx.skip(zk.reason);
      return;
    }
    try {
      const { page } = browser;
      await page.fill('[data-testid=connect-string]', `127.0.0.1:${zk.port}`);
      await page.click('[data-testid=connect-existing]');
      await page.waitForSelector('[data-testid=external-panel]', { timeout: uiDeadlineMs });
      await row('/zookeeper').waitFor({ timeout: uiDeadlineMs });
      await typeInTerminal('create /from-zoolab-app v');
      await row('/from-zoolab-app').waitFor({ timeout: uiDeadlineMs });
      await page.click('[data-testid=disconnect]');
      await page.waitForSelector('[data-testid=connect-form]', { timeout: uiDeadlineMs });
    } finally {
      await zk.stop();
    }
  });

  it('saved ensembles: start 1 server, stop all, reopen it from the list with its data', async () => {
    const { page } = browser;
    await page.click('[data-testid=size-1]');
    await page.click('[data-testid=start-ensemble]');
    await page.waitForSelector('[data-testid=server-card-1][data-state=running]', { timeout: uiDeadlineMs });
    await typeInTerminal('create /kept across-reopen');
    await row('/kept').waitFor({ timeout: uiDeadlineMs });
    await page.click('button:has-text("Stop all")');
    await page.waitForSelector('[data-testid=saved-ensembles]', { timeout: uiDeadlineMs });
    await page.screenshot({ path: join(resultsDir, 'app-start-saved.png') });
    await page.click('[data-testid=open-saved-1-servers]');
    await page.waitForSelector('[data-testid=server-card-1][data-state=running]', { timeout: uiDeadlineMs });
    await row('/kept').waitFor({ timeout: uiDeadlineMs });
  });

  it('the page logged no errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
