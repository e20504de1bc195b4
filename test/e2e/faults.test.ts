/**
 * Faults from the window, end to end: the real `zoolab app --web` started with no ensemble,
 * the start screen making 3 voters + 1 observer, then isolate / split / heal / step mode
 * clicked in chromium against the real server processes.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startApp, type AppProcess } from '../support/app-process';
import { launchBrowser, type BrowserSession } from '../support/browser';
import { waitFor } from '../support/contract-suite';
import { createRequire } from 'node:module';

interface Nzk {
  once(event: 'connected', cb: () => void): void;
  connect(): void;
  close(): void;
  create(path: string, cb: (e: Error | null) => void): void;
}
const zookeeper = createRequire(import.meta.url)('node-zookeeper-client') as { createClient(cs: string, o: { sessionTimeout: number }): Nzk };

const resultsDir = resolve(import.meta.dirname, '../../test-results');
const uiDeadlineMs = 30_000;
/** an election after a fault: the followers notice the silent leader after syncLimit × tickTime */
const electionDeadlineMs = 45_000;

async function roles(page: Page): Promise<Record<number, string>> {
  const out: Record<number, string> = {};
  for (const card of await page.locator('[data-testid^=server-card-]').all()) {
    const id = Number((await card.getAttribute('data-testid'))?.replace('server-card-', ''));
    out[id] = ((await card.locator('[data-testid=role]').textContent()) ?? '').trim();
  }
  return out;
}

async function leaderId(page: Page): Promise<number | null> {
  const card = page.locator('[data-testid^=server-card-].leader');
  if ((await card.count()) !== 1) return null;
  return Number((await card.getAttribute('data-testid'))?.replace('server-card-', ''));
}

