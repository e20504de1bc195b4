/**
 * src-main/client against the real Apache ZooKeeper 3.8 installed on this machine: every op,
 * watches (one-shot, persistent, recursive, removal), multi with a failing op, multiRead,
 * digest auth + ACLs, auth failure, reconnect to the next host with session resume and watch
 * re-registration, session expiry, close. Then every entry of ZooKeeper's own txn log is
 * decoded with decodeTxnEntry and re-encoded byte for byte. Skips (with the reason) when
 * ZooKeeper or Java is not installed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Acls,
  KeeperError,
  connectClient,
  digestAuthId,
  op,
  type WatchedEvent,
  type ZkClient,
} from '../../src-main/client/index';
import { ErrorCode } from '../../src-main/common/error-codes';
import { AddWatchMode, CreateFlags, JuteReader, OpCode, WatcherEventType, WatcherType, decodeTxnEntry, encodeTxnEntry, fromUtf8, utf8, type TxnEntry } from '../../src-main/jute/index';
import { apacheZooKeeperAvailability, startApacheZooKeeper, type ApacheZooKeeper } from '../support/apache-zookeeper';

const availability = apacheZooKeeperAvailability();
const TICK_MS = 500;

async function until(cond: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function keeperError(p: Promise<unknown>): Promise<KeeperError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KeeperError) return e;
    throw e;
  }
  throw new Error('expected a KeeperError');
}

/** A TCP relay whose connections the test can cut, to force a client's connection loss. */
async function startRelay(targetPort: number): Promise<{ port: number; cutAll(): void; block(blocked: boolean): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let blocked = false;
  const server: Server = createServer((inbound) => {
    if (blocked) {
      inbound.destroy();
      return;
    }
    const outbound = createConnection({ host: '127.0.0.1', port: targetPort });
    sockets.add(inbound);
    sockets.add(outbound);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    const end = (): void => {
      inbound.destroy();
      outbound.destroy();
      sockets.delete(inbound);
      sockets.delete(outbound);
    };
    inbound.on('error', end).on('close', end);
    outbound.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    port,
    cutAll() {
      for (const s of sockets) s.destroy();
    },
    block(b: boolean) {
      blocked = b;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** Entries of ZooKeeper's txn logs: FileHeader, then (crc long, len int, bytes, 'B') until len 0. */
function readApacheTxnLogs(dataDir: string): Uint8Array[] {
  const dir = join(dataDir, 'version-2');
  const out: Uint8Array[] = [];
  for (const name of readdirSync(dir).filter((n) => n.startsWith('log.')).sort()) {
    const bytes = new Uint8Array(readFileSync(join(dir, name)));
    const r = new JuteReader(bytes);
    expect(r.int()).toBe(0x5a4b4c47); // ZKLG
    expect(r.int()).toBe(2);
    r.long(); // dbid
    for (let i = 0; i < 100_000 && r.remaining >= 12; i++) {
      r.long(); // Adler32
      const len = r.int();
      if (len <= 0 || len > r.remaining - 1) break;
      out.push(bytes.slice(r.offset, r.offset + len));
      r.offset += len;
      if (r.byte() !== 0x42) break;
    }
  }
  return out;
}

describe.skipIf(!availability.available)(`client vs Apache ZooKeeper${availability.available ? '' : ` (skipped: ${availability.reason})`}`, () => {
  let zk: ApacheZooKeeper;
  const clients: ZkClient[] = [];
  async function client(options: Parameters<typeof connectClient>[1] = {}, connectString = zk.connectString): Promise<ZkClient> {
    const c = await connectClient(connectString, { sessionTimeoutMs: 4000, ...options }, 15_000);
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    const started = await startApacheZooKeeper({ tickTimeMs: TICK_MS, extraConfig: { extendedTypesEnabled: 'true' } });
    if (!started.available) throw new Error(started.reason);
    zk = started;
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await zk?.stop();
  });

  it('handshake: session id, password, negotiated timeout clamped to 20 ticks; 44- and 45-byte ConnectRequests', async () => {
    const c = await client({ sessionTimeoutMs: 100_000 });
    expect(c.state).toBe('connected');
    expect(c.sessionId).not.toBe(0n);
    expect(c.sessionPasswd.length).toBe(16);
    expect(c.negotiatedTimeoutMs).toBe(20 * TICK_MS);
    const old = await client({ sendReadOnlyByte: false, sessionTimeoutMs: 100 });
    expect(old.negotiatedTimeoutMs).toBe(2 * TICK_MS);
    expect(await old.exists('/')).not.toBeNull();
  });

  it('create in every mode, create2, getData, setData, exists, delete, and error codes by name', async () => {
    const c = await client();
    expect(await c.create('/p', 'one')).toBe('/p');
    const eph = await c.create2('/p/e', null, { mode: CreateFlags.EPHEMERAL });
    expect(eph.stat.ephemeralOwner).toBe(c.sessionId);
    const seq = await c.create('/p/s-', '', { mode: CreateFlags.PERSISTENT_SEQUENTIAL });
    expect(seq).toMatch(/^\/p\/s-\d{10}$/);
    expect(await c.create('/p/es-', '', { mode: CreateFlags.EPHEMERAL_SEQUENTIAL })).toMatch(/^\/p\/es-\d{10}$/);
    const container = await c.create2('/p/c', null, { mode: CreateFlags.CONTAINER });
    expect(container.path).toBe('/p/c');
    const ttl = await c.create2('/p/t', 'x', { mode: CreateFlags.PERSISTENT_WITH_TTL, ttl: 60_000 });
    expect(ttl.stat.ephemeralOwner).toBe(0n);

    const got = await c.getData('/p');
    expect(fromUtf8(got.data!)).toBe('one');
    expect(got.stat.dataLength).toBe(3);
    expect((await c.getData('/p/e')).data).toBeNull(); // null data stays null
    expect((await c.getData(seq)).data).toEqual(new Uint8Array(0));

    const stat = await c.setData('/p', 'two', got.stat.version);
    expect(stat.version).toBe(got.stat.version + 1);
    const bad = await keeperError(c.setData('/p', 'x', 0));
    expect(bad.code).toBe(ErrorCode.BADVERSION);
    expect(bad.codeName).toBe('BADVERSION');
    expect(bad.path).toBe('/p');
    expect((await keeperError(c.create('/p', ''))).codeName).toBe('NODEEXISTS');
    expect((await keeperError(c.getData('/missing'))).code).toBe(ErrorCode.NONODE);
    expect((await keeperError(c.create('/p/e/child', ''))).code).toBe(ErrorCode.NOCHILDRENFOREPHEMERALS);
    expect((await keeperError(c.delete('/p'))).code).toBe(ErrorCode.NOTEMPTY);

    expect(await c.exists('/missing')).toBeNull();
    expect((await c.exists('/p'))?.numChildren).toBe(5);
    await c.delete('/p/t');
    expect(await c.exists('/p/t')).toBeNull();
  });

  it('children, counts, ephemerals, sync, whoAmI, ACLs', async () => {
    const c = await client();
    await c.create('/k');
    await c.create('/k/a');
    await c.create('/k/a/b');
    await c.create('/k/eph', 'e', { mode: CreateFlags.EPHEMERAL });
    expect((await c.getChildren('/k')).sort()).toEqual(['a', 'eph']);
    const two = await c.getChildren2('/k');
    expect(two.stat.numChildren).toBe(2);
    expect(await c.getAllChildrenNumber('/k')).toBe(3);
    expect(await c.getEphemerals('/k')).toEqual(['/k/eph']);
    expect(await c.sync('/k')).toBe('/k');
    expect(await c.whoAmI()).toEqual([{ authScheme: 'ip', user: '127.0.0.1' }]);

    const acl = await c.getACL('/k');
    expect(acl.acl).toEqual(Acls.OPEN_ACL_UNSAFE);
    const s = await c.setACL('/k/a', Acls.READ_ACL_UNSAFE, 0);
    expect(s.aversion).toBe(1);
    expect((await keeperError(c.setData('/k/a', 'x'))).code).toBe(ErrorCode.NOAUTH);
    expect((await keeperError(c.setACL('/k/a', Acls.OPEN_ACL_UNSAFE, 0))).code).toBe(ErrorCode.NOAUTH); // no ADMIN now
  });

  it('digest auth: ACL by digest id, NOAUTH without it, whoAmI shows the user; unknown scheme → AUTHFAILED', async () => {
    const owner = await client();
    await owner.addAuth('digest', 'alice:secret');
    await owner.create('/secure', 's', { acl: [{ perms: 31, id: { scheme: 'digest', id: digestAuthId('alice', 'secret') } }] });
    await owner.create('/creator', 'c', { acl: Acls.CREATOR_ALL_ACL });
    expect(await owner.whoAmI()).toContainEqual({ authScheme: 'digest', user: 'alice' });

    const other = await client();
    expect((await keeperError(other.getData('/secure'))).code).toBe(ErrorCode.NOAUTH);
    expect((await keeperError(other.getData('/creator'))).code).toBe(ErrorCode.NOAUTH);
    await other.addAuth('digest', utf8('alice:secret'));
    expect(fromUtf8((await other.getData('/secure')).data!)).toBe('s');

    const bad = await client();
    const failed: string[] = [];
    bad.on('authFailed', (scheme) => failed.push(scheme));
    const e = await keeperError(bad.addAuth('nosuchscheme', 'x'));
    expect(e.code).toBe(ErrorCode.AUTHFAILED);
    expect(bad.state).toBe('authFailed');
    expect(failed).toEqual(['nosuchscheme']);
    expect((await keeperError(bad.exists('/'))).code).toBe(ErrorCode.AUTHFAILED);
  });

  it('multi: success results; a failing op aborts all with per-op error results; multiRead', async () => {
    const c = await client();
    const ok = await c.multi([op.create('/m'), op.create('/m/a', 'x'), op.setData('/m/a', 'y'), op.check('/m/a', 1), op.delete('/m/a')]);
    expect(ok.map((r) => r.type)).toEqual([OpCode.create, OpCode.create, OpCode.setData, OpCode.check, OpCode.delete]);
    expect(ok[0]).toEqual({ type: OpCode.create, path: '/m' });

    const e = await keeperError(c.multi([op.create('/m/b'), op.check('/m', 7), op.create('/m/c')]));
    expect(e.code).toBe(ErrorCode.BADVERSION);
    expect(e.path).toBe('/m');
    expect(e.results).toEqual([
      { type: OpCode.error, err: 0 },
      { type: OpCode.error, err: ErrorCode.BADVERSION },
      { type: OpCode.error, err: ErrorCode.RUNTIMEINCONSISTENCY },
    ]);
    expect(await c.exists('/m/b')).toBeNull();

    const reads = await c.multiRead([op.getData('/m'), op.getChildren('/'), op.getData('/nope')]);
    expect(reads[0]).toMatchObject({ type: OpCode.getData, data: new Uint8Array(0) });
    expect(reads[1]).toMatchObject({ type: OpCode.getChildren });
    expect((reads[1] as { children: string[] }).children).toContain('m');
    expect(reads[2]).toEqual({ type: OpCode.error, err: ErrorCode.NONODE });
    expect(await c.multi([])).toEqual([]);
  });

  it('one-shot watches: data, exist, child; each fires once; the watch event reaches the default watcher', async () => {
    const c = await client();
    const w = await client();
    const seen: WatchedEvent[] = [];
    const all: WatchedEvent[] = [];
    w.on('watch', (ev) => all.push(ev));
    await c.create('/w');
    await w.getData('/w', (ev) => seen.push(ev));
    await w.exists('/w/new', (ev) => seen.push(ev));
    await w.getChildren('/w', (ev) => seen.push(ev));
    await c.setData('/w', 'a');
    await c.setData('/w', 'b'); // the data watch is gone after the first change
    await c.create('/w/new');
    await until(() => seen.length >= 3, 'three watch events');
    expect(seen).toEqual([
      { type: WatcherEventType.NodeDataChanged, state: 3, path: '/w' },
      { type: WatcherEventType.NodeCreated, state: 3, path: '/w/new' },
      { type: WatcherEventType.NodeChildrenChanged, state: 3, path: '/w' },
    ]);
    expect(all).toEqual(seen);
    const deleted: WatchedEvent[] = [];
    await w.exists('/w/new', (ev) => deleted.push(ev));
    await c.delete('/w/new');
    await until(() => deleted.length === 1, 'NodeDeleted');
    expect(deleted[0]?.type).toBe(WatcherEventType.NodeDeleted);
    // a server-side watch is gone once fired
    expect((await keeperError(w.checkWatches('/w/new', WatcherType.Data))).code).toBe(ErrorCode.NOWATCHER);
  });

  it('persistent and persistent-recursive watches via addWatch; removeWatches; checkWatches', async () => {
    const c = await client();
    const w = await client();
    await c.create('/pw');
    await c.create('/pwr');
    const persistent: WatchedEvent[] = [];
    const recursive: WatchedEvent[] = [];
    // ZooKeeper keeps one mode per (connection, path): separate paths for the two modes
    await w.addWatch('/pw', AddWatchMode.PERSISTENT, (ev) => persistent.push(ev));
    await w.addWatch('/pwr', AddWatchMode.PERSISTENT_RECURSIVE, (ev) => recursive.push(ev));
    await w.checkWatches('/pw', WatcherType.Any); // 3.8 accepts only Children/Data/Any here
    for (const root of ['/pw', '/pwr']) {
      await c.setData(root, '1');
      await c.setData(root, '2');
      await c.create(`${root}/x`);
      await c.create(`${root}/x/y`);
    }
    await until(() => persistent.length >= 3 && recursive.length >= 4, 'persistent events');
    expect(persistent.map((e) => [e.type, e.path])).toEqual([
      [WatcherEventType.NodeDataChanged, '/pw'], [WatcherEventType.NodeDataChanged, '/pw'], [WatcherEventType.NodeChildrenChanged, '/pw'],
    ]);
    expect(recursive.map((e) => [e.type, e.path])).toEqual([
      [WatcherEventType.NodeDataChanged, '/pwr'], [WatcherEventType.NodeDataChanged, '/pwr'],
      [WatcherEventType.NodeCreated, '/pwr/x'], [WatcherEventType.NodeCreated, '/pwr/x/y'],
    ]);
    const removedEvents: WatchedEvent[] = [];
    w.on('watch', (ev) => removedEvents.push(ev));
    await w.removeWatches('/pw', WatcherType.Any);
    await w.removeWatches('/pwr', WatcherType.Any);
    expect(persistent.at(-1)?.type).toBe(WatcherEventType.PersistentWatchRemoved);
    expect(recursive.at(-1)?.type).toBe(WatcherEventType.PersistentWatchRemoved);
    expect(removedEvents).toEqual([
      { type: WatcherEventType.PersistentWatchRemoved, state: 3, path: '/pw' },
      { type: WatcherEventType.PersistentWatchRemoved, state: 3, path: '/pwr' },
    ]);
    expect((await keeperError(w.checkWatches('/pw', WatcherType.Any))).code).toBe(ErrorCode.NOWATCHER);
    expect((await keeperError(w.removeWatches('/pwr', WatcherType.Any))).code).toBe(ErrorCode.NOWATCHER);
    // a fresh one-shot watch sees the next change; the removed ones do not
    const counts = [persistent.length, recursive.length];
    const after: WatchedEvent[] = [];
    await w.exists('/pwr/x', (ev) => after.push(ev));
    await c.setData('/pw', '3');
    await c.setData('/pwr/x', '3');
    await until(() => after.length === 1, 'one-shot after removal');
    expect([persistent.length, recursive.length]).toEqual(counts);
    // removing locally only: no request, the local event still fires
    const local: WatchedEvent[] = [];
    await w.getChildren('/pw', (ev) => local.push(ev));
    await w.removeWatches('/pw', WatcherType.Children, true);
    expect(local.map((e) => e.type)).toEqual([WatcherEventType.ChildWatchRemoved]);
  });

  it('connection loss: moves to the next host, resumes the session, re-registers watches (setWatches2)', async () => {
    const relay = await startRelay(zk.port);
    try {
      const writer = await client();
      const c = await client({}, `127.0.0.1:${relay.port},${zk.connectString}`);
      expect(c.currentHost?.port).toBe(relay.port);
      await c.create('/r', 'x', { mode: CreateFlags.EPHEMERAL });
      await writer.create('/r2');
      const events: WatchedEvent[] = [];
      await c.getData('/r', (ev) => events.push(ev));
      await c.exists('/r-later', (ev) => events.push(ev));
      await c.addWatch('/r2', AddWatchMode.PERSISTENT_RECURSIVE, (ev) => events.push(ev));
      const states: string[] = [];
      c.on('state', (s) => states.push(s));
      const sessionId = c.sessionId;

      relay.cutAll();
      await until(() => states.includes('connected'), 'reconnect');
      expect(states).toEqual(['disconnected', 'connected']);
      expect(c.sessionId).toBe(sessionId);
      expect(c.currentHost?.port).toBe(zk.port);
      expect((await writer.exists('/r'))?.ephemeralOwner).toBe(sessionId); // the session survived

      await writer.setData('/r', 'y');
      await writer.create('/r-later');
      await writer.create('/r2/child');
      await until(() => events.length >= 3, 'watch events after reconnect');
      expect(events.map((e) => [e.type, e.path])).toEqual([
        [WatcherEventType.NodeDataChanged, '/r'],
        [WatcherEventType.NodeCreated, '/r-later'],
        [WatcherEventType.NodeCreated, '/r2/child'],
      ]);
    } finally {
      await relay.close();
    }
  });

  it('chroot: paths are relative to it in calls, results and events', async () => {
    const root = await client();
    await root.create('/app');
    const c = await client({}, `${zk.connectString}/app`);
    const events: WatchedEvent[] = [];
    expect(await c.create('/x', 'v')).toBe('/x');
    await c.exists('/y', (ev) => events.push(ev));
    await c.create('/y');
    await until(() => events.length === 1, 'chroot event');
    expect(events[0]?.path).toBe('/y');
    expect((await c.getChildren('/')).sort()).toEqual(['x', 'y']);
    expect(await root.exists('/app/x')).not.toBeNull();
    const res = await c.multi([op.create('/z')]);
    expect(res[0]).toEqual({ type: OpCode.create, path: '/z' });
  });

  it('session expiry: unreachable past the timeout → expired on reconnect, calls fail SESSIONEXPIRED', async () => {
    const relay = await startRelay(zk.port);
    try {
      const observer = await client();
      const c = await client({ sessionTimeoutMs: 2000 }, `127.0.0.1:${relay.port}`);
      await c.create('/exp', '', { mode: CreateFlags.EPHEMERAL });
      const events: string[] = [];
      c.on('disconnected', () => events.push('disconnected'));
      c.on('expired', () => events.push('expired'));
      relay.block(true);
      relay.cutAll();
      // the server expires the session: its ephemeral goes away
      await until(() => events.includes('disconnected'), 'disconnected');
      const gone = { done: false };
      for (let i = 0; i < 200 && !gone.done; i++) {
        gone.done = (await observer.exists('/exp')) === null;
        if (!gone.done) await new Promise((r) => setTimeout(r, 50));
      }
      expect(gone.done).toBe(true);
      relay.block(false);
      await until(() => events.includes('expired'), 'expired', 20_000);
      expect(events).toEqual(['disconnected', 'expired']);
      expect(c.state).toBe('expired');
      expect((await keeperError(c.exists('/'))).code).toBe(ErrorCode.SESSIONEXPIRED);
    } finally {
      await relay.close();
    }
  });

  it('close: closeSession deletes ephemerals; later calls are rejected', async () => {
    const observer = await client();
    const c = await client();
    await c.create('/bye', '', { mode: CreateFlags.EPHEMERAL });
    const closed: string[] = [];
    c.on('closed', () => closed.push('closed'));
    await c.close();
    expect(c.state).toBe('closed');
    expect(closed).toEqual(['closed']);
    expect(await observer.exists('/bye')).toBeNull();
    expect((await keeperError(c.exists('/'))).code).toBe(ErrorCode.CONNECTIONLOSS);
    await c.close(); // idempotent
  });

  it('raw send: any request as is, err as a value', async () => {
    const c = await client();
    const reply = await c.send({ type: OpCode.getData, req: { path: '/definitely-missing', watch: false } });
    expect(reply.header.err).toBe(ErrorCode.NONODE);
    expect(reply.response).toBeNull();
    const ok = await c.send({ type: OpCode.getAllChildrenNumber, req: { path: '/zookeeper' } });
    expect(ok.response).toEqual({ type: OpCode.getAllChildrenNumber, totalNumber: 2 });
  });

  it("ZooKeeper's own txn log decodes entry by entry and re-encodes byte for byte", async () => {
    const entries = readApacheTxnLogs(zk.dataDir);
    expect(entries.length).toBeGreaterThan(20);
    const types = new Set<number>();
    let withDigest = 0;
    for (const bytes of entries) {
      const entry: TxnEntry = decodeTxnEntry(bytes);
      types.add(entry.header.type);
      if (entry.digest !== undefined) withDigest++;
      expect(encodeTxnEntry(entry)).toEqual(bytes);
    }
    expect(withDigest, 'ZooKeeper 3.6+ appends a TxnDigest (digest.enabled defaults to true)').toBeGreaterThan(0);
    for (const t of [OpCode.createSession, OpCode.create, OpCode.setData, OpCode.delete, OpCode.multi, OpCode.closeSession, OpCode.error, OpCode.setACL, OpCode.createContainer, OpCode.createTTL]) {
      expect(types, `txn type ${t} in the log`).toContain(t);
    }
  });
});
