/**
 * Dynamic membership from the window, end to end: `zoolab app --web` with no ensemble, the
 * start screen making 3 servers with "dynamic membership (reconfig)" ticked; then Add server,
 * Make observer, Make voter and Remove clicked in chromium; the membership bar (members, config
 * version) and the cards follow each reconfig.
 *
 * The servers are ZooLab's when they serve a dynamic /zookeeper/config; otherwise, or with
 * E2E_RECONFIG_SERVERS=apache, the app runs Apache ZooKeeper 3.8 in their place
 * (ZOOLAB_NODE=test/support/apache-as-zoolab-server.sh), which proves the UI, the contract and
 * the supervisor against the real thing. Skips when neither can do it.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startApp, type AppProcess } from '../support/app-process';
import { launchBrowser, type BrowserSession } from '../support/browser';
import { waitFor } from '../support/contract-suite';
import { apacheZooKeeperAvailability } from '../support/apache-zookeeper';
import { startEnsemble } from '../../src-main/supervisor';

const root = resolve(import.meta.dirname, '../..');
const resultsDir = join(root, 'test-results');
const deadlineMs = 60_000;

async function zoolabServesReconfig(): Promise<boolean> {
  const probe = await startEnsemble({ servers: 3, reconfig: true, tickTimeMs: 200 });
  try {
    return (await probe.membership()).version >= 0n;
  } finally {
    await probe.stop();
  }
}

async function cardIds(page: Page): Promise<number[]> {
  const ids: number[] = [];
  for (const card of await page.locator('[data-testid^=server-card-]').all()) ids.push(Number((await card.getAttribute('data-testid'))?.replace('server-card-', '')));
  return ids.sort((a, b) => a - b);
}

const members = async (page: Page): Promise<string> => ((await page.textContent('[data-testid=membership-members]')) ?? '').trim();

describe('zoolab app --web: dynamic membership', () => {
  let dir = '';
  let app: AppProcess | null = null;
  let browser: BrowserSession | null = null;
  let servers = '';
  let skipReason = '';
  const pageErrors: string[] = [];

  beforeAll(async () => {
    let env: NodeJS.ProcessEnv = process.env;
    if (process.env.E2E_RECONFIG_SERVERS !== 'apache' && (await zoolabServesReconfig())) servers = 'ZooLab';
    else if (apacheZooKeeperAvailability().available) {
      servers = 'Apache ZooKeeper 3.8';
      env = { ...process.env, ZOOLAB_NODE: join(root, 'test/support/apache-as-zoolab-server.sh') };
    } else {
      skipReason = "ZooLab's servers do not serve a dynamic /zookeeper/config yet and Apache ZooKeeper is not installed";
      return;
    }
    dir = mkdtempSync(join(tmpdir(), 'zoolab-e2e-reconfig-'));
    mkdirSync(resultsDir, { recursive: true });
    app = await startApp(['--dir', join(dir, 'ensembles'), '--servers', '0'], 30_000, env);
    browser = await launchBrowser();
    browser.page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (app) await app.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('start 3 with reconfig; add a server, make it an observer and a voter again, remove another', { timeout: 240_000 }, async (ctx) => {
    if (app === null || browser === null) return ctx.skip(skipReason);
    const { page } = browser;
    await page.goto(app.url);
    await page.click('[data-testid=size-3]');
    await page.fill('input[type=number] >> nth=0', '500');
    await page.check('[data-testid=reconfig]');
    await page.click('[data-testid=start-ensemble]');
    await waitFor('the membership 1 · 2 · 3', async () => (await page.locator('[data-testid=membership-members]').count()) > 0 && (await members(page)) === '1 · 2 · 3', deadlineMs);
    const v1 = ((await page.textContent('[data-testid=membership-version]')) ?? '').trim();
    expect(v1).toMatch(/^0x[0-9a-f]+ \(epoch \d+, #\d+\)$/);

    await page.click('[data-testid=add-server]');
    await waitFor('server 4 in the membership', async () => (await members(page)) === '1 · 2 · 3 · 4', deadlineMs).catch(async (e: Error) => {
      throw new Error(`${e.message}\nnotices: ${await page.locator('[role=alert], .notice').allTextContents().catch(() => [])}\napp output:\n${app?.output().slice(-4000) ?? ''}`);
    });
    expect(await cardIds(page)).toEqual([1, 2, 3, 4]);
    await waitFor('server 4 running', async () => (await page.getAttribute('[data-testid=server-card-4]', 'data-state')) === 'running', deadlineMs);
    expect(((await page.textContent('[data-testid=membership-version]')) ?? '').trim()).not.toBe(v1);
    await page.locator('[aria-labelledby=cluster-title]').screenshot({ path: join(resultsDir, 'app-reconfig-added.png') });
    // the files dialog shows the dynamic config file the servers keep the membership in
    await page.click('[data-testid=files-1]');
    await page.click('[data-testid=server-files] [role=tab]:has-text("zoo.cfg.dynamic")');
    await waitFor('server 1 to list server 4 in zoo.cfg.dynamic', async () => {
      await page.click('[data-testid=server-files] button:has-text("Reload")');
      return /^server\.4=/m.test((await page.textContent('[data-testid=file-text]')) ?? '');
    }, deadlineMs);
    await page.keyboard.press('Escape');

    await page.click('[data-testid=flip-4]');
    await waitFor('server 4 an observer', async () => (await members(page)) === '1 · 2 · 3 · 4 observer', deadlineMs);
    await waitFor('card 4 OBSERVING', async () => ((await page.textContent('[data-testid=server-card-4] [data-testid=role]')) ?? '').includes('OBSERVING'), deadlineMs);
    await page.click('[data-testid=flip-4]');
    await waitFor('server 4 a voter again', async () => (await members(page)) === '1 · 2 · 3 · 4', deadlineMs);
    await waitFor('card 4 FOLLOWING or LEADING', async () => /FOLLOWING|LEADING/.test((await page.textContent('[data-testid=server-card-4] [data-testid=role]')) ?? ''), deadlineMs);

    await page.click('[data-testid=remove-2]');
    await waitFor('server 2 gone', async () => (await members(page)) === '1 · 3 · 4' && (await cardIds(page)).join(',') === '1,3,4', deadlineMs);
    await waitFor('one leader, two followers', async () => {
      const roles = await page.locator('[data-testid^=server-card-] [data-testid=role]').allTextContents();
      return roles.map((r) => r.trim()).sort().join(',') === 'FOLLOWING,FOLLOWING,LEADING';
    }, deadlineMs);
    await page.locator('[aria-labelledby=cluster-title]').screenshot({ path: join(resultsDir, 'app-reconfig.png') });
    expect(pageErrors).toEqual([]);
    console.log(`reconfig e2e ran on ${servers} servers`);
  });
});