describe('zoolab app --web: faults', () => {
  let dir: string;
  let app: AppProcess;
  let browser: BrowserSession;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zoolab-e2e-faults-'));
    mkdirSync(resultsDir, { recursive: true });
    app = await startApp(['--dir', join(dir, 'ensembles'), '--servers', '0']);
    browser = await launchBrowser();
    browser.page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    browser.page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
    });
  });
  afterAll(async () => {
    await browser?.close();
    if (app) await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('start screen: 3 voters + 1 observer with a short tickTime; the observer shows OBSERVING', async () => {
    const { page } = browser;
    await page.goto(app.url);
    await page.click('[data-testid=size-3]');
    await page.fill('input[type=number] >> nth=0', '500');
    await page.fill('[data-testid=observers]', '1');
    await page.screenshot({ path: join(resultsDir, 'app-start.png') });
    await page.click('[data-testid=start-ensemble]');
    await waitFor(
      'LEADING, FOLLOWING ×2, OBSERVING',
      async () => {
        const r = Object.values(await roles(page)).map((t) => t.replace('non-voting', '')).sort();
        return r.join(',') === 'FOLLOWING,FOLLOWING,LEADING,OBSERVING';
      },
      electionDeadlineMs,
    );
    expect(await page.textContent('[data-testid=quorum]')).toContain('3 of 3 voters');
  });

  it('sparklines fill from srvr samples', async () => {
    const { page } = browser;
    await waitFor('3 health samples for server 1', async () => Number(await page.getAttribute('[data-testid=health-1]', 'data-samples')) >= 3, uiDeadlineMs);
  });

  it('isolate the leader → the others elect a new one; the event log says so; heal → it rejoins as a follower', async () => {
    const { page } = browser;
    const old = await waitFor('a leader', () => leaderId(page));
    await page.click(`[data-testid=isolate-${old}]`);
    await page.waitForSelector(`[data-testid=server-card-${old}] [data-testid=isolated]`, { timeout: uiDeadlineMs });
    await page.waitForSelector(`[data-testid=fault-words]:has-text("server ${old} isolated")`, { timeout: uiDeadlineMs });
    const next = await waitFor('a new leader', async () => {
      const l = await leaderId(page);
      return l !== null && l !== old ? l : null;
    }, electionDeadlineMs);
    expect(next).not.toBe(old);
    await page.locator('[data-testid=event-log]').getByText(`fault injected: server ${old} isolated`).first().waitFor({ timeout: uiDeadlineMs });
    await page.screenshot({ path: join(resultsDir, 'app-isolated.png') });
    await page.click('[data-testid=heal]');
    await page.waitForSelector('[data-testid=fault-bar][data-healthy=true]', { timeout: uiDeadlineMs });
    await waitFor(`server ${old} FOLLOWING again`, async () => (await roles(page))[old] === 'FOLLOWING', electionDeadlineMs);
    expect(await leaderId(page)).toBe(next);
    await page.locator('[data-testid=event-log]').getByText('faults healed').first().waitFor({ timeout: uiDeadlineMs });
  });

  it('split 1 2 from 3 4 → shown as a split; heal', async () => {
    const { page } = browser;
    await page.click('[data-testid=split-pick-1]');
    await page.click('[data-testid=split-pick-2]');
    await page.click('[data-testid=split]');
    await page.waitForSelector('[data-testid=fault-words]:has-text("split 1 2 | 3 4")', { timeout: uiDeadlineMs });
    await page.locator('[aria-labelledby=cluster-title]').screenshot({ path: join(resultsDir, 'app-split.png') });
    await page.click('[data-testid=heal]');
    await page.waitForSelector('[data-testid=fault-bar][data-healthy=true]', { timeout: uiDeadlineMs });
  });

  it('step mode: a write is held message by message; Release 1 and ▶ let them go one at a time; off lets the rest go', async () => {
    const { page } = browser;
    // the split's minority side rejoins after the heal: every server back in its role
    await waitFor('LEADING, FOLLOWING ×2, OBSERVING again', async () => {
      const r = Object.values(await roles(page)).map((t) => t.replace('non-voting', '')).sort();
      return r.join(',') === 'FOLLOWING,FOLLOWING,LEADING,OBSERVING';
    }, electionDeadlineMs);
    // the terminal's session is open (opening one is a write, which step mode would hold)
    const rows = page.locator('[data-testid=terminal] .xterm-rows');
    await page.locator('[data-testid=terminal]').scrollIntoViewIfNeeded();
    await rows.filter({ hasText: '(CONNECTED)' }).waitFor({ timeout: uiDeadlineMs });
    await page.click('[role=tab]:has-text("Write path")');
    await page.click('[data-testid=step-mode]');
    await page.waitForSelector('[data-testid=step-controls][data-step-mode=true]', { timeout: uiDeadlineMs });
    // a write from the terminal: its PROPOSALs are held by the leader
    await page.click('[data-testid=terminal] .xterm-host');
    await page.keyboard.type('create /stepped one-message-at-a-time\r');
    const held = async () => Number(/(\d+) held/.exec((await page.textContent('[data-testid=held-count]')) ?? '')?.[1] ?? '0');
    await waitFor('held messages', async () => (await held()) > 0, uiDeadlineMs);
    await page.locator('[data-testid=step-controls]').scrollIntoViewIfNeeded();
    await page.locator('section[aria-label="protocol views"]').screenshot({ path: join(resultsDir, 'app-step-mode.png') });
    // release every held message one at a time until the create is answered (bounded)
    let released = 0;
    for (let i = 0; i < 60; i++) {
      const next = await waitFor('a held message or the reply', async () => ((await rows.filter({ hasText: 'Created /stepped' }).count()) > 0 ? 'done' : (await held()) > 0 ? 'held' : null), uiDeadlineMs);
      if (next === 'done') break;
      await page.click(i % 2 === 0 ? '[data-testid=release-one]' : '[data-testid=step-forward]');
      released++;
    }
    // PROPOSAL to 2 followers + the observer's INFORM/COMMITs at least: several messages went one by one
    expect(released).toBeGreaterThanOrEqual(2);
    await rows.filter({ hasText: 'Created /stepped' }).waitFor({ timeout: uiDeadlineMs });
    await page.click('[data-testid=step-mode]');
    await page.waitForSelector('[data-testid=step-controls][data-step-mode=false]', { timeout: uiDeadlineMs });
  });

  it('a slow link leader → follower: the follower’s own copy of the tree (tree pinned to it) lags behind the write', async () => {
    const { page } = browser;
    const leader = await waitFor('a leader', () => leaderId(page));
    const r = await roles(page);
    const follower = Number(Object.keys(r).find((id) => r[Number(id)] === 'FOLLOWING'));
    // the tree's session opens on the follower first (opening one needs a committed txn, which the delay would hold)
    await page.selectOption('[data-testid=tree-server]', String(follower));
    const row = (path: string) => page.locator(`[data-testid=tree-list] [data-path="${path}"]`);
    await page.locator('[data-testid=tree]').scrollIntoViewIfNeeded();
    await waitFor('the follower’s tree', async () => {
      // (textContent() on a locator waits for it to appear: count first)
      const error = page.locator('[data-testid=tree] .error');
      const err = (await error.count()) > 0 ? await error.first().textContent() : null;
      if (err) throw new Error(`tree error: ${err}`);
      return (await row('/zookeeper').count()) > 0;
    });
    await page.selectOption('[data-testid=link-from]', String(leader));
    await page.selectOption('[data-testid=link-to]', String(follower));
    await page.fill('[data-testid=link-ms]', '800');
    await page.click('[data-testid=link-fault]');
    await page.waitForSelector(`[data-testid=fault-words]:has-text("${leader}→${follower} delayed 800 ms")`, { timeout: uiDeadlineMs });
    // write through the leader with an independent client; time until the follower's copy shows it
    const leaderAddress = ((await page.locator(`[data-testid=server-card-${leader}] dd.mono`).first().textContent()) ?? '').trim();
    const client = zookeeper.createClient(leaderAddress, { sessionTimeout: 10_000 });
    await new Promise<void>((res) => {
      client.once('connected', res);
      client.connect();
    });
    await new Promise<void>((res, rej) => client.create('/lagging', (e) => (e ? rej(e) : res())));
    const ackedAt = Date.now();
    client.close();
    await row('/lagging').waitFor({ timeout: uiDeadlineMs });
    const lagMs = Date.now() - ackedAt;
    // the follower applies the COMMIT only once the 800 ms link delay lets it through
    expect(lagMs).toBeGreaterThan(500);
    await page.click('[data-testid=heal]');
    await page.waitForSelector('[data-testid=fault-bar][data-healthy=true]', { timeout: uiDeadlineMs });
    await page.selectOption('[data-testid=tree-server]', '');
  });

  it('the page logged no errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
