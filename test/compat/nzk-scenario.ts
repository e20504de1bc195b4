/**
 * node-zookeeper-client 1.1.3 (npm, unmodified) over every API it has, recorded as a normalised
 * transcript like ./scenario.ts. It is a different implementation from ours: a 44-byte
 * ConnectRequest without readOnly, xids from 0, getChildren as op 12, create as op 1, auth
 * replies out of band, setWatches 101 on reconnect.
 */
import { createRequire } from 'node:module';
import { digestAuthId } from '../../src-main/client/index';
import { Section, type ScenarioTarget } from './scenario';

/* eslint-disable @typescript-eslint/no-explicit-any -- the library is untyped JavaScript */
const require = createRequire(import.meta.url);
const nzk = require('node-zookeeper-client') as any;

type Cb<T> = (error: any, value?: T, extra?: any) => void;

function call<T>(f: (cb: Cb<T>) => void): Promise<{ value: T; extra: any }> {
  return new Promise((resolve, reject) => {
    f((error, value, extra) => (error ? reject(error) : resolve({ value: value as T, extra })));
  });
}

function long(buf: Buffer | undefined): bigint {
  return buf === undefined ? 0n : buf.readBigInt64BE(0);
}

function connect(connectString: string): Promise<any> {
  const client = nzk.createClient(connectString, { sessionTimeout: 10_000, retries: 0 });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.close();
      reject(new Error(`node-zookeeper-client: not connected to ${connectString} within 15 s`));
    }, 15_000);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve(client);
    });
    client.connect();
  });
}

