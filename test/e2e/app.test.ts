/**
 * The browser shell end to end: the real `zoolab app --web` process, its real 3-server
 * ensemble, Debian's chromium clicking the real buttons.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createRequire } from 'node:module';
import { startApp, type AppProcess } from '../support/app-process';
import { launchBrowser, type BrowserSession } from '../support/browser';
import { isAlive, waitFor } from '../support/contract-suite';

/** node-zookeeper-client (untyped): an independent client making the big parent */
interface NzkTransaction {
  create(path: string): NzkTransaction;
  commit(cb: (e: Error | null) => void): void;
}
interface Nzk {
  transaction(): NzkTransaction;
  once(event: 'connected', cb: () => void): void;
  connect(): void;
  close(): void;
  create(path: string, cb: (e: Error | null) => void): void;
  create(path: string, data: Buffer, mode: number, cb: (e: Error | null) => void): void;
}
const zookeeper = createRequire(import.meta.url)('node-zookeeper-client') as {
  createClient(cs: string, o: { sessionTimeout: number }): Nzk;
  CreateMode: { EPHEMERAL: number };
};

const resultsDir = resolve(import.meta.dirname, '../../test-results');
const uiDeadlineMs = 30_000;

function statusOf(url: string): Promise<number> {
  return new Promise((res, rej) => {
    const req = request(url, (r) => {
      r.resume();
      res(r.statusCode ?? 0);
    });
    req.on('error', rej);
    req.end();
  });
}

async function cardState(page: Page, id: number): Promise<string | null> {
  return page.getAttribute(`[data-testid=server-card-${id}]`, 'data-state');
}

async function waitForState(page: Page, id: number, states: string[]): Promise<void> {
  const selector = states.map((s) => `[data-testid=server-card-${id}][data-state=${s}]`).join(', ');
  await page.waitForSelector(selector, { timeout: uiDeadlineMs });
}

