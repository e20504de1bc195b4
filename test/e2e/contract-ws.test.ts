/** The contract over the browser path: the real web host and a WebSocket client with the token. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import WebSocket from 'ws';
import { createRpcClient, parseWireMessage } from '../../src-main/api/rpc';
import { startWebHost } from '../../src-main/web/host';
import { contractSuite } from '../support/contract-suite';

const staticDir = mkdtempSync(join(tmpdir(), 'zoolab-static-'));
writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>ZooLab</title>');
afterAll(() => rmSync(staticDir, { recursive: true, force: true }));

contractSuite('WebSocket (web host)', async (backend) => {
  const host = await startWebHost({ backend, staticDir });
  const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws?token=${host.token}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const rpc = createRpcClient((m) => ws.send(JSON.stringify(m)));
  ws.on('message', (data) => {
    const m = parseWireMessage(data.toString());
    if (m) rpc.receive(m);
  });
  ws.on('close', () => rpc.failAll('socket closed'));
  return {
    calls: rpc.calls,
    on: (event, listener) => rpc.on(event, listener),
    raw: (method, args) =>
      new Promise((resolve, reject) => {
        // bypass the typed client: the host must refuse this on its own
        const id = 1_000_000 + Math.floor(Math.random() * 1_000_000);
        const onMessage = (data: WebSocket.RawData) => {
          const r = JSON.parse(data.toString()) as { kind: string; id: number; ok: boolean; value?: unknown; error?: string };
          if (r.kind !== 'result' || r.id !== id) return;
          ws.off('message', onMessage);
          if (r.ok) resolve(r.value);
          else reject(new Error(r.error));
        };
        ws.on('message', onMessage);
        ws.send(JSON.stringify({ kind: 'call', id, method, args }));
      }),
    close: async () => {
      ws.close();
      await host.close();
    },
  };
});
