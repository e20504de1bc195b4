/**
 * A standalone `zoolab server` process (a 1-server ensemble) serving real clients: the
 * ServerCore wired to sockets, the txn log with fsync, and recovery after kill -9.
 */
import { createRequire } from 'node:module';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../../src-main/client/index';
import type { ZkClient } from '../../src-main/client/index';
import { parseSrvr } from '../../src-main/node/four-letter-words';
import { askFourLetterWord } from '../../src-main/supervisor/four-letter-client';
import { startEnsemble } from '../../src-main/supervisor';
import type { LocalEnsemble } from '../../src-main/supervisor';
import { waitUntil } from '../support/processes';

const text = (b: Uint8Array | null): string => new TextDecoder().decode(b ?? new Uint8Array());

describe('standalone server: client protocol over TCP, durable across kill -9', () => {
  let zk: LocalEnsemble;
  const clients: ZkClient[] = [];
  const connect = async (): Promise<ZkClient> => {
    const c = await connectClient(zk.connectionString, { sessionTimeoutMs: 10_000 }, 10_000);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    // traceWrites: a test below reads the applied txn from the trace
    zk = await startEnsemble({ servers: 1, tickTimeMs: 200, pollIntervalMs: 200, traceWrites: true });
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await zk?.stop();
  });

  it('srvr: Mode standalone, a fresh tree has ZooKeeper\'s 5 nodes', async () => {
    expect(zk.server(1).role).toBe('standalone');
    await zk.ensemble.waitUntil(() => zk.ensemble.health(1).length >= 2, 'two health samples', 10_000);
    expect(zk.ensemble.health(1).at(-1)).toMatchObject({ role: 'standalone', zxid: '0x0', outstanding: 0, latencyAvgMs: 0 });
    const r = parseSrvr(await askFourLetterWord('127.0.0.1', zk.server(1).clientPort, 'srvr'));
    expect(r).toMatchObject({ serving: true, mode: 'standalone', nodeCount: 5 });
  });

  it('create, get, set, children, delete through our client', async () => {
    const c = await connect();
    expect(await c.create('/app', 'v1')).toBe('/app');
    await c.create('/app/a', 'x');
    const got = await c.getData('/app');
    expect(text(got.data)).toBe('v1');
    const stat = await c.setData('/app', 'v2', got.stat.version);
    expect(stat.version).toBe(1);
    expect(await c.getChildren('/app')).toEqual(['a']);
    await c.delete('/app/a');
    expect(await c.exists('/app/a')).toBeNull();
  });

  it('thousands of pipelined requests on one connection are all answered (read throttling)', async () => {
    const c = await connect();
    await c.create('/burst', 'b');
    const replies = await Promise.all(Array.from({ length: 5000 }, () => c.exists('/burst')));
    expect(replies.every((s) => s !== null && s.version === 0)).toBe(true);
  });

  it('a data watch fires on the other client\'s write', async () => {
    const a = await connect();
    const b = await connect();
    await a.create('/w', '0');
    const fired = new Promise<string>((resolve) => {
      void a.getData('/w', (e) => resolve(`${e.type}:${e.path}`));
    });
    await b.setData('/w', '1');
    expect(await fired).toMatch(/:\/w$/);
  });

  it('node-zookeeper-client (another implementation) talks to it too', async () => {
    const require = createRequire(import.meta.url);
    const nzk = require('node-zookeeper-client') as {
      createClient(cs: string, o?: object): {
        connect(): void;
        once(ev: string, f: () => void): void;
        create(p: string, d: Buffer, cb: (e: Error | null, p?: string) => void): void;
        getData(p: string, cb: (e: Error | null, d?: Buffer) => void): void;
        close(): void;
      };
    };
    const client = nzk.createClient(zk.connectionString, { sessionTimeout: 10_000 });
    try {
      await new Promise<void>((resolve) => {
        client.once('connected', resolve);
        client.connect();
      });
      await new Promise<void>((resolve, reject) => client.create('/nzk', Buffer.from('hello'), (e) => (e ? reject(e) : resolve())));
      const data = await new Promise<Buffer>((resolve, reject) => client.getData('/nzk', (e, d) => (e ? reject(e) : resolve(d as Buffer))));
      expect(data.toString()).toBe('hello');
    } finally {
      client.close();
    }
  });

  it('trace: the server\'s events reach the supervisor (session created, txns applied)', async () => {
    const c = await connect();
    await c.create('/traced', 'x');
    await zk.ensemble.waitUntil(
      () => zk.ensemble.traceEvents().some((e) => e.kind === 'txn.applied' && e.path === '/traced'),
      'the create of /traced in the trace',
      10_000,
    );
    const kinds = new Set(zk.ensemble.traceEvents().map((e) => e.kind));
    expect(kinds.has('session.created')).toBe(true);
    expect(zk.ensemble.traceEvents().every((e) => e.server === 1)).toBe(true);
  });

  it('kill -9 and restart: acknowledged writes survive (txn log + recovery)', async () => {
    const c = await connect();
    for (let i = 0; i < 20; i += 1) await c.create(`/durable-${i}`, `value-${i}`);
    const before = parseSrvr(await askFourLetterWord('127.0.0.1', zk.server(1).clientPort, 'srvr'));
    await zk.kill(1);
    expect(readdirSync(join(zk.server(1).dataDir, 'version-2')).some((n) => n.startsWith('log.'))).toBe(true);
    await zk.restart(1);
    const after = parseSrvr(await askFourLetterWord('127.0.0.1', zk.server(1).clientPort, 'srvr'));
    expect(after.zxid).toBe(before.zxid);
    expect(after.nodeCount).toBe(before.nodeCount);
    const d = await connect();
    for (let i = 0; i < 20; i += 1) expect(text((await d.getData(`/durable-${i}`)).data)).toBe(`value-${i}`);
  });

  it('a client session outlives a server restart (same session secret): its ephemeral node stays', async () => {
    const c = await connect();
    await c.create('/mine', 'e', { mode: 1 });
    await zk.kill(1);
    await zk.restart(1);
    await waitUntil(
      async () => {
        try {
          return text((await c.getData('/mine')).data) === 'e';
        } catch {
          return false;
        }
      },
      'the same client to read its ephemeral after the restart',
      20_000,
      100,
    );
  });

  it('wipe: a stopped server restarts with an empty tree, its myid kept', async () => {
    await zk.stopServer(1);
    expect(() => zk.wipe(2)).toThrow(/no server 2/);
    zk.wipe(1);
    expect(readdirSync(zk.server(1).dataDir)).toEqual(['myid']);
    await zk.start(1);
    const r = parseSrvr(await askFourLetterWord('127.0.0.1', zk.server(1).clientPort, 'srvr'));
    expect(r).toMatchObject({ nodeCount: 5, zxid: 0n });
  });
});