describe('zoolab app --web', () => {
  let dir: string;
  let app: AppProcess;
  let browser: BrowserSession;
  const pids = new Set<number>();
  const pageErrors: string[] = [];

  const collectPids = async (page: Page) => {
    for (const t of await page.locator('[data-testid=pid]').allTextContents()) if (/^\d+$/.test(t.trim())) pids.add(Number(t.trim()));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zoolab-e2e-'));
    mkdirSync(resultsDir, { recursive: true });
    app = await startApp(['--dir', join(dir, 'ensemble')]);
    browser = await launchBrowser();
    browser.page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    browser.page.on('console', (m) => {
      if (m.type() === 'error' && !/403/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
  });
  afterAll(async () => {
    await browser?.close();
    if (app) await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a tokened URL on 127.0.0.1; without the token the page is refused (403)', async () => {
    expect(app.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/);
    const bare = app.url.replace(/\?token=.*/, '');
    expect(await statusOf(bare)).toBe(403);
    const page = await browser.context.newPage();
    const r = await page.goto(bare);
    expect(r?.status()).toBe(403);
    await page.close();
  });

  it('shows 3 running servers and the connection string', async () => {
    const { page } = browser;
    await page.goto(app.url);
    for (const id of [1, 2, 3]) await waitForState(page, id, ['running']);
    const conn = await page.textContent('[data-testid=connection-string] code');
    expect(conn?.split(',')).toHaveLength(3);
    await collectPids(page);
    expect(pids.size).toBe(3);
  });

  it('shows zoo.cfg of a server on demand', async () => {
    const { page } = browser;
    await page.click('[data-testid=files-1]');
    await page.waitForSelector('[data-testid=file-text]:has-text("server.3=127.0.0.1")', { timeout: uiDeadlineMs });
    // the log is searchable: text, or /regex/
    await page.click('[data-testid=server-files] .tab:has-text("log")');
    await page.waitForSelector('[data-testid=file-text]:has-text("serving clients on")', { timeout: uiDeadlineMs });
    await page.fill('[data-testid=log-search]', '/serving clients on 127\\.0\\.0\\.1/');
    await page.waitForSelector('[data-testid=log-count]:has-text("1 of")', { timeout: uiDeadlineMs });
    expect((await page.textContent('[data-testid=file-text]'))?.trim().split('\n')).toHaveLength(1);
    await page.fill('[data-testid=log-search]', 'no-such-line-anywhere');
    await page.waitForSelector('[data-testid=log-count]:has-text("0 of")', { timeout: uiDeadlineMs });
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid=server-files]', { state: 'detached' });
  });

  it('kill server 2 → stopped or crashed; restart → running again', async () => {
    const { page } = browser;
    await page.click('[data-testid=kill-2]');
    await waitForState(page, 2, ['crashed', 'stopped']);
    expect(['crashed', 'stopped']).toContain(await cardState(page, 2));
    await page.waitForSelector('[data-testid=quorum]:has-text("2 of 3")', { timeout: uiDeadlineMs });
    await page.screenshot({ path: join(resultsDir, 'app-server-2-killed.png') });
    await page.click('[data-testid=restart-2]');
    await waitForState(page, 2, ['running']);
    for (const id of [1, 3]) expect(await cardState(page, id)).toBe('running');
    await page.waitForSelector('[data-testid=quorum]:has-text("3 of 3")', { timeout: uiDeadlineMs });
    await collectPids(page);
    await page.screenshot({ path: join(resultsDir, 'app-cluster.png') });
  });

  it('the event log tells the story of the kill and the restart', async () => {
    const { page } = browser;
    await page.waitForSelector('[data-testid=event-log] li:has-text("you asked to kill it")', { timeout: uiDeadlineMs });
    await page.waitForSelector('[data-testid=event-log] li:has-text("server 2"):has-text("running → ")', { timeout: uiDeadlineMs });
    await page.fill('[data-testid=event-log] input', 'restart');
    const shown = await page.locator('[data-testid=event-log] li').allTextContents();
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.every((t) => t.includes('restart'))).toBe(true);
    await page.fill('[data-testid=event-log] input', '');
  });

  it('keyboard: 3 then s stops server 3, s again starts it', async () => {
    const { page } = browser;
    await page.click('#cluster-title');
    await page.keyboard.press('3');
    await page.waitForSelector('[data-testid=server-card-3].selected');
    await page.keyboard.press('s');
    await waitForState(page, 3, ['stopped']);
    await page.keyboard.press('s');
    await waitForState(page, 3, ['running']);
    await collectPids(page);
    await page.keyboard.press('Escape');
  });

  it('pause a follower (SIGSTOP) → shown paused, the quorum counts it out; resume → running', async () => {
    const { page } = browser;
    await page.locator('[data-testid^=server-card-].leader').waitFor({ timeout: 45_000 });
    const follower = page.locator('[data-testid^=server-card-]:not(.leader)').first();
    const id = Number((await follower.getAttribute('data-testid'))?.replace('server-card-', ''));
    await page.click(`[data-testid=pause-${id}]`);
    await page.locator(`[data-testid=server-card-${id}] [data-testid=state]:has-text("paused")`).waitFor({ timeout: uiDeadlineMs });
    await page.locator('[data-testid=quorum]:has-text("2 of 3")').waitFor({ timeout: uiDeadlineMs });
    await page.click(`[data-testid=resume-${id}]`);
    await page.locator(`[data-testid=server-card-${id}] [data-testid=state]:has-text("running")`).waitFor({ timeout: uiDeadlineMs });
    await page.locator('[data-testid=quorum]:has-text("3 of 3")').waitFor({ timeout: uiDeadlineMs });
  });

  it('a write typed in the terminal is drawn: PROPOSAL, ACKs, majority, COMMIT; get reads it back', async () => {
    const { page } = browser;
    const rows = page.locator('[data-testid=terminal] .xterm-rows');
    // xterm draws only while the pane is on screen
    await page.locator('[data-testid=terminal]').scrollIntoViewIfNeeded();
    await rows.filter({ hasText: '(CONNECTED)' }).waitFor({ timeout: uiDeadlineMs });
    await page.click('[data-testid=terminal] .xterm-host');
    await page.keyboard.type('create /e2e-node hello-from-the-terminal\r');
    await rows.filter({ hasText: 'Created /e2e-node' }).waitFor({ timeout: uiDeadlineMs });
    await page.keyboard.type('get /e2e-node\r');
    await rows.filter({ hasText: /e2e-node.*hello-from-the-terminal.*\(CONNECTED\) 2\]/ }).waitFor({ timeout: uiDeadlineMs });
    await page.click('#cluster-title');
    await page.click('[role=tab]:has-text("Write path")');
    await page.click('[data-testid=write-path] .item:has-text("create"):has-text("/e2e-node")', { timeout: uiDeadlineMs });
    for (let i = 0; i < 40; i++) await page.click('[data-testid=write-path] button:has-text("▶")');
    const diagram = page.locator('[data-testid=write-path] svg');
    await diagram.locator('text=/majority reached: [23] ACKs/').waitFor({ timeout: uiDeadlineMs });
    await diagram.locator('text=/PROPOSAL 0x/').first().waitFor();
    await diagram.locator('text=/COMMIT 0x/').first().waitFor();
    await page.locator('section[aria-label="protocol views"]').screenshot({ path: join(resultsDir, 'app-write-path.png') });
  });

  it('tree: the terminal’s znode appears live; edit and save; a concurrent change is a conflict that keeps the edit; create a child; delete the subtree', async () => {
    const { page } = browser;
    const row = (path: string) => page.locator(`[data-testid=tree-list] [data-path="${path}"]`);
    const rows = page.locator('[data-testid=terminal] .xterm-rows');
    const typeInTerminal = async (line: string) => {
      await page.locator('[data-testid=terminal]').scrollIntoViewIfNeeded();
      await page.click('[data-testid=terminal] .xterm-host');
      await page.keyboard.type(`${line}\r`);
    };
    await row('/e2e-node').waitFor({ timeout: uiDeadlineMs });
    await row('/e2e-node').click();
    const data = page.locator('[data-testid=node-data]');
    await waitFor('the node data in the editor', async () => (await data.inputValue()) === 'hello-from-the-terminal');
    await data.fill('edited-in-the-tree');
    await page.click('[data-testid=node-save]');
    await page.locator('[data-testid=node-editor] .pill:has-text("v1")').waitFor({ timeout: uiDeadlineMs });
    await typeInTerminal('get /e2e-node');
    await rows.filter({ hasText: 'edited-in-the-tree' }).waitFor({ timeout: uiDeadlineMs });

    // someone else writes: the editor says so; saving over a stale version is refused, the draft stays
    await typeInTerminal('set /e2e-node from-the-terminal');
    await page.locator('[data-testid=node-editor] .banner').waitFor({ timeout: uiDeadlineMs });
    await data.fill('my concurrent edit');
    await page.click('[data-testid=node-save]');
    await page.locator('[data-testid=tree] .error:has-text("version conflict")').waitFor({ timeout: uiDeadlineMs });
    expect(await data.inputValue()).toBe('my concurrent edit');

    await page.fill('[data-testid=create-child] input[aria-label="child name"]', 'child');
    await page.fill('[data-testid=create-child] input[aria-label="child data"]', 'kid');
    await page.click('[data-testid=create-child] button[type=submit]');
    await row('/e2e-node/child').waitFor({ timeout: uiDeadlineMs });
    await page.locator('[data-testid=node-path]:has-text("/e2e-node/child")').waitFor();
    await page.locator('[data-testid=tree]').screenshot({ path: join(resultsDir, 'app-tree.png') });

    await row('/e2e-node').click();
    await page.locator('[data-testid=node-path]:text-is("/e2e-node")').waitFor();
    await page.click('[data-testid=node-delete]');
    await page.check('[role=alertdialog] input[type=checkbox]');
    await page.click('[data-testid=node-delete-confirm]');
    await row('/e2e-node').waitFor({ state: 'detached', timeout: uiDeadlineMs });
    await typeInTerminal('ls /');
    await rows.filter({ hasText: '[zookeeper]' }).waitFor({ timeout: uiDeadlineMs });
    await page.click('#cluster-title');
  });

  it('tree: a parent with 100,000 children (made by node-zookeeper-client in multis) expands and scrolls smoothly, rendering only the rows in view', async () => {
    const { page } = browser;
    const connect = (await page.textContent('[data-testid=connection-string] code')) ?? '';
    const client = zookeeper.createClient(connect, { sessionTimeout: 30_000 });
    await new Promise<void>((resolve) => {
      client.once('connected', () => resolve());
      client.connect();
    });
    const create = (path: string) => new Promise<void>((resolve, reject) => client.create(path, (e: Error | null) => (e ? reject(e) : resolve())));
    await create('/big');
    // 6-character names: the 100,000-name reply stays under the 1 MiB packet limit (jute.maxbuffer)
    const total = 100_000;
    const names = Array.from({ length: total }, (_, i) => `n${String(i).padStart(5, '0')}`);
    const multi = (batch: string[]) =>
      new Promise<void>((resolve, reject) => {
        const t = client.transaction();
        for (const n of batch) t.create(`/big/${n}`);
        t.commit((e) => (e ? reject(e) : resolve()));
      });
    const madeBy = Date.now() + 90_000;
    const batches: string[][] = [];
    for (let i = 0; i < names.length; i += 1000) batches.push(names.slice(i, i + 1000));
    // 8 multis in flight at a time, bounded in time
    for (let i = 0; i < batches.length; i += 8) {
      if (Date.now() > madeBy) throw new Error(`only ${i * 1000} of ${total} children made within 90 s`);
      await Promise.all(batches.slice(i, i + 8).map(multi));
    }
    client.close();
    const row = (path: string) => page.locator(`[data-testid=tree-list] [data-path="${path}"]`);
    await row('/big').waitFor({ timeout: uiDeadlineMs });
    const expandedAt = Date.now();
    await page.click('[aria-label="expand /big"]');
    await row('/big/n00000').waitFor({ timeout: uiDeadlineMs });
    const expandMs = Date.now() - expandedAt;
    expect(expandMs).toBeLessThan(10_000);
    expect(await page.locator('[data-testid=tree-list] [role=treeitem]').count()).toBeLessThan(80);
    // scroll through the whole list, one position per frame, timing every frame
    const frames = await page.locator('[data-testid=tree-list]').evaluate(
      (el, steps) =>
        new Promise<number[]>((resolve) => {
          const raf = (globalThis as unknown as { requestAnimationFrame(cb: (t: number) => void): number }).requestAnimationFrame.bind(globalThis);
          const gaps: number[] = [];
          let last = performance.now();
          let i = 0;
          const tick = (now: number) => {
            gaps.push(now - last);
            last = now;
            el.scrollTop = ((i * 7919) % steps) * (el.scrollHeight / steps);
            el.dispatchEvent(new Event('scroll'));
            if (++i < steps) raf(tick);
            else resolve(gaps.slice(1));
          };
          raf(tick);
        }),
      120,
    );
    frames.sort((a, b) => a - b);
    const median = frames[Math.floor(frames.length / 2)] ?? 0;
    const p95 = frames[Math.floor(frames.length * 0.95)] ?? 0;
    console.log(`100,000 children: expanded in ${expandMs} ms; scrolling frame times median ${median.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`);
    expect(median).toBeLessThan(50);
    expect(p95).toBeLessThan(150);
    await page.locator('[data-testid=tree-list]').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await row('/big/n99999').waitFor({ timeout: uiDeadlineMs });
    expect(await page.locator('[data-testid=tree-list] [role=treeitem]').count()).toBeLessThan(80);
    await page.locator('[data-testid=tree]').screenshot({ path: join(resultsDir, 'app-tree-100k.png') });
    await page.fill('input[aria-label="find a path"]', 'n94321');
    await row('/big/n94321').waitFor({ timeout: uiDeadlineMs });
    expect(await page.locator('[data-testid=tree-list] [role=treeitem]').count()).toBe(1);
    await page.fill('input[aria-label="find a path"]', '');
    await page.click('[aria-label="collapse /big"]');
    await row('/big/n00000').waitFor({ state: 'detached' });
  }, 180_000);

  it('tree: an ephemeral znode vanishes live when its client’s session ends', async () => {
    const { page } = browser;
    const connect = (await page.textContent('[data-testid=connection-string] code')) ?? '';
    const client = zookeeper.createClient(connect, { sessionTimeout: 10_000 });
    await new Promise<void>((resolve) => {
      client.once('connected', () => resolve());
      client.connect();
    });
    await new Promise<void>((resolve, reject) =>
      client.create('/lease', Buffer.from('held'), zookeeper.CreateMode.EPHEMERAL, (e: Error | null) => (e ? reject(e) : resolve())),
    );
    const row = page.locator('[data-testid=tree-list] [data-path="/lease"]');
    await row.waitFor({ timeout: uiDeadlineMs });
    await row.click();
    await page.locator('[data-testid=node-editor] .pill:has-text("ephemeral")').waitFor({ timeout: uiDeadlineMs });
    client.close();
    await row.waitFor({ state: 'detached', timeout: uiDeadlineMs });
    await page.locator('[data-testid=event-log] li:has-text("closed")').first().waitFor({ timeout: uiDeadlineMs });
  });

  it('kill the leader → the others elect a new one within seconds; the election view says why', async () => {
    const { page } = browser;
    // a settled ensemble first: one LEADING, the others FOLLOWING (restarted servers rejoin)
    await waitFor(
      'one LEADING and the others FOLLOWING',
      async () => (await page.locator('[data-testid=role]').allTextContents()).every((t) => /^(LEADING|FOLLOWING)$/.test(t.trim())),
      45_000,
    );
    const leaderCard = page.locator('[data-testid^=server-card-].leader');
    await leaderCard.waitFor({ timeout: uiDeadlineMs });
    const old = Number((await leaderCard.getAttribute('data-testid'))?.replace('server-card-', ''));
    await page.click(`[data-testid=kill-${old}]`);
    await page.waitForSelector(`[data-testid^=server-card-].leader:not([data-testid=server-card-${old}])`, { timeout: 45_000 });
    await page.click('[data-testid=election-tab]');
    await page.waitForSelector('[data-testid=election] .why:has-text("wins")', { timeout: uiDeadlineMs });
    await page.locator('section[aria-label="protocol views"]').screenshot({ path: join(resultsDir, 'app-election.png') });
    await page.click(`[data-testid=restart-${old}]`);
    await waitForState(page, old, ['running']);
    await collectPids(page);
  });

  it('Stop all → the start screen; start 1 server; its terminal reads and writes', async () => {
    const { page } = browser;
    await collectPids(page);
    await page.click('button:has-text("Stop all")');
    await page.waitForSelector('[data-testid=start-ensemble]', { timeout: uiDeadlineMs });
    await page.click('[data-testid=size-1]');
    await page.click('[data-testid=start-ensemble]');
    await waitForState(page, 1, ['running']);
    expect(await page.locator('[data-testid^=server-card-]').count()).toBe(1);
    await collectPids(page);
    const rows = page.locator('[data-testid=terminal] .xterm-rows');
    // xterm draws only while the pane is on screen
    await page.locator('[data-testid=terminal]').scrollIntoViewIfNeeded();
    await rows.filter({ hasText: '(CONNECTED)' }).waitFor({ timeout: uiDeadlineMs });
    await page.click('[data-testid=terminal] .xterm-host');
    await page.keyboard.type('create /solo standalone\r');
    await rows.filter({ hasText: 'Created /solo' }).waitFor({ timeout: uiDeadlineMs });
    await page.keyboard.type('ls /\r');
    await rows.filter({ hasText: '[solo, zookeeper]' }).waitFor({ timeout: uiDeadlineMs });
    // the tree is the new ensemble's, live: /solo, and nothing left from the 3-server one
    await page.locator('[data-testid=tree-list] [data-path="/solo"]').waitFor({ timeout: uiDeadlineMs });
    expect(await page.locator('[data-testid=tree-list] [data-path="/big"]').count()).toBe(0);
    await page.click('#cluster-title');
  });

  it('light theme is readable too (screenshot)', async () => {
    const { page } = browser;
    await page.click('button[aria-label="Switch to light theme"]');
    await page.waitForSelector('html[data-theme=light]');
    await page.screenshot({ path: join(resultsDir, 'app-cluster-light.png') });
    await page.click('button[aria-label="Switch to dark theme"]');
  });

  it('the page logged no errors (CSP, scripts, Vue warnings)', () => {
    expect(pageErrors).toEqual([]);
  });

  it('SIGTERM stops the app and leaves no server process behind', async () => {
    const { code } = await app.stop();
    expect(code, app.output()).toBe(0);
    await waitFor('every server process to exit', async () => [...pids].every((pid) => !isAlive(pid)), 10_000);
  });
});
