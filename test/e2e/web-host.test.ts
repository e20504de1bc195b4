/**
 * The web host's door: no token, no page and no socket. Real host, real backend (no ensemble
 * started), real HTTP and WebSocket clients on 127.0.0.1.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AppBackend } from '../../src-main/api/contract';
import { startWebHost, type WebHost } from '../../src-main/web/host';
import { createTestBackend } from '../support/contract-suite';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Resolves with the HTTP status the upgrade got (101 when it opened). */
function wsStatus(url: string, headers: Record<string, string> = {}): Promise<{ status: number; ws: WebSocket | null }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, ws: null });
      res.resume();
    });
    ws.once('error', (e) => reject(e));
  });
}

describe('web host: token, Host and Origin checks', () => {
  let dir: string;
  let backend: AppBackend;
  let host: WebHost;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zoolab-webhost-'));
    mkdirSync(join(dir, 'ui', 'assets'), { recursive: true });
    writeFileSync(join(dir, 'ui', 'index.html'), '<!doctype html><title>ZooLab</title>');
    writeFileSync(join(dir, 'ui', 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'outside the UI folder');
    backend = createTestBackend(join(dir, 'ensemble'));
    host = await startWebHost({ backend, staticDir: join(dir, 'ui') });
  });
  afterAll(async () => {
    await host?.close();
    await backend?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the printed URL is on 127.0.0.1 with a long random token', () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/);
  });

  it('no token or a wrong one → 403 on the page and on assets', async () => {
    expect((await get(host.port, '/')).status).toBe(403);
    expect((await get(host.port, '/?token=' + 'a'.repeat(64))).status).toBe(403);
    expect((await get(host.port, '/assets/app.js')).status).toBe(403);
    expect((await get(host.port, '/assets/app.js', { cookie: `zoolab_token_${host.port}=nope` })).status).toBe(403);
  });

  it('with the token → the page, a per-port HttpOnly cookie, no-referrer; then assets load with the cookie', async () => {
    const page = await get(host.port, `/?token=${host.token}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>ZooLab</title>');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const cookie = String(page.headers['set-cookie']);
    expect(cookie).toContain(`zoolab_token_${host.port}=${host.token}`);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const asset = await get(host.port, '/assets/app.js', { cookie: `zoolab_token_${host.port}=${host.token}` });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
  });

  it('a foreign Host header (DNS rebinding) → 403 even with the token', async () => {
    expect((await get(host.port, `/?token=${host.token}`, { host: `evil.example:${host.port}` })).status).toBe(403);
  });

  it('paths cannot leave the UI folder', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const r = await get(host.port, `${p}${p.includes('?') ? '&' : '?'}token=${host.token}`);
      expect(r.body, p).not.toContain('outside the UI folder');
    }
  });

  it('WebSocket: no token → 403, foreign Origin → 403, with the token → open and answering', async () => {
    const base = `ws://127.0.0.1:${host.port}/ws`;
    expect((await wsStatus(base)).status).toBe(403);
    expect((await wsStatus(`${base}?token=${host.token}`, { origin: 'https://evil.example' })).status).toBe(403);
    const ok = await wsStatus(`${base}?token=${host.token}`, { origin: `http://127.0.0.1:${host.port}` });
    expect(ok.status).toBe(101);
    const ws = ok.ws as WebSocket;
    const reply = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
    ws.send(JSON.stringify({ kind: 'call', id: 7, method: 'getEnsemble', args: [] }));
    expect(JSON.parse(await reply)).toEqual({ kind: 'result', id: 7, ok: true, value: null });
    ws.close();
  });

  it('WebSocket: a frame that is not a call closes the socket (1008)', async () => {
    const { ws } = await wsStatus(`ws://127.0.0.1:${host.port}/ws?token=${host.token}`);
    const closed = new Promise<number>((resolve) => ws?.once('close', (code) => resolve(code)));
    ws?.send('not json');
    expect(await closed).toBe(1008);
  });
});
