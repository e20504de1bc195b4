/**
 * The window under load: a node-zookeeper-client writing ~1,000 sets per second for ~5 s to
 * the app's 3-server ensemble, while the page's frame times are measured with
 * requestAnimationFrame (the write path, the event log and the tree all listening). The
 * renderer batches every event stream per frame, so frames must stay short.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type AppProcess } from '../support/app-process';
import { launchBrowser, type BrowserSession } from '../support/browser';

interface Nzk {
  once(event: 'connected', cb: () => void): void;
  connect(): void;
  close(): void;
  create(path: string, cb: (e: Error | null) => void): void;
  setData(path: string, data: Buffer, cb: (e: Error | null) => void): void;
}
const zookeeper = createRequire(import.meta.url)('node-zookeeper-client') as { createClient(cs: string, o: { sessionTimeout: number }): Nzk };

const resultsDir = resolve(import.meta.dirname, '../../test-results');
const uiDeadlineMs = 30_000;
const writesPerSecond = 1000;
const loadMs = 5000;

describe('zoolab app --web: responsive under 1,000 writes/s', () => {
  let dir: string;
  let app: AppProcess;
  let browser: BrowserSession;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zoolab-e2e-load-'));
    mkdirSync(resultsDir, { recursive: true });
    app = await startApp(['--dir', join(dir, 'ensembles')]);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    if (app) await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('frames stay short while a client writes 1,000 times a second; the write path keeps up', async () => {
    const { page } = browser;
    await page.goto(app.url);
    for (const id of [1, 2, 3]) await page.waitForSelector(`[data-testid=server-card-${id}][data-state=running]`, { timeout: uiDeadlineMs });
    await page.waitForSelector('[data-testid^=server-card-].leader', { timeout: uiDeadlineMs });
    await page.click('[role=tab]:has-text("Write path")');
    const cs = (await page.textContent('[data-testid=connection-string] code')) ?? '';
    const client = zookeeper.createClient(cs, { sessionTimeout: 10_000 });
    await new Promise<void>((r) => {
      client.once('connected', r);
      client.connect();
    });
    await new Promise<void>((res, rej) => client.create('/load', (e) => (e ? rej(e) : res())));

    // frame times for the whole load, measured in the page
    const frames = page.evaluate(
      (ms) =>
        new Promise<number[]>((resolve) => {
          const raf = (globalThis as unknown as { requestAnimationFrame(cb: (t: number) => void): number }).requestAnimationFrame.bind(globalThis);
          const gaps: number[] = [];
          const start = performance.now();
          let last = start;
          const tick = (now: number) => {
            gaps.push(now - last);
            last = now;
            if (now - start < ms) raf(tick);
            else resolve(gaps.slice(1));
          };
          raf(tick);
        }),
      loadMs + 500,
    );

    // ~1,000 sets per second: 20 every 20 ms, each tick catching up to the schedule
    let sent = 0;
    let acked = 0;
    let failed = 0;
    const began = Date.now();
    await new Promise<void>((done) => {
      const timer = setInterval(() => {
        const due = Math.min(Math.floor(((Date.now() - began) * writesPerSecond) / 1000), (loadMs * writesPerSecond) / 1000);
        while (sent < due) {
          sent++;
          client.setData('/load', Buffer.from(String(sent)), (e) => (e ? failed++ : acked++));
        }
        if (Date.now() - began >= loadMs) {
          clearInterval(timer);
          done();
        }
      }, 20);
    });
    const gaps = (await frames).sort((a, b) => a - b);
    const until = Date.now() + uiDeadlineMs;
    while (acked + failed < sent && Date.now() < until) await new Promise((r) => setImmediate(r));
    client.close();
    const rate = (acked / (Date.now() - began)) * 1000;
    const median = gaps[Math.floor(gaps.length / 2)] ?? 0;
    const p95 = gaps[Math.floor(gaps.length * 0.95)] ?? 0;
    const worst = gaps.at(-1) ?? 0;
    console.log(`load: ${acked} sets acked (${failed} failed) ≈ ${rate.toFixed(0)}/s; ${gaps.length} frames, median ${median.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, worst ${worst.toFixed(1)} ms`);
    expect(failed).toBe(0);
    expect(acked).toBe(sent);
    expect(gaps.length).toBeGreaterThan((loadMs / 1000) * 20);
    expect(median).toBeLessThan(34);
    expect(p95).toBeLessThan(100);
    // still responsive right after: a click answers at once, the write path lists the sets
    const clickedAt = Date.now();
    await page.click('[data-testid=election-tab]');
    await page.waitForSelector('[data-testid=election]', { timeout: 5000 });
    expect(Date.now() - clickedAt).toBeLessThan(2000);
    await page.click('[role=tab]:has-text("Write path")');
    await page.locator('[data-testid=write-path] .item:has-text("setData")').first().waitFor({ timeout: uiDeadlineMs });
    await page.screenshot({ path: join(resultsDir, 'app-under-load.png') });
  }, 120_000);
});
