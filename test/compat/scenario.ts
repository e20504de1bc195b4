/**
 * One scripted scenario, run unchanged against any ZooKeeper-compatible server, recording a
 * normalised transcript: one line per step with its result or error code name. Normalised:
 * zxids become z1, z2 … by relative order within a section, session ids become the name of
 * the client that owns them, times become T (or BADTIME when not a plausible wall clock),
 * children are sorted, watch events keep their order. The same transcript from Apache
 * ZooKeeper and from ZooLab means a client cannot tell them apart on these steps.
 *
 * Sections are independent (each under its own znode) so that one difference shows up in one
 * section only. Steps that must wait (session expiry, container and TTL reaping) wait on a
 * condition with a deadline; no fixed sleeps.
 */
import { createHash } from 'node:crypto';
import { errorCodeName } from '../../src-main/common/error-codes';
import { Acls, connectClient, digestAuthId, KeeperError, op, type ClientOptions, type ZkClient } from '../../src-main/client/index';
import {
  AddWatchMode,
  CreateFlags,
  JuteReader,
  OpCode,
  WatcherType,
  type ACL,
  type MultiResult,
  type Request,
  type Stat,
} from '../../src-main/jute/index';
import { RawConnection } from './raw-connection';
import { digestMd5Response, parseDigestChallenge } from './sasl-digest-md5';

/** The server under test, as the scenario needs it. */
export interface ScenarioTarget {
  /** "ZooKeeper" or "ZooLab" (only for messages) */
  name: string;
  port: number;
  connectString: string;
  tickTimeMs: number;
  fourLetterWord(word: string): Promise<string>;
  /** a second server of the same kind, zoo.cfg defaults except `4lw.commands.whitelist=ruok,srvr`, minSessionTimeout=3000, maxSessionTimeout=5000 (no extended types) */
  restricted: { port: number; connectString: string; fourLetterWord(word: string): Promise<string> };
}

/** The super user's password configured on both servers (DigestAuthenticationProvider.superDigest). */
export const SUPER_PASSWORD = 'sup3r';
export const superDigestConfig = (): Record<string, string> => ({
  'DigestAuthenticationProvider.superDigest': digestAuthId('super', SUPER_PASSWORD),
});