export async function runNodeZookeeperClientScenario(connectString: string): Promise<string[]> {
  const s = new Section('node-zookeeper-client', { name: 'nzk', connectString } as ScenarioTarget);
  const clients: any[] = [];
  const stat = (st: any): string =>
    s.stat({
      czxid: long(st.czxid),
      mzxid: long(st.mzxid),
      pzxid: long(st.pzxid),
      ctime: long(st.ctime),
      mtime: long(st.mtime),
      version: st.version,
      cversion: st.cversion,
      aversion: st.aversion,
      ephemeralOwner: long(st.ephemeralOwner),
      dataLength: st.dataLength,
      numChildren: st.numChildren,
    });
  const step = async (label: string, run: () => Promise<string>): Promise<void> => {
    try {
      s.note(`${label} → ${await run()}`);
    } catch (e) {
      const err = e as any;
      s.note(`${label} → ${typeof err?.getCode === 'function' ? `ERR ${err.name}` : `THROW ${String(err?.message ?? err)}`}`);
    }
  };
  try {
    const a = await connect(connectString);
    const b = await connect(connectString);
    clients.push(a, b);
    s.nameSession(long(a.getSessionId()), 'a');
    s.nameSession(long(b.getSessionId()), 'b');
    const events: string[] = [];
    const watcher = (ev: any): void => {
      events.push(`${ev.getName()} ${ev.getPath()}`);
    };
    const drain = async (): Promise<void> => {
      await call((cb) => a.exists('/', cb));
      s.note(`events: [${events.splice(0).join(', ')}]`);
    };
    const { CreateMode, ACL, Id, Permission } = nzk;
    await step('create /nzk', async () => (await call<string>((cb) => a.create('/nzk', Buffer.from('root'), cb))).value);
    await step('create /nzk/e EPHEMERAL', async () => (await call<string>((cb) => a.create('/nzk/e', Buffer.from('e'), CreateMode.EPHEMERAL, cb))).value);
    for (let i = 0; i < 2; i++) await step(`create /nzk/s- PERSISTENT_SEQUENTIAL #${i}`, async () => (await call<string>((cb) => a.create('/nzk/s-', CreateMode.PERSISTENT_SEQUENTIAL, cb))).value);
    await step('create /nzk/es- EPHEMERAL_SEQUENTIAL', async () => (await call<string>((cb) => a.create('/nzk/es-', null, CreateMode.EPHEMERAL_SEQUENTIAL, cb))).value);
    await step('create /nzk again → NODE_EXISTS', async () => (await call<string>((cb) => a.create('/nzk', cb))).value);
    await step('create /nzk/e/x → NO_CHILDREN_FOR_EPHEMERALS', async () => (await call<string>((cb) => a.create('/nzk/e/x', cb))).value);
    await step('create /nzk/none/x → NO_NODE', async () => (await call<string>((cb) => a.create('/nzk/none/x', cb))).value);
    await step('mkdirp /nzk/deep/er/est', async () => (await call<string>((cb) => a.mkdirp('/nzk/deep/er/est', Buffer.from('d'), cb))).value);
    await step('exists /nzk', async () => stat((await call((cb) => a.exists('/nzk', cb))).value));
    await step('exists /nzk/nope (watch)', async () => String((await call((cb) => a.exists('/nzk/nope', watcher, cb))).value));
    await step('getData /nzk (watch)', async () => {
      const r = await call<Buffer>((cb) => a.getData('/nzk', watcher, cb));
      return `${s.data(r.value)} ${stat(r.extra)}`;
    });
    await step('getChildren /nzk (watch)', async () => {
      const r = await call<string[]>((cb) => a.getChildren('/nzk', watcher, cb));
      return `[${[...r.value].sort().join(', ')}] ${stat(r.extra)}`;
    });
    await step('b setData /nzk', async () => stat((await call((cb) => b.setData('/nzk', Buffer.from('v1'), -1, cb))).value));
    await step('b create /nzk/nope', async () => (await call<string>((cb) => b.create('/nzk/nope', cb))).value);
    await drain();
    await step('setData /nzk v=0 → BAD_VERSION', async () => stat((await call((cb) => a.setData('/nzk', Buffer.from('x'), 0, cb))).value));
    await step('setData /nzk v=1 (empty)', async () => stat((await call((cb) => a.setData('/nzk', Buffer.alloc(0), 1, cb))).value));
    await step('getData /nzk (empty data)', async () => {
      const r = await call<Buffer>((cb) => a.getData('/nzk', cb));
      return `${s.data(r.value ?? null)} ${stat(r.extra)}`;
    });
    await step('remove /nzk → NOT_EMPTY', async () => String((await call((cb) => a.remove('/nzk', -1, cb))).value));
    await step('remove /nzk/nope v=3 → BAD_VERSION', async () => String((await call((cb) => a.remove('/nzk/nope', 3, cb))).value));
    await step('remove /nzk/nope', async () => String((await call((cb) => a.remove('/nzk/nope', cb))).value));
    const aliceId = digestAuthId('alice', 'pw');
    const aliceAcl = [new ACL(Permission.ALL, new Id('digest', aliceId))];
    await step('create /nzk/acl digest alice', async () => (await call<string>((cb) => a.create('/nzk/acl', Buffer.from('s'), aliceAcl, CreateMode.PERSISTENT, cb))).value);
    await step('getData /nzk/acl → NO_AUTH', async () => s.data((await call<Buffer>((cb) => a.getData('/nzk/acl', cb))).value));
    await step('getACL /nzk/acl', async () => {
      const r = await call<any[]>((cb) => a.getACL('/nzk/acl', cb));
      return `${r.value.map((x: any) => `${x.permission}:${x.id.scheme}:${x.id.id}`).join(',')} ${stat(r.extra)}`;
    });
    b.addAuthInfo('digest', Buffer.from('alice:pw'));
    await step('b (addAuthInfo alice) getData /nzk/acl', async () => s.data((await call<Buffer>((cb) => b.getData('/nzk/acl', cb))).value));
    await step('b getACL /nzk/acl', async () => (await call<any[]>((cb) => b.getACL('/nzk/acl', cb))).value.map((x: any) => `${x.permission}:${x.id.scheme}:${x.id.id}`).join(','));
    await step('b setACL /nzk/acl v=0 world:anyone READ', async () => stat((await call((cb) => b.setACL('/nzk/acl', [new ACL(Permission.READ, new Id('world', 'anyone'))], 0, cb))).value));
    await step('b setACL /nzk/acl v=0 again → NO_AUTH or BAD_VERSION', async () => stat((await call((cb) => b.setACL('/nzk/acl', aliceAcl, 0, cb))).value));
    await step('a create /nzk/bad ACL world:nobody → INVALID_ACL', async () => (await call<string>((cb) => a.create('/nzk/bad', null, [new ACL(Permission.ALL, new Id('world', 'nobody'))], CreateMode.PERSISTENT, cb))).value);
    const fmtResults = (rs: any[]): string =>
      rs.map((r: any) => `${r.type}${r.path !== undefined ? `:${r.path}` : ''}${r.stat !== undefined ? `:${stat(r.stat)}` : ''}${r.err !== undefined ? `:${r.err}` : ''}`).join(', ');
    await step('transaction ok', async () => fmtResults((await call<any[]>((cb) => a.transaction().create('/nzk/t').create('/nzk/t/1', Buffer.from('1')).setData('/nzk/t', Buffer.from('t'), 0).check('/nzk/t', 1).remove('/nzk/t/1').commit(cb))).value));
    await step('transaction failing at check', async () => fmtResults((await call<any[]>((cb) => a.transaction().create('/nzk/t2').check('/nzk/t', 7).remove('/nzk/t').commit(cb))).value));
    await step('exists /nzk/t2 after failed transaction', async () => String((await call((cb) => a.exists('/nzk/t2', cb))).value));
    await step('getChildren /nzk', async () => `[${(await call<string[]>((cb) => a.getChildren('/nzk', cb))).value.sort().join(', ')}]`);
    await step('removeRecursive /nzk/deep', async () => String((await call((cb) => a.removeRecursive('/nzk/deep', -1, cb))).value));
    await step('listSubTreeBFS /nzk', async () => `[${(await call<string[]>((cb) => a.listSubTreeBFS('/nzk', cb))).value.sort().join(', ')}]`);
    // big data is refused: node-zookeeper-client checks locally at 1 MiB
    await step('setData /nzk 1,048,577 bytes', async () => stat((await call((cb) => a.setData('/nzk', Buffer.alloc(1_048_577), cb))).value));
    s.note(`negotiated session timeout: ${a.getSessionTimeout()} ms, password ${a.getSessionPassword().length} bytes`);
    // an unknown auth scheme: the server refuses it and the client reports AUTH_FAILED
    const bad = await connect(connectString);
    clients.push(bad);
    const state = new Promise<string>((resolve) => {
      bad.on('state', (st: any) => {
        if (st.getName() !== 'SYNC_CONNECTED') resolve(st.getName());
      });
      setTimeout(() => resolve('no state change within 10 s'), 10_000);
    });
    bad.addAuthInfo('nosuch', Buffer.from('x'));
    s.note(`addAuthInfo with an unknown scheme → state ${await state}`);
    // session close removes ephemerals and fires the watches
    await step('b exists /nzk/e (watch)', async () => stat((await call((cb) => b.exists('/nzk/e', watcher, cb))).value));
    a.close();
    const deadline = Date.now() + 10_000;
    while (events.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    s.note(`events after a.close(): [${events.splice(0).join(', ')}]`);
    await step('b getChildren /nzk after a closed', async () => `[${(await call<string[]>((cb) => b.getChildren('/nzk', cb))).value.sort().join(', ')}]`);
  } catch (e) {
    s.note(`SCENARIO ABORTED: ${(e as Error).message}`);
  } finally {
    for (const c of clients) c.close();
  }
  return s.finish();
}