/** The JAAS file both servers get (-Djava.security.auth.login.config) and the SASL provider line. */
export const JAAS_TEXT = 'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_alice="alice-secret";\n};\n';
export const saslConfig = (): Record<string, string> => ({ 'authProvider.1': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider' });

export type Transcript = Map<string, string[]>;

const EVENT_NAMES: Record<number, string> = {
  [-1]: 'None',
  1: 'NodeCreated',
  2: 'NodeDeleted',
  3: 'NodeDataChanged',
  4: 'NodeChildrenChanged',
  5: 'DataWatchRemoved',
  6: 'ChildWatchRemoved',
  7: 'PersistentWatchRemoved',
};

const OP_NAMES: Record<number, string> = Object.fromEntries(Object.entries(OpCode).map(([k, v]) => [v, k]));

interface NamedClient {
  name: string;
  client: ZkClient;
  events: string[];
}

const CONTAINER_OWNER = BigInt.asIntN(64, 0x8000000000000000n);

/** One section's recorder: steps, clients, normalisation. */
export class Section {
  readonly lines: string[] = [];
  private readonly clients: NamedClient[] = [];
  private readonly sessionNames = new Map<bigint, string>();

  constructor(
    readonly name: string,
    readonly target: ScenarioTarget,
  ) {}

  note(line: string): void {
    this.lines.push(line);
  }

  nameSession(id: bigint, name: string): void {
    this.sessionNames.set(BigInt.asIntN(64, id), name);
  }

  async client(name: string, options: ClientOptions = {}, connectString = this.target.connectString): Promise<NamedClient> {
    const client = await connectClient(connectString, { sessionTimeoutMs: 30_000, ...options }, 15_000);
    const nc: NamedClient = { name, client, events: [] };
    client.on('watch', (ev) => nc.events.push(`${EVENT_NAMES[ev.type] ?? ev.type} ${ev.path}`));
    this.clients.push(nc);
    this.nameSession(client.sessionId, name);
    return nc;
  }

  // ---- formatting (zxid/session/time tokens are resolved in finish()) ----
  zxid(z: bigint): string {
    return z === 0n ? '0' : `⟦z${BigInt.asIntN(64, z)}⟧`;
  }
  session(id: bigint): string {
    const s = BigInt.asIntN(64, id);
    if (s === 0n) return '0';
    if (s === CONTAINER_OWNER) return 'CONTAINER';
    if ((BigInt.asUintN(64, s) >> 56n) === 0xffn) return `TTL(${BigInt.asUintN(64, s) & 0xffffffffffffffn})`;
    return `⟦s${s}⟧`;
  }
  time(t: bigint): string {
    const ms = Number(t);
    return Math.abs(ms - Date.now()) < 3_600_000 ? 'T' : `BADTIME(${t})`;
  }
  stat(s: Stat): string {
    return (
      `{cz=${this.zxid(s.czxid)} mz=${this.zxid(s.mzxid)} pz=${this.zxid(s.pzxid)} ct=${this.time(s.ctime)} mt=${this.time(s.mtime)}` +
      ` v=${s.version} cv=${s.cversion} av=${s.aversion} eo=${this.session(s.ephemeralOwner)} dl=${s.dataLength} nc=${s.numChildren}}`
    );
  }
  data(d: Uint8Array | null): string {
    if (d === null) return 'null';
    if (d.length <= 64) return JSON.stringify(new TextDecoder().decode(d));
    return `<${d.length} bytes sha1 ${createHash('sha1').update(d).digest('hex').slice(0, 12)}>`;
  }
  acl(acl: readonly ACL[]): string {
    return `[${acl.map((a) => `${a.perms}:${a.id.scheme}:${a.id.id}`).join(', ')}]`;
  }
  result(r: MultiResult): string {
    switch (r.type) {
      case OpCode.error:
        return `error(${errorCodeName(r.err)})`;
      case OpCode.create:
        return `create(${r.path})`;
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
        return `${OP_NAMES[r.type]}(${r.path} ${this.stat(r.stat)})`;
      case OpCode.setData:
        return `setData(${this.stat(r.stat)})`;
      case OpCode.getData:
        return `getData(${this.data(r.data)} ${this.stat(r.stat)})`;
      case OpCode.getChildren:
        return `getChildren([${[...r.children].sort().join(',')}])`;
      default:
        return OP_NAMES[r.type] ?? String(r.type);
    }
  }
  value(v: unknown): string {
    if (v === undefined) return 'ok';
    if (v === null) return 'null';
    if (typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (typeof v === 'bigint') return this.zxid(v);
    if (v instanceof Uint8Array) return this.data(v);
    if (Array.isArray(v)) return `[${v.map((x) => this.value(x)).join(', ')}]`;
    if (typeof v === 'object' && 'czxid' in v) return this.stat(v as Stat);
    if (typeof v === 'object') {
      return `{${Object.entries(v as Record<string, unknown>)
        .map(([k, x]) => `${k}=${this.value(x)}`)
        .join(' ')}}`;
    }
    return String(v);
  }
  error(e: unknown): string {
    if (e instanceof KeeperError) {
      const results = e.results !== undefined ? ` [${e.results.map((r) => this.result(r)).join(', ')}]` : '';
      return `ERR ${e.codeName}${results}`;
    }
    return `THROW ${(e as Error).message}`;
  }

  /** Runs one step and records `label → result` (or the error code name). */
  async do<T>(label: string, run: () => Promise<T>, format: (v: T) => string = (v) => this.value(v)): Promise<T | undefined> {
    try {
      const v = await run();
      this.lines.push(`${label} → ${format(v)}`);
      return v;
    } catch (e) {
      this.lines.push(`${label} → ${this.error(e)}`);
      return undefined;
    }
  }

  /** The client's watch events since the last drain; a round trip first, so every event caused
   * by a write that completed before this call has arrived (events precede later replies). */
  async events(c: NamedClient): Promise<void> {
    await c.client.exists('/').catch(() => undefined);
    const got = c.events.splice(0);
    this.lines.push(`events ${c.name}: [${got.join(', ')}]`);
  }

  /** Waits for `n` events on c (deadline), records them. */
  async waitEvents(c: NamedClient, n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (c.events.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const got = c.events.splice(0);
    this.lines.push(`events ${c.name}: [${got.join(', ')}]${got.length < n ? ` (TIMEOUT waiting for ${n})` : ''}`);
  }

  async waitFor(label: string, condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await condition().catch(() => false)) {
        this.lines.push(`${label} → yes`);
        return;
      }
      if (Date.now() > deadline) {
        this.lines.push(`${label} → TIMEOUT after ${timeoutMs} ms`);
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    for (const c of this.clients) await c.client.close().catch(() => undefined);
  }

  /** The lines with zxids ranked and session ids named. */
  finish(): string[] {
    const zs = new Set<bigint>();
    for (const line of this.lines) for (const m of line.matchAll(/⟦z(-?\d+)⟧/g)) zs.add(BigInt(m[1]!));
    const ranked = [...zs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const rank = new Map(ranked.map((z, i) => [z, `z${i + 1}`]));
    const unknown = new Map<bigint, string>();
    return this.lines.map((line) =>
      line
        .replace(/⟦z(-?\d+)⟧/g, (_, d: string) => rank.get(BigInt(d))!)
        .replace(/⟦s(-?\d+)⟧/g, (_, d: string) => {
          const id = BigInt(d);
          const known = this.sessionNames.get(id);
          if (known !== undefined) return `session(${known})`;
          if (!unknown.has(id)) unknown.set(id, `session(?${unknown.size + 1})`);
          return unknown.get(id)!;
        }),
    );
  }
}

const sorted = (xs: string[]): string => `[${[...xs].sort().join(', ')}]`;
const bytes = (n: number, fill = 0x61): Uint8Array => new Uint8Array(n).fill(fill);

// ---------------------------------------------------------------------------------------------
// the sections

async function treeBasics(s: Section): Promise<void> {
  const { client: a } = await s.client('a');
  await s.do('getChildren /zookeeper', async () => sorted(await a.getChildren('/zookeeper')), (v) => v);
  await s.do('getData /zookeeper', () => a.getData('/zookeeper'));
  await s.do('getData /zookeeper/quota', () => a.getData('/zookeeper/quota'));
  await s.do('getConfig (/zookeeper/config)', () => a.getConfig());
  await s.do('getACL /', async () => s.acl((await a.getACL('/')).acl), (v) => v);
  await s.do('getACL /zookeeper', async () => s.acl((await a.getACL('/zookeeper')).acl), (v) => v);
  await s.do('getACL /zookeeper/config', async () => s.acl((await a.getACL('/zookeeper/config')).acl), (v) => v);
  await s.do('getAllChildrenNumber /zookeeper', () => a.getAllChildrenNumber('/zookeeper'));
  await s.do('exists /nothing-here', () => a.exists('/nothing-here'));
  await s.do('create /zookeeper/mine', () => a.create('/zookeeper/mine'));
  await s.do('delete /zookeeper/mine', () => a.delete('/zookeeper/mine'));
  await s.do('setData /zookeeper/config', () => a.setData('/zookeeper/config', 'x'));
  await s.do('create / ', () => a.create('/'));
}

/** Which requests consume a zxid: each reply header's zxid as an offset from the first. */
async function zxidArithmetic(s: Section): Promise<void> {
  const { client: a } = await s.client('a');
  let base: bigint | null = null;
  const step = async (label: string, request: Request): Promise<void> => {
    const r = await a.send(request);
    base ??= r.header.zxid;
    s.note(`${label} → ${errorCodeName(r.header.err)}, reply zxid base+${r.header.zxid - base}`);
  };
  const create = (path: string, flags = 0): Request => ({ type: OpCode.create, req: { path, data: null, acl: Acls.OPEN_ACL_UNSAFE, flags } });
  await step('create /zx', create('/zx'));
  await step('getData /zx (read)', { type: OpCode.getData, req: { path: '/zx', watch: false } });
  await step('create /zx again (NODEEXISTS)', create('/zx'));
  await step('create /zx/a/b (NONODE)', create('/zx/a/b'));
  await step('create /zx/ (BADARGUMENTS)', create('/zx/'));
  await step('setData /zx v=9 (BADVERSION)', { type: OpCode.setData, req: { path: '/zx', data: null, version: 9 } });
  await step('setData /zx', { type: OpCode.setData, req: { path: '/zx', data: null, version: -1 } });
  await step('delete /nope (NONODE)', { type: OpCode.delete, req: { path: '/nope', version: -1 } });
  await step('setACL /zx bad ACL (INVALIDACL)', { type: OpCode.setACL, req: { path: '/zx', acl: [], version: -1 } });
  await step('exists /nope (read, NONODE)', { type: OpCode.exists, req: { path: '/nope', watch: false } });
  await step('failed multi', { type: OpCode.multi, req: { ops: [op.create('/zx/m'), op.delete('/nope')] } });
  await step('multi of 3', { type: OpCode.multi, req: { ops: [op.create('/zx/m'), op.create('/zx/n'), op.delete('/zx/n')] } });
  await step('sync', { type: OpCode.sync, req: { path: '/zx' } });
  await step('create TTL (extended types on)', { type: OpCode.createTTL, req: { path: '/zx/t', data: null, acl: Acls.OPEN_ACL_UNSAFE, flags: CreateFlags.PERSISTENT_WITH_TTL, ttl: 60_000n } });
  await step('createContainer', { type: OpCode.createContainer, req: { path: '/zx/c', data: null, acl: Acls.OPEN_ACL_UNSAFE, flags: CreateFlags.CONTAINER } });
  await step('reconfig (disabled)', { type: OpCode.reconfig, req: { joiningServers: null, leavingServers: null, newMembers: null, curConfigId: -1n } });
  await step('whoAmI', { type: OpCode.whoAmI, req: null });
  await step('getChildren2 /zx', { type: OpCode.getChildren2, req: { path: '/zx', watch: false } });
  const { client: b } = await s.client('b');
  const afterSession = await a.send({ type: OpCode.exists, req: { path: '/zx', watch: false } });
  s.note(`a new session elsewhere → base+${afterSession.header.zxid - (base ?? 0n)}`);
  await b.close();
  const afterClose = await a.send({ type: OpCode.exists, req: { path: '/zx', watch: false } });
  s.note(`that session closed → base+${afterClose.header.zxid - (base ?? 0n)}`);
}

async function createModes(s: Section): Promise<void> {
  const { client: a } = await s.client('a');
  await s.do('create /cm', () => a.create('/cm', 'root'));
  await s.do('create2 /cm/p', () => a.create2('/cm/p', 'p'), (v) => `${v.path} ${s.stat(v.stat)}`);
  await s.do('create2 /cm/e EPHEMERAL', () => a.create2('/cm/e', 'e', { mode: CreateFlags.EPHEMERAL }), (v) => `${v.path} ${s.stat(v.stat)}`);
  await s.do('create /cm/q', () => a.create('/cm/q'));
  for (let i = 0; i < 3; i++) await s.do(`create /cm/q/job- PERSISTENT_SEQUENTIAL #${i}`, () => a.create('/cm/q/job-', `${i}`, { mode: CreateFlags.PERSISTENT_SEQUENTIAL }));
  await s.do('create /cm/q/eph- EPHEMERAL_SEQUENTIAL', () => a.create('/cm/q/eph-', null, { mode: CreateFlags.EPHEMERAL_SEQUENTIAL }));
  await s.do('delete /cm/q/job-0000000001', () => a.delete('/cm/q/job-0000000001'));
  await s.do('create /cm/q/plain', () => a.create('/cm/q/plain'));
  await s.do('create /cm/q/job- PERSISTENT_SEQUENTIAL after delete', () => a.create('/cm/q/job-', '', { mode: CreateFlags.PERSISTENT_SEQUENTIAL }));
  await s.do('create /cm/q/ (trailing slash) PERSISTENT_SEQUENTIAL', () => a.create('/cm/q/', 'x', { mode: CreateFlags.PERSISTENT_SEQUENTIAL }));
  await s.do('getChildren2 /cm/q', async () => {
    const r = await a.getChildren2('/cm/q');
    return `${sorted(r.children)} ${s.stat(r.stat)}`;
  }, (v) => v);
  await s.do('create /cm/p again → NODEEXISTS', () => a.create('/cm/p'));
  await s.do('create /cm/missing/child → NONODE', () => a.create('/cm/missing/child'));
  await s.do('create /cm/e/child → NOCHILDRENFOREPHEMERALS', () => a.create('/cm/e/child'));
  await s.do('create /cm/e/child- EPHEMERAL_SEQUENTIAL under ephemeral', () => a.create('/cm/e/child-', '', { mode: CreateFlags.EPHEMERAL_SEQUENTIAL }));
  await s.do('create /cm/nulldata (null)', () => a.create('/cm/nulldata', null));
  await s.do('getData /cm/nulldata', () => a.getData('/cm/nulldata'));
  await s.do('create /cm/emptydata ("")', () => a.create('/cm/emptydata', ''));
  await s.do('getData /cm/emptydata', () => a.getData('/cm/emptydata'));
  await s.do('setData /cm/emptydata null', () => a.setData('/cm/emptydata', null));
  await s.do('getData /cm/emptydata after null', () => a.getData('/cm/emptydata'));
  await s.do('create /cm/flags7 (invalid flags)', () => a.send({ type: OpCode.create, req: { path: '/cm/flags7', data: null, acl: Acls.OPEN_ACL_UNSAFE, flags: 7 } }), (r) => errorCodeName(r.header.err));
  await s.do('create /cm/flags-1 (invalid flags)', () => a.send({ type: OpCode.create, req: { path: '/cm/flags-1', data: null, acl: Acls.OPEN_ACL_UNSAFE, flags: -1 } }), (r) => errorCodeName(r.header.err));
  await s.do('create /cm/noacl (empty ACL)', () => a.create('/cm/noacl', null, { acl: [] }));
  await s.do('create2 /cm/eq EPHEMERAL_SEQUENTIAL', () => a.create2('/cm/eq-', 'x', { mode: CreateFlags.EPHEMERAL_SEQUENTIAL }), (v) => `${v.path} ${s.stat(v.stat)}`);
  await s.do('getEphemerals /cm', async () => sorted(await a.getEphemerals('/cm')), (v) => v);
  await s.do('getEphemerals /cm/q', async () => sorted(await a.getEphemerals('/cm/q')), (v) => v);
  await s.do('getEphemerals /', async () => sorted(await a.getEphemerals('/')), (v) => v);
  await s.do('getAllChildrenNumber /cm', () => a.getAllChildrenNumber('/cm'));
  await s.do('getAllChildrenNumber /cm/q', () => a.getAllChildrenNumber('/cm/q'));
  await s.do('getAllChildrenNumber /cm/nope', () => a.getAllChildrenNumber('/cm/nope'));
}

async function badPaths(s: Section): Promise<void> {
  const { client: a } = await s.client('a');
  await s.do('create /bp', () => a.create('/bp'));
  const bad = ['/bp/', '//bp', '/bp//x', '/bp/./x', '/bp/../x', '/bp/.', '/bp/..', '/bp/x\u0000y', '/bp/x\u0001y', '/bp/\ud800x'];
  for (const p of bad) {
    const shown = JSON.stringify(p);
    await s.do(`create ${shown}`, () => a.create(p));
    await s.do(`delete ${shown}`, () => a.delete(p));
    await s.do(`setData ${shown}`, () => a.setData(p, 'x'));
    await s.do(`getData ${shown}`, () => a.getData(p));
    await s.do(`exists ${shown}`, () => a.exists(p));
    await s.do(`getChildren ${shown}`, () => a.getChildren(p));
  }
  // a path without the leading slash, sent raw (our client refuses it locally)
  await s.do('create "bp" raw', () => a.send({ type: OpCode.create, req: { path: 'bp', data: null, acl: Acls.OPEN_ACL_UNSAFE, flags: 0 } }), (r) => errorCodeName(r.header.err));
  await s.do('create "" raw', () => a.send({ type: OpCode.create, req: { path: '', data: null, acl: Acls.OPEN_ACL_UNSAFE, flags: 0 } }), (r) => errorCodeName(r.header.err));
  await s.do('delete / ', () => a.delete('/'));
  await s.do('delete /zookeeper', () => a.delete('/zookeeper'));
  await s.do('delete /zookeeper/quota', () => a.delete('/zookeeper/quota'));
  await s.do('delete /zookeeper/config', () => a.delete('/zookeeper/config'));
  await s.do('create /bp/unicode-é中', () => a.create('/bp/unicode-é中'));
  await s.do('getChildren /bp', async () => sorted(await a.getChildren('/bp')), (v) => v);
}

async function versions(s: Section): Promise<void> {
  const { client: a } = await s.client('a');
  await s.do('create /v', () => a.create('/v', '0'));
  await s.do('setData /v v=0', () => a.setData('/v', '1', 0));
  await s.do('setData /v v=0 again → BADVERSION', () => a.setData('/v', '2', 0));
  await s.do('setData /v v=-1', () => a.setData('/v', '2', -1));
  await s.do('setData /v v=2', () => a.setData('/v', '3', 2));
  await s.do('setData /v v=-2 → BADVERSION', () => a.setData('/v', '3', -2));
  await s.do('create /v/c1', () => a.create('/v/c1'));
  await s.do('create /v/c2', () => a.create('/v/c2'));
  await s.do('exists /v', () => a.exists('/v'));
  await s.do('delete /v → NOTEMPTY', () => a.delete('/v'));
  await s.do('delete /v v=99 → BADVERSION (version before NOTEMPTY)', () => a.delete('/v', 99));
  await s.do('delete /v/c1 v=1 → BADVERSION', () => a.delete('/v/c1', 1));
  await s.do('delete /v/c1 v=0', () => a.delete('/v/c1', 0));
  await s.do('exists /v after child delete', () => a.exists('/v'));
  await s.do('delete /v/c1 again → NONODE', () => a.delete('/v/c1'));
  await s.do('setData /v/c1 → NONODE', () => a.setData('/v/c1', 'x'));
  await s.do('getData /v/c1 → NONODE', () => a.getData('/v/c1'));
  await s.do('getACL /v/c1 → NONODE', () => a.getACL('/v/c1'));
  await s.do('setACL /v/c2 v=1 → BADVERSION', () => a.setACL('/v/c2', Acls.OPEN_ACL_UNSAFE, 1));
  await s.do('setACL /v/c2 v=0', () => a.setACL('/v/c2', Acls.READ_ACL_UNSAFE.concat(Acls.OPEN_ACL_UNSAFE), 0));
  await s.do('getACL /v/c2 (duplicates?)', async () => {
    const r = await a.getACL('/v/c2');
    return `${s.acl(r.acl)} ${s.stat(r.stat)}`;
  }, (v) => v);
  await s.do('setACL /v/c2 v=-1', () => a.setACL('/v/c2', Acls.OPEN_ACL_UNSAFE, -1));
  await s.do('setACL /v/nope → NONODE', () => a.setACL('/v/nope', Acls.OPEN_ACL_UNSAFE));
  await s.do('delete /v/c2 v=-1', () => a.delete('/v/c2', -1));
  await s.do('delete /v v=4', () => a.delete('/v', 4));
  await s.do('delete /v v=3', () => a.delete('/v', 3));
}

async function largeData(s: Section): Promise<void> {
  const { client: a } = await s.client('a');
  const { client: b } = await s.client('b');
  await s.do('create /big (1,000,000 bytes)', () => a.create('/big', bytes(1_000_000)));
  await s.do('getData /big', () => a.getData('/big'));
  await s.do('setData /big 1,048,576 bytes', () => a.setData('/big', bytes(1_048_576, 0x62)));
  await s.do('a reconnects with its session', async () => {
    const before = a.sessionId;
    await a.waitUntilConnected(15_000);
    return a.sessionId === before ? 'same session' : 'new session';
  }, (v) => v);
  await s.do('getData /big after refused write', () => a.getData('/big'));
  await s.do('create /big2 1,048,576 bytes', () => a.create('/big2', bytes(1_048_576)));
  await s.do('a reconnects again', async () => {
    await a.waitUntilConnected(15_000);
    return a.isConnected;
  });
  await s.do('exists /big2', () => a.exists('/big2'));
  await s.do('b unaffected: getData /big', async () => (await b.getData('/big')).stat.dataLength);
  await s.do('multi with 2 × 600,000 bytes', () => a.multi([op.create('/big3', bytes(600_000)), op.create('/big4', bytes(600_000))]), (r) => r.map((x) => s.result(x)).join(', '));
  await s.do('a reconnects again (multi)', async () => {
    await a.waitUntilConnected(15_000);
    return a.isConnected;
  });
  await s.do('exists /big3', () => a.exists('/big3'));
  await s.do('delete /big', () => a.delete('/big'));
  // the exact limit: a create of /bigb with L bytes (open ACL) is a frame payload of L + 52 bytes
  for (const size of [1_048_400, 1_048_523, 1_048_524]) {
    const created = await s.do(`create /bigb with ${size} bytes (payload ${size + 52} bytes)`, () => a.create('/bigb', bytes(size)));
    await s.do('connected again', async () => {
      await a.waitUntilConnected(15_000);
      return a.isConnected;
    });
    if (created !== undefined) await s.do('delete /bigb', () => a.delete('/bigb'));
  }
}

async function multis(s: Section): Promise<void> {
  const { client: a } = await s.client('a');
  await s.do('create /m', () => a.create('/m'));
  const fmt = (r: MultiResult[]): string => r.map((x) => s.result(x)).join(', ');
  await s.do('multi ok: create, create2, setData, check, create child, delete', () =>
    a.multi([
      op.create('/m/a', 'a'),
      op.create2('/m/b', 'b'),
      op.setData('/m/a', 'a2', 0),
      op.check('/m/a', 1),
      op.create('/m/a/x', null),
      op.create('/m/s-', null, { mode: CreateFlags.PERSISTENT_SEQUENTIAL }),
      op.create('/m/e', null, { mode: CreateFlags.EPHEMERAL }),
      op.delete('/m/b'),
    ]), fmt);
  await s.do('multi fails at check (BADVERSION)', () => a.multi([op.create('/m/c', 'c'), op.setData('/m/a', 'zz'), op.check('/m/a', 0), op.delete('/m/a/x'), op.create('/m/d')]), fmt);
  await s.do('exists /m/c after failed multi', () => a.exists('/m/c'));
  await s.do('getData /m/a after failed multi', () => a.getData('/m/a'));
  await s.do('multi fails at first op (NONODE)', () => a.multi([op.delete('/m/nope'), op.create('/m/f')]), fmt);
  await s.do('multi fails at last op (NODEEXISTS)', () => a.multi([op.create('/m/g'), op.create('/m/g')]), fmt);
  await s.do('multi: delete then create same path', () => a.multi([op.delete('/m/a/x'), op.create('/m/a/x', 'again')]), fmt);
  await s.do('multi: NOTEMPTY', () => a.multi([op.delete('/m/a')]), fmt);
  await s.do('multi: NOCHILDRENFOREPHEMERALS', () => a.multi([op.create('/m/e/x')]), fmt);
  await s.do('multi: bad path', () => a.multi([op.create('/m/ok'), op.create('/m/bad/')]), fmt);
  await s.do('multi: sequential in multi twice', () => a.multi([op.create('/m/s-', null, { mode: CreateFlags.PERSISTENT_SEQUENTIAL }), op.create('/m/s-', null, { mode: CreateFlags.PERSISTENT_SEQUENTIAL })]), fmt);
  await s.do('multi: container and check', () => a.multi([op.create('/m/con', null, { mode: CreateFlags.CONTAINER }), op.check('/m/con', 0)]), fmt);
  await s.do('getChildren /m', async () => sorted(await a.getChildren('/m')), (v) => v);
  await s.do('multiRead', () => a.multiRead([op.getData('/m/a'), op.getChildren('/m/a'), op.getData('/m/nope'), op.getChildren('/m/nope'), op.getChildren('/m/a/x')]), fmt);
  await s.do('multiRead with a write op (raw)', () => a.send({ type: OpCode.multiRead, req: { ops: [op.create('/m/w')] } }), (r) => `${errorCodeName(r.header.err)} ${r.response && 'results' in r.response ? fmt(r.response.results) : ''}`);
  await s.do('multi with a read op (raw)', () => a.send({ type: OpCode.multi, req: { ops: [op.getData('/m/a')] } }), (r) => `${errorCodeName(r.header.err)} ${r.response && 'results' in r.response ? fmt(r.response.results) : ''}`);
  await s.do('multi: empty (raw)', () => a.send({ type: OpCode.multi, req: { ops: [] } }), (r) => `${errorCodeName(r.header.err)} ${r.response && 'results' in r.response ? fmt(r.response.results) : ''}`);
}

async function acls(s: Section): Promise<void> {
  const { client: a } = await s.client('a');
  const { client: b } = await s.client('b');
  const { client: alice } = await s.client('alice');
  const aliceId = digestAuthId('alice', 'secret');
  await s.do('create /acl', () => a.create('/acl'));
  await s.do('create /acl/d digest alice ALL', () => a.create('/acl/d', 'secret data', { acl: [{ perms: 31, id: { scheme: 'digest', id: aliceId } }] }));
  await s.do('b getData /acl/d → NOAUTH', () => b.getData('/acl/d'));
  await s.do('b getACL /acl/d (no READ/ADMIN)', async () => s.acl((await b.getACL('/acl/d')).acl), (v) => v);
  await s.do('b exists /acl/d', () => b.exists('/acl/d'));
  await s.do('b addauth digest alice:wrong', () => b.addAuth('digest', 'alice:wrong'));
  await s.do('b getData /acl/d after wrong password', () => b.getData('/acl/d'));
  await s.do('alice addauth digest alice:secret', () => alice.addAuth('digest', 'alice:secret'));
  await s.do('alice getData /acl/d', () => alice.getData('/acl/d'));
  await s.do('alice getACL /acl/d (ADMIN: not redacted)', async () => s.acl((await alice.getACL('/acl/d')).acl), (v) => v);
  await s.do('alice whoAmI', async () => (await alice.whoAmI()).map((x) => `${x.authScheme}:${x.user}`).sort().join(', '), (v) => v);
  await s.do('a whoAmI', async () => (await a.whoAmI()).map((x) => `${x.authScheme}:${x.user}`).sort().join(', '), (v) => v);
  await s.do('create /acl/r digest alice READ only', () => a.create('/acl/r', 'r', { acl: [{ perms: 1, id: { scheme: 'digest', id: aliceId } }] }));
  await s.do('alice getACL /acl/r (READ without ADMIN: redacted)', async () => s.acl((await alice.getACL('/acl/r')).acl), (v) => v);
  await s.do('alice setData /acl/r → NOAUTH', () => alice.setData('/acl/r', 'x'));
  await s.do('create /acl/world-ro READ_ACL_UNSAFE', () => a.create('/acl/world-ro', 'ro', { acl: Acls.READ_ACL_UNSAFE }));
  await s.do('setData /acl/world-ro → NOAUTH', () => a.setData('/acl/world-ro', 'x'));
  await s.do('create /acl/world-ro/c → NOAUTH', () => a.create('/acl/world-ro/c'));
  await s.do('setACL /acl/world-ro → NOAUTH (no ADMIN)', () => a.setACL('/acl/world-ro', Acls.OPEN_ACL_UNSAFE));
  await s.do('delete /acl/world-ro (DELETE is on the parent)', () => a.delete('/acl/world-ro'));
  await s.do('create /acl/nodelete READ|CREATE', () => a.create('/acl/nodelete', null, { acl: [{ perms: 5, id: { scheme: 'world', id: 'anyone' } }] }));
  await s.do('create /acl/nodelete/c', () => a.create('/acl/nodelete/c'));
  await s.do('delete /acl/nodelete/c → NOAUTH', () => a.delete('/acl/nodelete/c'));
  await s.do('multi delete /acl/nodelete/c → NOAUTH', () => a.multi([op.delete('/acl/nodelete/c')]), (r) => r.map((x) => s.result(x)).join(', '));
  await s.do('create /acl/creator CREATOR_ALL without auth → INVALIDACL', () => a.create('/acl/creator', null, { acl: Acls.CREATOR_ALL_ACL }));
  await s.do('alice create /acl/creator CREATOR_ALL', () => alice.create('/acl/creator', null, { acl: Acls.CREATOR_ALL_ACL }));
  await s.do('alice getACL /acl/creator', async () => s.acl((await alice.getACL('/acl/creator')).acl), (v) => v);
  await s.do('create /acl/ip-local ip:127.0.0.1', () => a.create('/acl/ip-local', 'ip', { acl: [{ perms: 31, id: { scheme: 'ip', id: '127.0.0.1' } }] }));
  await s.do('getData /acl/ip-local', () => b.getData('/acl/ip-local'));
  await s.do('create /acl/ip-net ip:127.0.0.0/8', () => a.create('/acl/ip-net', 'ip', { acl: [{ perms: 31, id: { scheme: 'ip', id: '127.0.0.0/8' } }] }));
  await s.do('getData /acl/ip-net', () => b.getData('/acl/ip-net'));
  await s.do('create /acl/ip-other ip:10.1.2.3', () => a.create('/acl/ip-other', 'ip', { acl: [{ perms: 31, id: { scheme: 'ip', id: '10.1.2.3' } }] }));
  await s.do('getData /acl/ip-other → NOAUTH', () => b.getData('/acl/ip-other'));
  await s.do('create /acl/ip-bad ip:nonsense', () => a.create('/acl/ip-bad', null, { acl: [{ perms: 31, id: { scheme: 'ip', id: 'nonsense' } }] }));
  await s.do('create /acl/w world:someone', () => a.create('/acl/w', null, { acl: [{ perms: 31, id: { scheme: 'world', id: 'someone' } }] }));
  await s.do('create /acl/dg digest without colon', () => a.create('/acl/dg', null, { acl: [{ perms: 31, id: { scheme: 'digest', id: 'alice' } }] }));
  await s.do('create /acl/un unknown scheme', () => a.create('/acl/un', null, { acl: [{ perms: 31, id: { scheme: 'nosuch', id: 'x' } }] }));
  await s.do('create /acl/perm0 perms 0', () => a.create('/acl/perm0', null, { acl: [{ perms: 0, id: { scheme: 'world', id: 'anyone' } }] }));
  await s.do('getData /acl/perm0', () => a.getData('/acl/perm0'));
  await s.do('setACL /acl/d (alice) v=0', () => alice.setACL('/acl/d', [{ perms: 31, id: { scheme: 'digest', id: aliceId } }, { perms: 1, id: { scheme: 'world', id: 'anyone' } }], 0));
  await s.do('b getData /acl/d after world READ added', () => b.getData('/acl/d'));
  // watch events on nodes the watcher cannot read (ZOOKEEPER-4799 filters them from 3.8.4 on)
  const watcher = await s.client('watcher');
  await s.do('create /acl/rw', () => a.create('/acl/rw'));
  await s.do('watcher addWatch /acl/rw PERSISTENT_RECURSIVE', () => watcher.client.addWatch('/acl/rw', AddWatchMode.PERSISTENT_RECURSIVE));
  await s.do('watcher getChildren /acl/rw watch', async () => sorted(await watcher.client.getChildren('/acl/rw', true)), (v) => v);
  await s.do('alice create /acl/rw/hidden (alice only)', () => alice.create('/acl/rw/hidden', 'h', { acl: [{ perms: 31, id: { scheme: 'digest', id: aliceId } }] }));
  await s.do('watcher exists /acl/rw/hidden watch', () => watcher.client.exists('/acl/rw/hidden', true));
  await s.do('alice setData /acl/rw/hidden', () => alice.setData('/acl/rw/hidden', 'h2'));
  await s.do('alice delete /acl/rw/hidden', () => alice.delete('/acl/rw/hidden'));
  await s.events(watcher);
  const { client: sup } = await s.client('super');
  await s.do('super addauth digest super:…', () => sup.addAuth('digest', `super:${SUPER_PASSWORD}`));
  await s.do('super getData /acl/r', () => sup.getData('/acl/r'));
  await s.do('super getACL /acl/r', async () => s.acl((await sup.getACL('/acl/r')).acl), (v) => v);
  await s.do('super setData /acl/world-ro? (deleted) /acl/r', () => sup.setData('/acl/r', 'by super'));
  await s.do('super whoAmI', async () => (await sup.whoAmI()).map((x) => `${x.authScheme}:${x.user}`).sort().join(', '), (v) => v);
  const { client: bad } = await s.client('badscheme');
  await s.do('addauth nosuch scheme', () => bad.addAuth('nosuch', 'whatever'));
  await s.do('client state after bad scheme', async () => bad.state, (v) => v);
  await s.do('call after bad scheme', () => bad.exists('/acl'));
  const { client: ipauth } = await s.client('ipauth');
  await s.do('addauth ip 127.0.0.1', () => ipauth.addAuth('ip', '127.0.0.1'));
  await s.do('client state after addauth ip', async () => ipauth.state, (v) => v);
}

async function watchesOneShot(s: Section): Promise<void> {
  const w = await s.client('w');
  const { client: x } = await s.client('x');
  await s.do('create /w', () => x.create('/w'));
  await s.do('create /w/a', () => x.create('/w/a', '0'));
  await s.do('w getData /w/a watch', () => w.client.getData('/w/a', true));
  await s.do('w exists /w/a watch', () => w.client.exists('/w/a', true));
  await s.do('w exists /w/missing watch', () => w.client.exists('/w/missing', true));
  await s.do('w getData /w/missing2 watch → NONODE (no watch)', () => w.client.getData('/w/missing2', true));
  await s.do('w getChildren /w watch', async () => sorted(await w.client.getChildren('/w', true)), (v) => v);
  await s.do('w getChildren /w/a watch', async () => sorted(await w.client.getChildren('/w/a', true)), (v) => v);
  await s.do('w checkWatches /w/a Data', () => w.client.checkWatches('/w/a', WatcherType.Data));
  await s.do('w checkWatches /w/a Children', () => w.client.checkWatches('/w/a', WatcherType.Children));
  await s.do('w checkWatches /w/zzz Any → NOWATCHER', () => w.client.checkWatches('/w/zzz', WatcherType.Any));
  await s.do('x setData /w/a', () => x.setData('/w/a', '1'));
  await s.events(w);
  await s.do('x setData /w/a again (watch fired once)', () => x.setData('/w/a', '2'));
  await s.events(w);
  await s.do('x create /w/missing', () => x.create('/w/missing'));
  await s.events(w);
  await s.do('x create /w/missing2', () => x.create('/w/missing2'));
  await s.events(w);
  await s.do('x delete /w/a', () => x.delete('/w/a'));
  await s.events(w);
  await s.do('w getData /w/missing watch', () => w.client.getData('/w/missing', true));
  await s.do('w getChildren /w watch', async () => sorted(await w.client.getChildren('/w', true)), (v) => v);
  await s.do('x delete /w/missing', () => x.delete('/w/missing'));
  await s.events(w);
  // another client's write: the event reaches w before w's next reply that shows the change
  await s.do('w getData /w/missing2 watch', () => w.client.getData('/w/missing2', true));
  const seenBefore = w.events.length;
  await s.do('x setData /w/missing2', () => x.setData('/w/missing2', 'seen'));
  await s.do('w getData /w/missing2 (shows the change)', async () => {
    const r = await w.client.getData('/w/missing2');
    return `${s.data(r.data)}; events already delivered: ${w.events.length - seenBefore}`;
  }, (v) => v);
  await s.events(w);
  await s.do('w exists /w/self watch', () => w.client.exists('/w/self', true));
  const before = w.events.length;
  await s.do('w create /w/self (its own write)', () => w.client.create('/w/self'));
  s.note(`events of w that arrived before its create reply: ${w.events.length - before}`);
  await s.events(w);
  await s.do('w getData /w/self watch', () => w.client.getData('/w/self', true));
  await s.do('w removeWatches /w/self Data', () => w.client.removeWatches('/w/self', WatcherType.Data));
  await s.do('w removeWatches /w/self Data again → NOWATCHER', () => w.client.removeWatches('/w/self', WatcherType.Data));
  await s.do('x setData /w/self (watch removed)', () => x.setData('/w/self', 'x'));
  await s.events(w);
  await s.do('w getChildren /w/self watch', async () => sorted(await w.client.getChildren('/w/self', true)), (v) => v);
  await s.do('w removeWatches /w/self Children', () => w.client.removeWatches('/w/self', WatcherType.Children));
  await s.do('x create /w/self/c', () => x.create('/w/self/c'));
  await s.events(w);
  await s.do('w getData /w/self watch (for Any)', () => w.client.getData('/w/self', true));
  await s.do('w removeWatches /w/self Any', () => w.client.removeWatches('/w/self', WatcherType.Any));
  await s.do('w removeWatches /w/nothing Any → NOWATCHER', () => w.client.removeWatches('/w/nothing', WatcherType.Any));
  await s.events(w);
  // multi: watches fire per sub-op, only when the multi succeeds
  await s.do('w exists /w/m1 watch', () => w.client.exists('/w/m1', true));
  await s.do('w getChildren /w watch', async () => sorted(await w.client.getChildren('/w', true)), (v) => v);
  await s.do('x failed multi creating /w/m1', () => x.multi([op.create('/w/m1'), op.create('/w/nope/x')]), (r) => r.map((y) => s.result(y)).join(', '));
  await s.events(w);
  await s.do('x multi creating /w/m1 and /w/m2', () => x.multi([op.create('/w/m1'), op.create('/w/m2')]), (r) => r.map((y) => s.result(y)).join(', '));
  await s.events(w);
}

async function watchesPersistent(s: Section): Promise<void> {
  const w = await s.client('w');
  const { client: x } = await s.client('x');
  await s.do('create /pw', () => x.create('/pw'));
  await s.do('w addWatch /pw/p PERSISTENT', () => w.client.addWatch('/pw/p', AddWatchMode.PERSISTENT));
  await s.do('w addWatch /pw/r PERSISTENT_RECURSIVE', () => w.client.addWatch('/pw/r', AddWatchMode.PERSISTENT_RECURSIVE));
  await s.do('w addWatch /pw/p bad mode 7 (raw)', () => w.client.send({ type: OpCode.addWatch, req: { path: '/pw/p', mode: 7 } }), (r) => errorCodeName(r.header.err));
  await s.do('x create /pw/p', () => x.create('/pw/p'));
  await s.do('x create /pw/p/c', () => x.create('/pw/p/c'));
  await s.do('x setData /pw/p/c', () => x.setData('/pw/p/c', '1'));
  await s.do('x setData /pw/p', () => x.setData('/pw/p', '1'));
  await s.do('x setData /pw/p again', () => x.setData('/pw/p', '2'));
  await s.events(w);
  await s.do('x create /pw/r', () => x.create('/pw/r'));
  await s.do('x create /pw/r/a', () => x.create('/pw/r/a'));
  await s.do('x create /pw/r/a/b', () => x.create('/pw/r/a/b'));
  await s.do('x setData /pw/r/a/b', () => x.setData('/pw/r/a/b', 'v'));
  await s.do('x delete /pw/r/a/b', () => x.delete('/pw/r/a/b'));
  await s.do('x setACL /pw/r/a (no event)', () => x.setACL('/pw/r/a', Acls.OPEN_ACL_UNSAFE));
  await s.events(w);
  await s.do('w getData /pw/r/a watch (one-shot beside recursive)', () => w.client.getData('/pw/r/a', true));
  await s.do('x setData /pw/r/a', () => x.setData('/pw/r/a', 'one event per connection'));
  await s.events(w);
  await s.do('w checkWatches /pw/p Any', () => w.client.checkWatches('/pw/p', WatcherType.Any));
  await s.do('w checkWatches /pw/r Data', () => w.client.checkWatches('/pw/r', WatcherType.Data));
  await s.do('w checkWatches /pw/r Children', () => w.client.checkWatches('/pw/r', WatcherType.Children));
  await s.do('w removeWatches /pw/p Children', () => w.client.removeWatches('/pw/p', WatcherType.Children));
  await s.do('x create /pw/p/c2 after Children removal', () => x.create('/pw/p/c2'));
  await s.do('x setData /pw/p after Children removal', () => x.setData('/pw/p', '3'));
  await s.events(w);
  await s.do('w removeWatches /pw/p Any', () => w.client.removeWatches('/pw/p', WatcherType.Any));
  await s.do('x setData /pw/p after Any removal', () => x.setData('/pw/p', '4'));
  await s.events(w);
  await s.do('w removeWatches /pw/r Children', () => w.client.removeWatches('/pw/r', WatcherType.Children));
  await s.do('w removeWatches /pw/r Data', () => w.client.removeWatches('/pw/r', WatcherType.Data));
  await s.do('x create /pw/r/z', () => x.create('/pw/r/z'));
  await s.events(w);
  await s.do('w addWatch / PERSISTENT_RECURSIVE', () => w.client.addWatch('/', AddWatchMode.PERSISTENT_RECURSIVE));
  await s.do('x create /pw/all', () => x.create('/pw/all'));
  await s.do('x multi setData /pw/all + create /pw/all/k', () => x.multi([op.setData('/pw/all', 'x'), op.create('/pw/all/k')]), (r) => r.map((y) => s.result(y)).join(', '));
  await s.events(w);
  await s.do('x multi create, setData, create child, delete child, delete /pw/flash', () =>
    x.multi([op.create('/pw/flash', 'a'), op.setData('/pw/flash', 'b'), op.create('/pw/flash/c'), op.delete('/pw/flash/c'), op.delete('/pw/flash')]), (r) => r.map((y) => s.result(y)).join(', '));
  await s.events(w);
  await s.do('w removeWatches / Any', () => w.client.removeWatches('/', WatcherType.Any));
  await s.events(w);
}

/** When several checks fail at once, the first in ZooKeeper's order decides the code. */
async function orderOfChecks(s: Section): Promise<void> {
  const { client: a } = await s.client('a');
  const locked = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];
  const badAcl = [{ perms: 31, id: { scheme: 'world', id: 'nobody' } }];
  await s.do('create /oc', () => a.create('/oc'));
  await s.do('create /oc/ro (world READ only)', () => a.create('/oc/ro', 'x', { acl: locked }));
  await s.do('create /oc/ro/a: no CREATE on parent', () => a.create('/oc/ro/a'));
  await s.do('create /oc/missing/a with a bad ACL: INVALIDACL or NONODE?', () => a.create('/oc/missing/a', null, { acl: badAcl }));
  await s.do('create /oc/ro with a bad ACL: INVALIDACL or NODEEXISTS?', () => a.create('/oc/ro', null, { acl: badAcl }));
  await s.do('create /oc/ro/a/ (bad path) under no-CREATE parent', () => a.create('/oc/ro/a/'));
  await s.do('create /oc/missing/a/ (bad path, parent missing)', () => a.create('/oc/missing/a/'));
  await s.do('create /oc/ro again (exists, parent /oc open)', () => a.create('/oc/ro'));
  await s.do('create /oc/ro/a- SEQUENTIAL under no-CREATE parent', () => a.create('/oc/ro/a-', null, { mode: CreateFlags.PERSISTENT_SEQUENTIAL }));
  await s.do('delete /oc/ro/nothing: no DELETE on parent, node missing', () => a.delete('/oc/ro/nothing'));
  await s.do('setData /oc/ro v=5: no WRITE and bad version', () => a.setData('/oc/ro', 'y', 5));
  await s.do('setACL /oc/nothing with a bad ACL: INVALIDACL or NONODE?', () => a.setACL('/oc/nothing', badAcl));
  await s.do('setACL /oc/ro v=7: no ADMIN and bad aversion', () => a.setACL('/oc/ro', Acls.OPEN_ACL_UNSAFE, 7));
  await s.do('setACL /oc/ro with a bad ACL and no ADMIN', () => a.setACL('/oc/ro', badAcl));
  await s.do('create /oc/e EPHEMERAL', () => a.create('/oc/e', null, { mode: CreateFlags.EPHEMERAL }));
  await s.do('create /oc/e/x with a bad ACL: INVALIDACL or NOCHILDRENFOREPHEMERALS?', () => a.create('/oc/e/x', null, { acl: badAcl }));
  await s.do('create /oc/e (exists) EPHEMERAL', () => a.create('/oc/e', null, { mode: CreateFlags.EPHEMERAL }));
  await s.do('create /oc/ttl TTL 0 under missing parent', () => a.create('/oc/missing/ttl', null, { mode: CreateFlags.PERSISTENT_WITH_TTL, ttl: 0 }));
  await s.do('create /oc/missing/x flags 9', () => a.send({ type: OpCode.create, req: { path: '/oc/missing/x', data: null, acl: badAcl, flags: 9 } }), (r) => errorCodeName(r.header.err));
  await s.do('getData /oc/ro/nothing (no node, parent unreadable?)', () => a.getData('/oc/ro/nothing'));
  await s.do('create /oc/noread (no READ, all else)', () => a.create('/oc/noread', 'secret', { acl: [{ perms: 30, id: { scheme: 'world', id: 'anyone' } }] }));
  await s.do('getData /oc/noread', () => a.getData('/oc/noread'));
  await s.do('getChildren /oc/noread', () => a.getChildren('/oc/noread'));
  await s.do('getChildren2 /oc/noread', () => a.getChildren2('/oc/noread'));
  await s.do('getACL /oc/noread (ADMIN without READ)', async () => s.acl((await a.getACL('/oc/noread')).acl), (v) => v);
  await s.do('getAllChildrenNumber /oc/noread', () => a.getAllChildrenNumber('/oc/noread'));
  await s.do('setData /oc/noread', () => a.setData('/oc/noread', 'w'));
  await s.do('create /oc/noread/c', () => a.create('/oc/noread/c'));
  await s.do('multiRead getData+getChildren /oc/noread', () => a.multiRead([op.getData('/oc/noread'), op.getChildren('/oc/noread')]), (r) => r.map((y) => s.result(y)).join(', '));
  await s.do('multi check /oc/noread', () => a.multi([op.check('/oc/noread', 1)]), (r) => r.map((y) => s.result(y)).join(', '));
  await s.do('sync /oc/noread', () => a.sync('/oc/noread'));
  await s.do('addWatch /oc/noread', () => a.addWatch('/oc/noread', AddWatchMode.PERSISTENT));
}

/** Bigger shapes: many children, deep and long paths, many watches on one path. */
async function scale(s: Section): Promise<void> {
  const { client: a } = await s.client('a');
  const w = await s.client('w');
  await s.do('create /sc', () => a.create('/sc'));
  await s.do('1,000 pipelined creates under /sc', async () => {
    const names = await Promise.all(Array.from({ length: 1000 }, (_, i) => a.create(`/sc/c-${String(i).padStart(4, '0')}`, String(i))));
    return names.length;
  });
  await s.do('getChildren2 /sc', async () => {
    const r = await a.getChildren2('/sc');
    const sortedNames = [...r.children].sort();
    return `${r.children.length} children, first ${sortedNames[0]}, last ${sortedNames.at(-1)}, ${s.stat(r.stat)}`;
  }, (v) => v);
  await s.do('getAllChildrenNumber /sc', () => a.getAllChildrenNumber('/sc'));
  await s.do('500 sequential creates in one multi', async () => (await a.multi(Array.from({ length: 500 }, () => op.create('/sc/s-', null, { mode: CreateFlags.PERSISTENT_SEQUENTIAL })))).length);
  await s.do('getChildren /sc count', async () => (await a.getChildren('/sc')).length);
  let deep = '/sc';
  for (let i = 0; i < 50; i++) deep += `/d${i}`;
  await s.do('create a path 50 levels deep, level by level', async () => {
    let p = '/sc';
    for (let i = 0; i < 50; i++) {
      p += `/d${i}`;
      await a.create(p, null);
    }
    return p === deep;
  });
  await s.do('getAllChildrenNumber /sc/d0', () => a.getAllChildrenNumber('/sc/d0'));
  const longName = 'n'.repeat(2000);
  await s.do('create /sc/<2,000-char name>', async () => (await a.create(`/sc/${longName}`, 'long')).length);
  await s.do('getData /sc/<2,000-char name>', () => a.getData(`/sc/${longName}`));
  for (let i = 0; i < 3; i++) await s.do(`w getData /sc/c-0000 watch #${i}`, () => w.client.getData('/sc/c-0000', true));
  await s.do('w exists /sc/c-0000 watch', () => w.client.exists('/sc/c-0000', true));
  await s.do('a setData /sc/c-0000', () => a.setData('/sc/c-0000', 'x'));
  await s.events(w);
  await s.do('w getChildren watches on 200 nodes', async () => {
    await Promise.all(Array.from({ length: 200 }, (_, i) => w.client.getChildren(`/sc/c-${String(i).padStart(4, '0')}`, true)));
    return 200;
  });
  await s.do('a multi: a child under each of the 200 nodes', async () => (await a.multi(Array.from({ length: 200 }, (_, i) => op.create(`/sc/c-${String(i).padStart(4, '0')}/k`)))).length);
  await s.do('w events after the multi', async () => {
    await w.client.exists('/');
    const got = w.events.splice(0);
    return `${got.length} events, all NodeChildrenChanged: ${got.every((e) => e.startsWith('NodeChildrenChanged '))}, in path order: ${got.join() === [...got].sort().join()}`;
  }, (v) => v);
}

/** setWatches / setWatches2 after a reconnect: catch-up events for changes since relativeZxid, then live watches. */
async function setWatchesCatchUp(s: Section): Promise<void> {
  const { client: x } = await s.client('x');
  await s.do('create /sw', () => x.create('/sw'));
  for (const n of ['a', 'b', 'gone', 'kids']) await s.do(`create /sw/${n}`, () => x.create(`/sw/${n}`, n));
  await s.do('create /sw/kids/k1', () => x.create('/sw/kids/k1'));
  const raw = await RawConnection.open(s.target.port);
  const hello = await raw.handshake();
  s.nameSession(hello?.sessionId ?? 0n, 'raw');
  const probe = await raw.request({ type: OpCode.exists, req: { path: '/sw', watch: false } });
  const relativeZxid = probe?.header.zxid ?? 0n;
  s.note(`raw learns the server's zxid ${s.zxid(relativeZxid)}`);
  await s.do('x setData /sw/a (after relativeZxid)', () => x.setData('/sw/a', 'changed'));
  await s.do('x delete /sw/gone', () => x.delete('/sw/gone'));
  await s.do('x create /sw/new', () => x.create('/sw/new'));
  await s.do('x create /sw/kids/k2', () => x.create('/sw/kids/k2'));
  const drain = async (label: string): Promise<void> => {
    // a round trip: every notification sent before its reply has been collected
    await raw.request({ type: OpCode.exists, req: { path: '/', watch: false } });
    s.note(`${label}: [${raw.notifications.splice(0).map((e) => `${EVENT_NAMES[e.type] ?? e.type} ${e.path} state=${e.state}`).join(', ')}]`);
  };
  const sw = await raw.request({
    type: OpCode.setWatches,
    req: {
      relativeZxid,
      dataWatches: ['/sw/a', '/sw/b', '/sw/gone'],
      existWatches: ['/sw/new', '/sw/absent'],
      childWatches: ['/sw', '/sw/kids', '/sw/b', '/sw/nothere'],
    },
  });
  s.note(`setWatches → ${sw === null ? 'closed' : errorCodeName(sw.header.err)}`);
  await drain('catch-up events');
  await s.do('x setData /sw/b', () => x.setData('/sw/b', 'now'));
  await s.do('x create /sw/absent', () => x.create('/sw/absent'));
  await s.do('x create /sw/b/c', () => x.create('/sw/b/c'));
  await s.do('x setData /sw/a (its watch fired at catch-up)', () => x.setData('/sw/a', 'again'));
  await drain('live events after setWatches');
  const probe2 = await raw.request({ type: OpCode.exists, req: { path: '/sw', watch: false } });
  const z2 = probe2?.header.zxid ?? 0n;
  await s.do('x create /sw/p', () => x.create('/sw/p'));
  const sw2 = await raw.request({
    type: OpCode.setWatches2,
    req: { relativeZxid: z2, dataWatches: [], existWatches: [], childWatches: [], persistentWatches: ['/sw/p'], persistentRecursiveWatches: ['/sw/kids'] },
  });
  s.note(`setWatches2 (persistent /sw/p, recursive /sw/kids) → ${sw2 === null ? 'closed' : errorCodeName(sw2.header.err)}`);
  await drain('catch-up events (persistent: none)');
  await s.do('x setData /sw/p', () => x.setData('/sw/p', '1'));
  await s.do('x setData /sw/p again', () => x.setData('/sw/p', '2'));
  await s.do('x create /sw/kids/k3', () => x.create('/sw/kids/k3'));
  await s.do('x setData /sw/kids/k3', () => x.setData('/sw/kids/k3', 'x'));
  await drain('live persistent events');
  raw.destroy();
}

/** Quota nodes as zkCli's setquota writes them; the server keeps zookeeper_stats current. */
async function quota(s: Section): Promise<void> {
  const { client: a } = await s.client('a');
  await s.do('create /qt', () => a.create('/qt', '12345'));
  await s.do('create /qt/a', () => a.create('/qt/a', 'abc'));
  await s.do('create /zookeeper/quota/qt', () => a.create('/zookeeper/quota/qt'));
  await s.do('create zookeeper_limits', () => a.create('/zookeeper/quota/qt/zookeeper_limits', 'count=10,bytes=1000'));
  await s.do('create zookeeper_stats', () => a.create('/zookeeper/quota/qt/zookeeper_stats', 'count=2,bytes=8'));
  await s.do('create /qt/b (+1 node, +4 bytes)', () => a.create('/qt/b', 'four'));
  await s.do('setData /qt/a (3 → 6 bytes)', () => a.setData('/qt/a', 'abcdef'));
  await s.do('getData zookeeper_stats', () => a.getData('/zookeeper/quota/qt/zookeeper_stats'));
  await s.do('delete /qt/b', () => a.delete('/qt/b'));
  await s.do('getData zookeeper_stats after delete', () => a.getData('/zookeeper/quota/qt/zookeeper_stats'));
  await s.do('getChildren /zookeeper/quota', async () => sorted(await a.getChildren('/zookeeper/quota')), (v) => v);
  for (let i = 0; i < 12; i++) await s.do(`create /qt/over-${i} (count limit 10 is soft)`, () => a.create(`/qt/over-${i}`));
  await s.do('getData zookeeper_stats over the limit', () => a.getData('/zookeeper/quota/qt/zookeeper_stats'));
}

/** WatcherType Persistent (4) / PersistentRecursive (5) in checkWatches/removeWatches. */
async function persistentWatcherTypes(s: Section): Promise<void> {
  const w = await s.client('w');
  const { client: x } = await s.client('x');
  await s.do('create /wt', () => x.create('/wt'));
  await s.do('w addWatch /wt PERSISTENT', () => w.client.addWatch('/wt', AddWatchMode.PERSISTENT));
  await s.do('w addWatch /wt PERSISTENT_RECURSIVE', () => w.client.addWatch('/wt', AddWatchMode.PERSISTENT_RECURSIVE));
  await s.do('w checkWatches /wt Persistent', () => w.client.checkWatches('/wt', WatcherType.Persistent));
  await s.do('w checkWatches /wt PersistentRecursive', () => w.client.checkWatches('/wt', WatcherType.PersistentRecursive));
  await s.do('w removeWatches /wt Persistent', () => w.client.removeWatches('/wt', WatcherType.Persistent));
  await s.do('x setData /wt', () => x.setData('/wt', '1'));
  await s.events(w);
  await s.do('w removeWatches /wt PersistentRecursive', () => w.client.removeWatches('/wt', WatcherType.PersistentRecursive));
  await s.do('x create /wt/y', () => x.create('/wt/y'));
  await s.events(w);
}

async function sessions(s: Section): Promise<void> {
  const tick = s.target.tickTimeMs;
  const { client: short } = await s.client('short', { sessionTimeoutMs: 1 });
  s.note(`requested 1 ms: negotiated ${short.negotiatedTimeoutMs / tick} × tickTime`);
  const { client: long } = await s.client('long', { sessionTimeoutMs: 10_000_000 });
  s.note(`requested 10,000,000 ms: negotiated ${long.negotiatedTimeoutMs / tick} × tickTime`);
  const w = await s.client('w');
  await s.do('create /sess', () => w.client.create('/sess'));
  // a session on a bare socket, dropped without closeSession
  const raw = await RawConnection.open(s.target.port);
  const hello = await raw.handshake({ timeOutMs: 2 * tick });
  if (hello === null) {
    s.note('raw handshake refused');
    return;
  }
  s.nameSession(hello.sessionId, 'raw');
  s.note(`raw session: negotiated ${hello.timeOut / tick} × tickTime, passwd ${hello.passwd.length} bytes, readOnly ${String(hello.readOnly)}`);
  const created = await raw.request({ type: OpCode.create, req: { path: '/sess/eph', data: null, acl: Acls.OPEN_ACL_UNSAFE, flags: CreateFlags.EPHEMERAL } });
  s.note(`raw create /sess/eph EPHEMERAL → ${created === null ? 'closed' : errorCodeName(created.header.err)}`);
  await s.do('w exists /sess/eph watch', () => w.client.exists('/sess/eph', true));
  await s.do('w getChildren /sess watch', async () => sorted(await w.client.getChildren('/sess', true)), (v) => v);
  raw.destroy();
  // resume on a new connection within the timeout
  const again = await RawConnection.open(s.target.port);
  const resumed = await again.handshake({ timeOutMs: 2 * tick, sessionId: hello.sessionId, passwd: hello.passwd });
  s.note(`resume on a new connection → ${resumed === null ? 'closed' : resumed.timeOut > 0 && resumed.sessionId === hello.sessionId ? 'same session' : `timeOut ${resumed.timeOut}`}`);
  const eph = await again.request({ type: OpCode.getEphemerals, req: { prefixPath: '/sess' } });
  s.note(`resumed getEphemerals /sess → ${eph === null ? 'closed' : errorCodeName(eph.header.err)}`);
  const wrong = await RawConnection.open(s.target.port);
  const badPass = await wrong.handshake({ sessionId: hello.sessionId, passwd: new Uint8Array(16).fill(7) });
  s.note(`resume with a wrong password → ${badPass === null ? 'closed without answer' : `timeOut ${badPass.timeOut} sessionId ${badPass.sessionId === 0n ? '0' : 'set'} passwd ${badPass.passwd.every((b) => b === 0) ? 'zeros' : 'set'}`}`);
  await wrong.closed;
  s.note(`after the wrong-password answer the server closed the socket: yes`);
  const ahead = await RawConnection.open(s.target.port);
  const aheadAnswer = await ahead.handshake({ lastZxidSeen: 0x7fff_0000_0000_0000n });
  s.note(`client that has seen a newer zxid → ${aheadAnswer === null ? 'closed without answer' : `answered timeOut ${aheadAnswer.timeOut}`}`);
  ahead.destroy();
  await s.events(w);
  again.destroy();
  // expiry: no packets for the negotiated timeout
  await s.waitEvents(w, 2, 20 * tick + 10_000);
  await s.do('exists /sess/eph after expiry', () => w.client.exists('/sess/eph'));
  const late = await RawConnection.open(s.target.port);
  const lateAnswer = await late.handshake({ sessionId: hello.sessionId, passwd: hello.passwd });
  s.note(`resume after expiry → ${lateAnswer === null ? 'closed without answer' : `timeOut ${lateAnswer.timeOut} sessionId ${lateAnswer.sessionId === 0n ? '0' : 'set'}`}`);
  late.destroy();
  const expiredClient = await connectClient(s.target.connectString, { sessionId: hello.sessionId, sessionPasswd: hello.passwd }, 10_000).then(
    async (c) => {
      await c.close();
      return 'connected';
    },
    (e: unknown) => s.error(e),
  );
  s.note(`client resuming the expired session → ${expiredClient}`);
  // when expiry comes: between the timeout and a couple of ticks after the last packet
  const timed = await RawConnection.open(s.target.port);
  const timedHello = await timed.handshake({ timeOutMs: 2 * tick });
  s.nameSession(timedHello?.sessionId ?? 0n, 'timed');
  await timed.request({ type: OpCode.create, req: { path: '/sess/timed', data: null, acl: Acls.OPEN_ACL_UNSAFE, flags: CreateFlags.EPHEMERAL } });
  await s.do('w exists /sess/timed watch', () => w.client.exists('/sess/timed', true));
  const lastPacketMs = Date.now();
  timed.destroy();
  const expiryDeadline = Date.now() + 20 * tick + 10_000;
  while (w.events.length === 0 && Date.now() < expiryDeadline) await new Promise((r) => setTimeout(r, 10));
  const afterMs = Date.now() - lastPacketMs;
  const timeoutMs = timedHello?.timeOut ?? 0;
  s.note(`expiry after the last packet: ${afterMs < timeoutMs * 0.9 ? 'EARLY' : afterMs <= timeoutMs + 4 * tick ? 'between timeout and timeout + 4 ticks' : 'LATE'} (events ${w.events.splice(0).join(', ')})`);
  // pings alone keep a session: 3 timeouts long, a ping every 0.6 tick
  const pinger = await RawConnection.open(s.target.port);
  const pingerHello = await pinger.handshake({ timeOutMs: 2 * tick });
  s.nameSession(pingerHello?.sessionId ?? 0n, 'pinger');
  await pinger.request({ type: OpCode.create, req: { path: '/sess/pinged', data: null, acl: Acls.OPEN_ACL_UNSAFE, flags: CreateFlags.EPHEMERAL } });
  const pingUntil = Date.now() + 3 * (pingerHello?.timeOut ?? 0);
  while (Date.now() < pingUntil) {
    const pong = await pinger.requestWithXid(-2, { type: OpCode.ping, req: null });
    if (pong === null) break;
    await new Promise((r) => setTimeout(r, Math.floor(tick * 0.6)));
  }
  s.note(`after 3 timeouts of pings only: connection ${pinger.isClosed ? 'closed' : 'open'}`);
  await s.do('exists /sess/pinged (its session pinged)', async () => (await w.client.exists('/sess/pinged')) !== null);
  pinger.destroy();
  // closeSession deletes ephemerals and fires watches at once
  const { client: closer } = await s.client('closer');
  await s.do('closer create /sess/eph2 EPHEMERAL', () => closer.create('/sess/eph2', null, { mode: CreateFlags.EPHEMERAL }));
  await s.do('w exists /sess/eph2 watch', () => w.client.exists('/sess/eph2', true));
  await s.do('closer close', () => closer.close());
  await s.events(w);
  await s.do('closed client exists', () => closer.exists('/'));
}

async function containersAndTtl(s: Section): Promise<void> {
  const { client: a } = await s.client('a');
  const w = await s.client('w');
  await s.do('create /ct', () => a.create('/ct'));
  await s.do('create2 /ct/c CONTAINER', () => a.create2('/ct/c', 'c', { mode: CreateFlags.CONTAINER }), (v) => `${v.path} ${s.stat(v.stat)}`);
  await s.do('create /ct/never CONTAINER', () => a.create('/ct/never', null, { mode: CreateFlags.CONTAINER }));
  await s.do('create /ct/c/child', () => a.create('/ct/c/child'));
  await s.do('create /ct/c/eph EPHEMERAL', () => a.create('/ct/c/eph', null, { mode: CreateFlags.EPHEMERAL }));
  await s.do('create /ct/c/seq- PERSISTENT_SEQUENTIAL', () => a.create('/ct/c/seq-', null, { mode: CreateFlags.PERSISTENT_SEQUENTIAL }));
  await s.do('w exists /ct/c watch', () => w.client.exists('/ct/c', true));
  await s.do('delete /ct/c/child', () => a.delete('/ct/c/child'));
  await s.do('delete /ct/c/eph', () => a.delete('/ct/c/eph'));
  await s.do('delete /ct/c/seq-0000000002', () => a.delete('/ct/c/seq-0000000002'));
  await s.waitFor('the empty container /ct/c is deleted', async () => (await a.exists('/ct/c')) === null, 20_000);
  await s.waitEvents(w, 1, 5000);
  await s.do('exists /ct/never (never had a child)', async () => (await a.exists('/ct/never')) !== null);
  await s.do('create /ct/ttl TTL 500 ms', () => a.create('/ct/ttl', 't', { mode: CreateFlags.PERSISTENT_WITH_TTL, ttl: 500 }));
  await s.do('create2 /ct/ttls- SEQUENTIAL TTL 500 ms', () => a.create2('/ct/ttls-', 't', { mode: CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL, ttl: 500 }), (v) => `${v.path} ${s.stat(v.stat)}`);
  await s.do('create /ct/ttl0 TTL 0 → BADARGUMENTS', () => a.create('/ct/ttl0', 't', { mode: CreateFlags.PERSISTENT_WITH_TTL, ttl: 0 }));
  await s.do('create /ct/ttlbig TTL 2^40 → BADARGUMENTS', () => a.create('/ct/ttlbig', 't', { mode: CreateFlags.PERSISTENT_WITH_TTL, ttl: 2n ** 40n }));
  await s.do('createTTL with PERSISTENT flags (raw)', () => a.send({ type: OpCode.createTTL, req: { path: '/ct/ttlp', data: null, acl: Acls.OPEN_ACL_UNSAFE, flags: 0, ttl: 1000n } }), (r) => errorCodeName(r.header.err));
  await s.do('createContainer with PERSISTENT flags (raw)', () => a.send({ type: OpCode.createContainer, req: { path: '/ct/cp', data: null, acl: Acls.OPEN_ACL_UNSAFE, flags: 0 } }), (r) => errorCodeName(r.header.err));
  await s.do('create /ct/ttlkeep TTL 60 s', () => a.create('/ct/ttlkeep', 't', { mode: CreateFlags.PERSISTENT_WITH_TTL, ttl: 60_000 }));
  await s.do('create /ct/ttlparent TTL 500 ms', () => a.create('/ct/ttlparent', 't', { mode: CreateFlags.PERSISTENT_WITH_TTL, ttl: 500 }));
  await s.do('create /ct/ttlparent/c', () => a.create('/ct/ttlparent/c'));
  await s.waitFor('the TTL node /ct/ttl is deleted', async () => (await a.exists('/ct/ttl')) === null, 20_000);
  await s.waitFor('the sequential TTL node is deleted', async () => (await a.getChildren('/ct')).every((c) => !c.startsWith('ttls-')), 20_000);
  await s.do('exists /ct/ttlparent (has a child: kept)', async () => (await a.exists('/ct/ttlparent')) !== null);
  await s.do('exists /ct/ttlkeep', async () => (await a.exists('/ct/ttlkeep')) !== null);
  await s.do('delete /ct/ttlparent/c', () => a.delete('/ct/ttlparent/c'));
  await s.waitFor('the TTL parent is deleted once empty', async () => (await a.exists('/ct/ttlparent')) === null, 20_000);
  // without extendedTypesEnabled
  const { client: r } = await s.client('restricted', {}, s.target.restricted.connectString);
  await s.do('restricted server: create TTL → UNIMPLEMENTED', () => r.create('/ttl', 't', { mode: CreateFlags.PERSISTENT_WITH_TTL, ttl: 500 }));
  await s.do('restricted server: create CONTAINER', () => r.create('/container', null, { mode: CreateFlags.CONTAINER }));
}

async function miscOps(s: Section): Promise<void> {
  const { client: a } = await s.client('a');
  await s.do('create /misc', () => a.create('/misc'));
  await s.do('sync /misc', () => a.sync('/misc'));
  await s.do('sync /misc/nope', () => a.sync('/misc/nope'));
  await s.do('reconfig (disabled)', () => a.send({ type: OpCode.reconfig, req: { joiningServers: null, leavingServers: null, newMembers: 'server.1=127.0.0.1:2888:3888;2181', curConfigId: -1n } }), (r) => errorCodeName(r.header.err));
  await s.do('getAllChildrenNumber / ≥ 3', async () => (await a.getAllChildrenNumber('/')) >= 3);
  await s.do('exists /misc still served', () => a.exists('/misc'));
  // unknown opcode on a raw session: UNIMPLEMENTED, then the connection closes
  const raw = await RawConnection.open(s.target.port);
  const hello = await raw.handshake();
  s.nameSession(hello?.sessionId ?? 0n, 'raw');
  const frame = new Uint8Array([0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0x03, 0xe7]);
  raw.write(frame);
  const reply = await raw.replyTo(1).catch((e: Error) => e);
  s.note(`unknown opcode 999 → ${reply === null ? 'closed without reply' : reply instanceof Error ? reply.message : errorCodeName(reply.header.err)}`);
  const closed = await Promise.race([raw.closed.then(() => 'closed'), new Promise<string>((r) => setTimeout(() => r('still open after 5 s'), 5000))]);
  s.note(`after the unknown opcode the connection is ${closed}`);
  raw.destroy();
  await s.do('server still serving: exists /misc', () => a.exists('/misc'));
  // a createSession opcode inside a session: both refuse it (ZooKeeper: connection closed)
  await s.do('setWatches with nothing (raw)', () => a.send({ type: OpCode.setWatches, req: { relativeZxid: 0n, dataWatches: [], existWatches: [], childWatches: [] } }), (r) => errorCodeName(r.header.err));
  await s.do('getChildren /misc raw op 8', () => a.send({ type: OpCode.getChildren, req: { path: '/misc', watch: false } }), (r) => errorCodeName(r.header.err));
  await s.do('deleteContainer /misc (raw op 20)', () => a.send({ type: OpCode.deleteContainer, req: { path: '/misc' } }), (r) => errorCodeName(r.header.err));
  await s.do('exists /misc after deleteContainer of a persistent node', async () => (await a.exists('/misc')) !== null);
  // FIFO per client: pipelined (not awaited one by one), every read sees the writes sent before it
  await s.do('create /misc/fifo', () => a.create('/misc/fifo', '0'));
  await s.do('100 pipelined setData + getData pairs: each read sees its write', async () => {
    const pairs = Array.from({ length: 100 }, (_, i) => [a.setData('/misc/fifo', String(i + 1)), a.getData('/misc/fifo')] as const);
    const seen = await Promise.all(pairs.map(async ([w, r]) => {
      const stat = await w;
      const got = await r;
      return `${stat.version}:${new TextDecoder().decode(got.data!)}:${got.stat.version}`;
    }));
    const wrong = seen.filter((v, i) => v !== `${i + 1}:${i + 1}:${i + 1}`);
    return wrong.length === 0 ? 'all 100 in order' : `out of order: ${wrong.slice(0, 3).join(' ')}`;
  }, (v) => v);
  await s.do('pipelined create + getData + delete + exists', async () => {
    const c = a.create('/misc/fifo/x', 'x');
    const g = a.getData('/misc/fifo/x');
    const d = a.delete('/misc/fifo/x');
    const e = a.exists('/misc/fifo/x');
    return `${await c} ${s.data((await g).data)} ${String(await d)} ${String(await e)}`;
  }, (v) => v);
}

/**
 * The mntr keys monitoring tools read: ZooKeeper 3.4's set (Linux adds the file descriptor
 * counts) plus the 3.6+ general keys named in the protocol notes. ZooKeeper 3.8 prints ~600
 * keys (per-namespace and Prometheus summaries); scenario.test.ts separately checks that
 * ZooLab prints no key ZooKeeper lacks.
 */
export const MNTR_CORE_KEYS = [
  'zk_version', 'zk_avg_latency', 'zk_max_latency', 'zk_min_latency', 'zk_packets_received', 'zk_packets_sent',
  'zk_num_alive_connections', 'zk_outstanding_requests', 'zk_server_state', 'zk_znode_count', 'zk_watch_count',
  'zk_ephemerals_count', 'zk_approximate_data_size', 'zk_open_file_descriptor_count', 'zk_max_file_descriptor_count',
  'zk_uptime', 'zk_global_sessions', 'zk_local_sessions', 'zk_auth_failed_count',
];

/** Wire details clients depend on: the readOnly byte, pings, xid -8, closeSession, configured timeout bounds. */
async function wireDetails(s: Section): Promise<void> {
  const withByte = await RawConnection.open(s.target.port);
  await withByte.handshake();
  s.note(`ConnectRequest with readOnly → ConnectResponse of ${withByte.connectResponseBytes} bytes`);
  const without = await RawConnection.open(s.target.port);
  const hello = await without.handshake({ omitReadOnly: true });
  s.note(`ConnectRequest without readOnly (44 bytes) → ConnectResponse of ${without.connectResponseBytes} bytes, timeOut ${hello === null ? 'closed' : hello.timeOut / s.target.tickTimeMs} × tickTime`);
  const ro = await RawConnection.open(s.target.port);
  const roHello = await ro.handshake({ readOnly: true });
  s.note(`ConnectRequest asking readOnly=true of a read-write server → readOnly ${String(roHello?.readOnly)}`);
  ro.destroy();
  const ping = await without.requestWithXid(-2, { type: OpCode.ping, req: null });
  s.note(`ping → xid ${ping?.header.xid} err ${ping === null ? 'closed' : errorCodeName(ping.header.err)} body ${ping?.body.length} bytes zxid ${ping === null ? '' : ping.header.zxid > 0n ? '>0' : '0'}`);
  const sw = await without.requestWithXid(-8, { type: OpCode.setWatches, req: { relativeZxid: 0n, dataWatches: [], existWatches: ['/nowhere'], childWatches: [] } });
  s.note(`setWatches with xid -8 (C client) → xid ${sw?.header.xid} err ${sw === null ? 'closed' : errorCodeName(sw.header.err)}`);
  const auth = await without.requestWithXid(-4, { type: OpCode.auth, req: { type: 0, scheme: 'digest', auth: new TextEncoder().encode('u:p') } });
  s.note(`auth with xid -4 → xid ${auth?.header.xid} zxid ${auth?.header.zxid} err ${auth === null ? 'closed' : errorCodeName(auth.header.err)}`);
  const exists = await without.request({ type: OpCode.exists, req: { path: '/', watch: false } });
  s.note(`exists / after those → ${exists === null ? 'closed' : errorCodeName(exists.header.err)}`);
  const close = await without.request({ type: OpCode.closeSession, req: null });
  s.note(`closeSession → ${close === null ? 'closed without reply' : `err ${errorCodeName(close.header.err)} body ${close.body.length} bytes`}`);
  const closedAfter = await Promise.race([without.closed.then(() => 'closed'), new Promise<string>((r) => setTimeout(() => r('still open after 5 s'), 5000))]);
  s.note(`after closeSession the server ${closedAfter === 'closed' ? 'closed the socket' : closedAfter}`);
  const reuse = await RawConnection.open(s.target.port);
  const reuseHello = await reuse.handshake({ sessionId: hello?.sessionId ?? 0n, passwd: hello?.passwd ?? new Uint8Array(16) });
  s.note(`resuming the closed session → ${reuseHello === null ? 'closed without answer' : `timeOut ${reuseHello.timeOut}`}`);
  reuse.destroy();
  withByte.destroy();
  // a session resumed on a second connection while the first is open: the first is closed
  const first = await RawConnection.open(s.target.port);
  const firstHello = await first.handshake();
  const second = await RawConnection.open(s.target.port);
  const moved = await second.handshake({ sessionId: firstHello?.sessionId ?? 0n, passwd: firstHello?.passwd ?? new Uint8Array(16) });
  s.note(`resume on a second connection while the first is open → ${moved === null ? 'closed' : moved.sessionId === firstHello?.sessionId ? 'same session' : 'other'}`);
  const firstClosed = await Promise.race([first.closed.then(() => 'closed'), new Promise<string>((r) => setTimeout(() => r('still open after 5 s'), 5000))]);
  s.note(`the first connection is then ${firstClosed}`);
  const onSecond = await second.request({ type: OpCode.exists, req: { path: '/', watch: false } });
  s.note(`the second connection serves → ${onSecond === null ? 'closed' : errorCodeName(onSecond.header.err)}`);
  first.destroy();
  second.destroy();
  // odd but well-formed ConnectRequests
  for (const [label, opts] of [
    ['protocolVersion 1', { protocolVersion: 1 }],
    ['timeOut -5', { timeOutMs: -5 }],
    ['a new session with an empty passwd', { passwd: new Uint8Array(0) }],
  ] as const) {
    const c = await RawConnection.open(s.target.port);
    const h = await c.handshake(opts);
    s.note(`ConnectRequest with ${label} → ${h === null ? 'closed without answer' : `protocolVersion ${h.protocolVersion} timeOut ${h.timeOut / s.target.tickTimeMs} × tickTime passwd ${h.passwd.length} bytes`}`);
    c.destroy();
  }
  // the restricted server has minSessionTimeout=3000, maxSessionTimeout=5000
  for (const asked of [1, 4000, 10_000_000]) {
    const c = await RawConnection.open(s.target.restricted.port);
    const h = await c.handshake({ timeOutMs: asked });
    s.note(`minSessionTimeout=3000 maxSessionTimeout=5000: asked ${asked} → ${h === null ? 'closed' : h.timeOut}`);
    c.destroy();
  }
}

/** SASL DIGEST-MD5 over opcode 102 against the JAAS users (Server { user_alice="alice-secret" }). */
async function sasl(s: Section): Promise<void> {
  const { client: a } = await s.client('a');
  await s.do('create /sasl', () => a.create('/sasl'));
  await s.do('create /sasl/alice ACL sasl:alice ALL', () => a.create('/sasl/alice', 'for alice', { acl: [{ perms: 31, id: { scheme: 'sasl', id: 'alice' } }] }));
  await s.do('getData /sasl/alice without SASL → NOAUTH', () => a.getData('/sasl/alice'));
  const login = async (name: string, password: string): Promise<RawConnection> => {
    const raw = await RawConnection.open(s.target.port);
    const hello = await raw.handshake();
    s.nameSession(hello?.sessionId ?? 0n, name);
    const first = await raw.request({ type: OpCode.sasl, req: { token: new Uint8Array(0) } });
    if (first === null || first.header.err !== 0) {
      s.note(`${name}: first SASL token → ${first === null ? 'closed' : errorCodeName(first.header.err)}`);
      return raw;
    }
    const challengeBytes = new JuteReader(first.body).buffer();
    const challenge = parseDigestChallenge(new TextDecoder().decode(challengeBytes ?? new Uint8Array(0)));
    s.note(`${name}: challenge keys [${[...challenge.keys()].sort().join(', ')}] realm=${challenge.get('realm')} qop=${challenge.get('qop')} algorithm=${challenge.get('algorithm')}`);
    const second = await raw.request({ type: OpCode.sasl, req: { token: digestMd5Response(challenge, name, password) } });
    if (second === null || second.header.err !== 0) {
      s.note(`${name}: response → ${second === null ? 'closed' : errorCodeName(second.header.err)}`);
      const closed = await Promise.race([raw.closed.then(() => 'closed'), new Promise<string>((r) => setTimeout(() => r('open'), 3000))]);
      s.note(`${name}: connection then ${closed}`);
      return raw;
    }
    const final = new TextDecoder().decode(new JuteReader(second.body).buffer() ?? new Uint8Array(0));
    s.note(`${name}: response → OK, server token ${final.startsWith('rspauth=') ? 'rspauth=…' : JSON.stringify(final)}`);
    return raw;
  };
  const alice = await login('alice', 'alice-secret');
  const who = await alice.request({ type: OpCode.whoAmI, req: null });
  if (who !== null && who.header.err === 0) {
    const r = new JuteReader(who.body);
    const n = r.int();
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push(`${r.ustring()}:${r.ustring()}`);
    s.note(`alice whoAmI → [${ids.sort().join(', ')}]`);
  } else s.note(`alice whoAmI → ${who === null ? 'closed' : errorCodeName(who.header.err)}`);
  const got = await alice.request({ type: OpCode.getData, req: { path: '/sasl/alice', watch: false } });
  s.note(`alice getData /sasl/alice → ${got === null ? 'closed' : errorCodeName(got.header.err)}`);
  const made = await alice.request({ type: OpCode.create, req: { path: '/sasl/by-alice', data: null, acl: Acls.CREATOR_ALL_ACL, flags: 0 } });
  s.note(`alice create /sasl/by-alice CREATOR_ALL → ${made === null ? 'closed' : errorCodeName(made.header.err)}`);
  const acl = await alice.request({ type: OpCode.getACL, req: { path: '/sasl/by-alice' } });
  if (acl !== null && acl.header.err === 0) {
    const r = new JuteReader(acl.body);
    const n = r.int();
    const entries: string[] = [];
    for (let i = 0; i < n; i++) entries.push(`${r.int()}:${r.ustring()}:${r.ustring()}`);
    s.note(`alice getACL /sasl/by-alice (auth expanded) → [${entries.join(', ')}]`);
  } else s.note(`alice getACL /sasl/by-alice → ${acl === null ? 'closed' : errorCodeName(acl.header.err)}`);
  await s.do('getACL /sasl/by-alice by a (no SASL)', async () => s.acl((await a.getACL('/sasl/by-alice')).acl), (v) => v);
  alice.destroy();
  const mallory = await login('alice', 'wrong');
  mallory.destroy();
  const nobody = await login('bob', 'whatever');
  nobody.destroy();
}

/** Four-letter words: compare the shape (keys, line prefixes), not the values. */
export function fourLetterShape(word: string, text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const shapeValue = (l: string): string =>
    l
      .replace(/\/?\d+\.\d+\.\d+\.\d+:\d+/g, 'ADDR')
      .replace(/0x[0-9a-f]+/gi, 'HEX')
      .replace(/-?\d+(\.\d+)?/g, 'N');
  switch (word) {
    case 'ruok':
    case 'isro':
      return JSON.stringify(text);
    case 'hash':
      // the digest history: `<zxid in hex>: <digest>` lines, how many depends on how many txns went by
      return lines.every((l) => /^[0-9a-f]+: -?\d+$/.test(l)) ? '<zxid>: <digest> lines (0 or more)' : JSON.stringify(text);
    case 'envi':
    case 'conf':
      return lines
        .map((l) => (l.includes('=') ? l.slice(0, l.indexOf('=')) : l))
        .filter((k) => !k.startsWith('java.'))
        .sort()
        .join('\n');
    case 'srvr':
    case 'stat':
      // one line per shape: how many client lines `stat` lists depends on connections closing meanwhile
      return [...new Set(lines.map((l) => (/^\s/.test(l) ? shapeValue(l.trim()).replace(/\[.*?\]/, '[…]').replace(/\(.*\)/, '(…)') : l.includes(':') ? l.slice(0, l.indexOf(':') + 1) : shapeValue(l))))].join('\n');
    case 'cons':
      return [
        ...new Set(
          lines.map((l) =>
            l
              .trim()
              .replace(/^\/?[\d.:]+/, 'ADDR')
              .replace(/\[.*?\]/, '[…]')
              .replace(/\((.*)\)/, (_, inner: string) => `(${inner.split(',').map((kv) => kv.split('=')[0]).join(',')})`),
          ),
        ),
      ]
        .sort() // ZooKeeper lists connections in hash-set order
        .join('\n');
    case 'dump':
      // how many expiry buckets there are depends on timing: the distinct line shapes only
      return [...new Set(lines.map(shapeValue).map((l) => l.replace(/expire at .*:$/, 'expire at DATE:')))].join('\n');
    case 'mntr': {
      const keys = new Set(lines.map((l) => l.split('\t')[0]));
      return `core keys missing: [${MNTR_CORE_KEYS.filter((k) => !keys.has(k)).join(', ')}]`;
    }
    default:
      return [...new Set(lines.map(shapeValue))].join('\n');
  }
}

async function fourLetterWords(s: Section): Promise<void> {
  const { client: a } = await s.client('a');
  await s.do('create /flw', () => a.create('/flw'));
  await s.do('create /flw/e EPHEMERAL', () => a.create('/flw/e', null, { mode: CreateFlags.EPHEMERAL }));
  await s.do('getData /flw watch', () => a.getData('/flw', true));
  await s.do('getChildren /flw watch', async () => sorted(await a.getChildren('/flw', true)), (v) => v);
  for (const word of ['ruok', 'isro', 'srvr', 'stat', 'mntr', 'conf', 'cons', 'wchs', 'wchc', 'wchp', 'dump', 'envi', 'dirs', 'crst', 'srst', 'gtmk', 'hash', 'xyzw']) {
    const text = await s.target.fourLetterWord(word).catch((e: Error) => `ERROR ${e.message}`);
    s.note(`--- ${word} ---\n${fourLetterShape(word, text)}`);
  }
  for (const word of ['ruok', 'srvr', 'stat', 'mntr', 'conf', 'envi', 'isro']) {
    const text = await s.target.restricted.fourLetterWord(word).catch((e: Error) => `ERROR ${e.message}`);
    s.note(`--- whitelist ruok,srvr: ${word} ---\n${word === 'srvr' ? fourLetterShape(word, text) : JSON.stringify(text)}`);
  }
}

export const SECTIONS: Record<string, (s: Section) => Promise<void>> = {
  'tree basics': treeBasics,
  'zxid arithmetic: which requests take a zxid': zxidArithmetic,
  'create modes, sequential names, null vs empty data': createModes,
  'bad paths': badPaths,
  'versions': versions,
  'data over 1 MiB': largeData,
  'multi and multiRead': multis,
  'order of checks when several fail': orderOfChecks,
  'scale: 1,000 children, deep and long paths, many watches': scale,
  'ACLs and auth': acls,
  'one-shot watches': watchesOneShot,
  'persistent and recursive watches': watchesPersistent,
  'watcher types Persistent/PersistentRecursive (3.9) in checkWatches/removeWatches': persistentWatcherTypes,
  'setWatches and setWatches2 catch-up on reconnect': setWatchesCatchUp,
  'sessions: timeouts, resume, expiry, close': sessions,
  'containers and TTL nodes': containersAndTtl,
  'sync, reconfig, unknown opcode, odd ops': miscOps,
  'quota bookkeeping (zookeeper_limits / zookeeper_stats)': quota,
  'SASL DIGEST-MD5 login (opcode 102) and sasl ACLs': sasl,
  'wire details: readOnly byte, ping, xids -4/-8, closeSession, timeout bounds': wireDetails,
  'four-letter words and the whitelist': fourLetterWords,
};

/**
 * Every znode under `root` with its data digest, ACL and Stat; zxids ranked over the whole
 * tree, ephemeral owners as EPH, times as T. `raw` keeps zxids and times as they are (for
 * comparing a server with itself across a restart).
 */
export async function dumpTree(connectString: string, options: { raw?: boolean; root?: string } = {}): Promise<string[]> {
  const c = await connectClient(connectString, { sessionTimeoutMs: 10_000 }, 15_000);
  const lines: string[] = [];
  const rows: { path: string; data: Uint8Array | null; acl: ACL[]; stat: Stat }[] = [];
  try {
    const walk = async (path: string): Promise<void> => {
      const got = await c.getData(path).catch(() => null);
      const acl = await c.getACL(path).catch(() => null);
      if (got === null || acl === null) return; // gone meanwhile, or not readable
      rows.push({ path, data: got.data, acl: acl.acl, stat: got.stat });
      const children = await c.getChildren(path).catch(() => [] as string[]);
      for (const child of [...children].sort()) await walk(path === '/' ? `/${child}` : `${path}/${child}`);
    };
    await walk(options.root ?? '/');
  } finally {
    await c.close();
  }
  // zxids ranked within each top-level subtree (one section each), so a difference in one
  // section does not shift every rank after it
  const top = (path: string): string => path.split('/').slice(0, 2).join('/') || '/';
  const ranks = new Map<string, Map<bigint, string>>();
  for (const group of new Set(rows.map((r) => top(r.path)))) {
    const zs = new Set<bigint>();
    for (const r of rows) if (top(r.path) === group) for (const v of [r.stat.czxid, r.stat.mzxid, r.stat.pzxid]) zs.add(v);
    const ranked = [...zs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    ranks.set(group, new Map(ranked.map((v, i) => [v, `z${i + 1}`])));
  }
  for (const { path, data, acl, stat } of rows) {
    const z = (v: bigint): string => (options.raw ? v.toString() : v === 0n ? '0' : ranks.get(top(path))!.get(v)!);
    const digest = data === null ? 'null' : createHash('sha1').update(data).digest('hex').slice(0, 12);
    const eo = stat.ephemeralOwner === 0n ? '0' : options.raw ? stat.ephemeralOwner.toString() : BigInt.asIntN(64, stat.ephemeralOwner) === CONTAINER_OWNER ? 'CONTAINER' : 'EPH';
    const t = (v: bigint): string => (options.raw ? v.toString() : 'T');
    lines.push(
      `${path} data=${digest} acl=${acl.map((a) => `${a.perms}:${a.id.scheme}:${a.id.id}`).join(',')} cz=${z(stat.czxid)} mz=${z(stat.mzxid)} pz=${z(stat.pzxid)} ct=${t(stat.ctime)} mt=${t(stat.mtime)} v=${stat.version} cv=${stat.cversion} av=${stat.aversion} eo=${eo} dl=${stat.dataLength} nc=${stat.numChildren}`,
    );
  }
  return lines;
}

/** Runs every section in order against the target; a section that throws records why. */
export async function runScenario(target: ScenarioTarget, only?: readonly string[]): Promise<Transcript> {
  const out: Transcript = new Map();
  for (const [name, run] of Object.entries(SECTIONS)) {
    if (only !== undefined && !only.includes(name)) continue;
    const s = new Section(name, target);
    try {
      await run(s);
    } catch (e) {
      s.note(`SECTION ABORTED: ${(e as Error).stack ?? String(e)}`);
    } finally {
      await s.close();
    }
    out.set(name, s.finish());
  }
  return out;
}

