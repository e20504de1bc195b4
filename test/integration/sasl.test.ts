/**
 * SASL DIGEST-MD5 login (opcode 102) against the users of a JAAS `Server` section, the `sasl`
 * ACL scheme and zookeeper.superUser — on a real `zoolab server` process, with the JAAS file
 * given as ZooKeeper takes it (SERVER_JVMFLAGS=-Djava.security.auth.login.config=…) and as a
 * zoo.cfg key. The same raw-protocol scenario (a DIGEST-MD5 client written here with
 * node:crypto) runs against Apache ZooKeeper 3.8 and the observations must be equal; then the
 * Apache Java client (zkCli with a JAAS `Client` section) logs in to ZooLab.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpCode, Perms } from '../../src-main/jute/types';
import type { ACL, Request, Response } from '../../src-main/jute/types';
import { decodeConnectResponse, decodeReplyHeader, encodeConnectRequestFrame, encodeRequestFrame } from '../../src-main/jute/frames';
import { decodeResponse } from '../../src-main/jute/responses';
import { apacheZooKeeperAvailability, sendFourLetterWord } from '../support/apache-zookeeper';
import { freePorts } from '../support/ports';
import { waitUntil } from '../support/processes';

const CLI = resolve(import.meta.dirname, '../../out/main/cli.js');
const ZOOKEEPER_JAR = process.env.APACHE_ZOOKEEPER_JAR ?? '/usr/share/java/zookeeper.jar';
const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';
const SASL_PROVIDER = 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider';

const SERVER_JAAS = `Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_super="adminsecret"
  user_bob="bobsecret";
};
`;
const clientJaas = (user: string, password: string) =>
  `Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username="${user}"\n  password="${password}";\n};\n`;

// ------------------------------------------------------------------ a raw client with SASL

interface Reply {
  xid: number;
  zxid: bigint;
  err: number;
  response: Response | null;
  bodyBytes: number;
}

class RawConn {
  private buf = Buffer.alloc(0);
  private readonly frames: Buffer[] = [];
  private waiter: (() => void) | null = null;
  private xid = 1;
  closed = false;
  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4) {
        const n = this.buf.readInt32BE(0);
        if (this.buf.length < 4 + n) break;
        this.frames.push(this.buf.subarray(4, 4 + n));
        this.buf = this.buf.subarray(4 + n);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  static async open(port: number): Promise<RawConn> {
    const socket = createConnection({ host: '127.0.0.1', port });
    await new Promise<void>((res, rej) => {
      socket.once('connect', res);
      socket.once('error', rej);
    });
    const c = new RawConn(socket);
    socket.write(encodeConnectRequestFrame({ protocolVersion: 0, lastZxidSeen: 0n, timeOut: 10_000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false }));
    const resp = decodeConnectResponse(await c.next());
    expect(resp.timeOut).toBeGreaterThan(0);
    return c;
  }

  async next(timeoutMs = 10_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.shift();
      if (f) return f;
      if (this.closed) throw new Error('connection closed');
      if (Date.now() > deadline) throw new Error('no reply in time');
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 200);
      });
    }
  }

  async call(request: Request): Promise<Reply> {
    const xid = this.xid++;
    this.socket.write(encodeRequestFrame(xid, request));
    const frame = await this.next();
    const { header, body } = decodeReplyHeader(frame);
    expect(header.xid).toBe(xid);
    return { xid, zxid: header.zxid, err: header.err, bodyBytes: frame.length - 16, response: header.err === 0 ? decodeResponse(request.type, body) : null };
  }

  async waitClosed(timeoutMs = 10_000): Promise<boolean> {
    await waitUntil(() => this.closed, 'the server to close the connection', timeoutMs).catch(() => {});
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}

const md5 = (x: Buffer | string) => createHash('md5').update(x).digest();
const md5hex = (x: Buffer | string) => createHash('md5').update(x).digest('hex');

function directives(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const match of text.matchAll(/([a-z-]+)=(?:"((?:[^"\\]|\\.)*)"|([^,]*))/gi)) m.set(match[1]!.toLowerCase(), match[2] ?? match[3] ?? '');
  return m;
}

/** DIGEST-MD5 as the Java client does it (RFC 2831, qop auth, digest-uri zookeeper/zk-sasl-md5). */
async function saslLogin(c: RawConn, user: string, password: string) {
  const first = await c.call({ type: OpCode.sasl, req: { token: new Uint8Array(0) } });
  const challengeText = first.response?.type === OpCode.sasl && first.response.token ? new TextDecoder().decode(first.response.token) : '';
  const ch = directives(challengeText);
  const realm = ch.get('realm') ?? '';
  const nonce = ch.get('nonce') ?? '';
  const cnonce = randomBytes(16).toString('base64');
  const uri = 'zookeeper/zk-sasl-md5';
  const ha1 = md5hex(Buffer.concat([md5(`${user}:${realm}:${password}`), Buffer.from(`:${nonce}:${cnonce}`)]));
  const response = md5hex(`${ha1}:${nonce}:00000001:${cnonce}:auth:${md5hex(`AUTHENTICATE:${uri}`)}`);
  const expectedRspauth = md5hex(`${ha1}:${nonce}:00000001:${cnonce}:auth:${md5hex(`:${uri}`)}`);
  const msg = `charset=utf-8,username="${user}",realm="${realm}",nonce="${nonce}",nc=00000001,cnonce="${cnonce}",digest-uri="${uri}",maxbuf=65536,response=${response},qop=auth`;
  const second = await c.call({ type: OpCode.sasl, req: { token: new TextEncoder().encode(msg) } });
  const final = second.response?.type === OpCode.sasl && second.response.token ? new TextDecoder().decode(second.response.token) : null;
  return {
    challenge: { err: first.err, zxid: first.zxid, keys: [...ch.keys()], realm, nonceLength: nonce.length },
    result: { err: second.err, zxid: second.zxid, bodyBytes: second.bodyBytes, rspauthValid: final === `rspauth=${expectedRspauth}` },
  };
}

const sasl = (id: string, perms: number = Perms.ALL): ACL => ({ perms, id: { scheme: 'sasl', id } });

async function whoAmI(c: RawConn): Promise<string[]> {
  const r = await c.call({ type: OpCode.whoAmI, req: null });
  const infos = r.response?.type === OpCode.whoAmI ? r.response.clientInfo : [];
  // upstream keeps the ids in a hash set: compare as a sorted list
  return infos.map((i) => `${i.authScheme}:${i.user}`).sort();
}

/** The same scenario on any server; returns what was observed. */
async function scenario(port: number, root: string) {
  const out: Record<string, unknown> = {};
  const conns: RawConn[] = [];
  const open = async () => {
    const c = await RawConn.open(port);
    conns.push(c);
    return c;
  };
  try {
    const bob = await open();
    out.bobLogin = await saslLogin(bob, 'bob', 'bobsecret');
    out.bobWho = await whoAmI(bob);
    out.create = (await bob.call({ type: OpCode.create, req: { path: `${root}`, data: new TextEncoder().encode('secret data'), acl: [sasl('bob', Perms.ALL & ~Perms.ADMIN)], flags: 0 } })).err;
    const got = await bob.call({ type: OpCode.getData, req: { path: root, watch: false } });
    out.bobRead = got.err === 0 && got.response?.type === OpCode.getData ? new TextDecoder().decode(got.response.data ?? new Uint8Array()) : got.err;
    const authAcl = await bob.call({ type: OpCode.create, req: { path: `${root}-auth`, data: null, acl: [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }], flags: 0 } });
    out.authCreate = authAcl.err;
    const acl = await bob.call({ type: OpCode.getACL, req: { path: `${root}-auth` } });
    out.authAcl = acl.response?.type === OpCode.getACL ? acl.response.acl : acl.err;
    out.badSaslId = (await bob.call({ type: OpCode.create, req: { path: `${root}-bad`, data: null, acl: [sasl('a@b@c')], flags: 0 } })).err;

    const anon = await open();
    out.anonRead = (await anon.call({ type: OpCode.getData, req: { path: root, watch: false } })).err;
    out.anonWho = await whoAmI(anon);

    const wrong = await open();
    const w = await saslLogin(wrong, 'bob', 'not-the-password').catch((e: Error) => ({ error: e.message }));
    out.wrongPassword = { ...w, closed: await wrong.waitClosed() };

    const unknown = await open();
    const u = await saslLogin(unknown, 'eve', 'whatever').catch((e: Error) => ({ error: e.message }));
    out.unknownUser = { ...u, closed: await unknown.waitClosed() };

    const su = await open();
    out.superLogin = (await saslLogin(su, 'super', 'adminsecret')).result;
    out.superWho = await whoAmI(su);
    out.superRead = (await su.call({ type: OpCode.getData, req: { path: root, watch: false } })).err;
    out.superSetAcl = (await su.call({ type: OpCode.setACL, req: { path: root, acl: [sasl('bob')], version: -1 } })).err;

    // a second login on a connection that completed one: the server refuses it
    out.again = await (async () => {
      const r = await bob.call({ type: OpCode.sasl, req: { token: new Uint8Array(0) } }).catch((e: Error) => e.message);
      return typeof r === 'string' ? r : r.err;
    })();
  } finally {
    for (const c of conns) c.close();
  }
  return out;
}

// ------------------------------------------------------------------ servers

interface Proc {
  child: ChildProcess;
  withProvider?: boolean;
  port: number;
  log(): string;
  stop(): Promise<void>;
}

async function startProc(cmd: string, args: string[], env: NodeJS.ProcessEnv, port: number, release: () => void): Promise<Proc> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let log = '';
  const keep = (c: Buffer) => {
    log = (log + c.toString('utf8')).slice(-30_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const proc: Proc = {
    child,
    port,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      release();
    },
  };
  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`${cmd} exited: ${log}`);
        if ((await sendFourLetterWord(port, 'ruok', 1000).catch(() => '')) !== 'imok') return false;
        // ruok answers before the server takes sessions: wait for a session too
        const c = await RawConn.open(port).catch(() => null);
        c?.close();
        return c !== null;
      },
      `${cmd} to answer ruok`,
      60_000,
      100,
    );
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return proc;
}

function writeCfg(dir: string, port: number, extra: Record<string, string>): string {
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const cfg = { tickTime: '2000', dataDir, clientPort: String(port), clientPortAddress: '127.0.0.1', 'admin.enableServer': 'false', '4lw.commands.whitelist': '*', ...extra };
  const path = join(dir, 'zoo.cfg');
  writeFileSync(path, Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  return path;
}

async function startZooLab(dir: string, jaasVia: 'SERVER_JVMFLAGS' | 'zoo.cfg', jaasPath: string, provider = true): Promise<Proc> {
  const lease = await freePorts(1);
  const port = lease.ports[0]!;
  const cfg = writeCfg(dir, port, { ...(provider ? { 'authProvider.1': SASL_PROVIDER } : {}), ...(jaasVia === 'zoo.cfg' ? { 'java.security.auth.login.config': jaasPath } : {}) });
  const flags = `-Dzookeeper.superUser=super${jaasVia === 'SERVER_JVMFLAGS' ? ` -Djava.security.auth.login.config=${jaasPath}` : ''}`;
  return startProc(process.execPath, [CLI, 'server', cfg], { ...process.env, SERVER_JVMFLAGS: flags }, port, () => lease.release());
}

async function startApache(dir: string, jaasPath: string, provider = true): Promise<Proc> {
  const lease = await freePorts(1);
  const port = lease.ports[0]!;
  const cfg = writeCfg(dir, port, provider ? { 'authProvider.1': SASL_PROVIDER } : {});
  const classpath = existsSync('/etc/zookeeper/conf') ? `/etc/zookeeper/conf:${ZOOKEEPER_JAR}` : ZOOKEEPER_JAR;
  const args = ['-Xmx256m', `-Djava.security.auth.login.config=${jaasPath}`, '-Dzookeeper.superUser=super', `-Dzookeeper.log.dir=${dir}`, '-cp', classpath, 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg];
  const p = await startProc('java', args, process.env, port, () => lease.release());
  p.withProvider = provider;
  return p;
}

// ------------------------------------------------------------------ tests

describe('SASL DIGEST-MD5 login, sasl ACLs and the SASL super user', () => {
  let dir: string;
  let jaasPath: string;
  const procs: Proc[] = [];
  const apache = apacheZooKeeperAvailability();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'zoolab-sasl-'));
    jaasPath = join(dir, 'server.jaas');
    writeFileSync(jaasPath, SERVER_JAAS);
    for (const [name, user, pw] of [['bob', 'bob', 'bobsecret'], ['super', 'super', 'adminsecret'], ['wrong', 'bob', 'wrong']] as const) {
      writeFileSync(join(dir, `${name}.jaas`), clientJaas(user, pw));
    }
  });
  afterAll(async () => {
    for (const p of procs) await p.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const expectedZooLab = {
    bobLogin: {
      challenge: { err: 0, zxid: 0n, keys: ['realm', 'nonce', 'charset', 'algorithm'], realm: 'zk-sasl-md5', nonceLength: 40 },
      result: { err: 0, zxid: 0n, bodyBytes: 44, rspauthValid: true },
    },
    bobWho: ['ip:127.0.0.1', 'sasl:bob'],
    create: 0,
    bobRead: 'secret data',
    authCreate: 0,
    authAcl: [sasl('bob')],
    badSaslId: -114,
    anonRead: -102,
    anonWho: ['ip:127.0.0.1'],
    wrongPassword: { challenge: expect.objectContaining({ err: 0 }), result: { err: -115, zxid: 0n, bodyBytes: 4, rspauthValid: false }, closed: true },
    unknownUser: { challenge: expect.objectContaining({ err: 0 }), result: { err: -115, zxid: 0n, bodyBytes: 4, rspauthValid: false }, closed: true },
    superLogin: { err: 0, zxid: 0n, bodyBytes: 44, rspauthValid: true },
    superWho: ['ip:127.0.0.1', 'sasl:super', 'super:'],
    superRead: 0,
    superSetAcl: 0,
  };

  let zoolabObserved: Record<string, unknown> | null = null;

  for (const via of ['SERVER_JVMFLAGS', 'zoo.cfg'] as const) {
    it(`ZooLab, JAAS file via ${via}: login, whoAmI, sasl ACL enforced, wrong password → AUTHFAILED + close, super user`, async () => {
      const sub = join(dir, `zoolab-${via}`);
      mkdirSync(sub);
      const p = await startZooLab(sub, via, jaasPath);
      procs.push(p);
      expect(p.log()).toMatch(/SASL DIGEST-MD5: 2 user\(s\)/);
      const seen = await scenario(p.port, '/sasl');
      expect(seen).toMatchObject(expectedZooLab);
      zoolabObserved ??= seen;
    }, 60_000);
  }

  it('ZooLab refuses to start on a JAAS file without a Server section (as ZooKeeper), naming the file', async () => {
    const sub = join(dir, 'zoolab-broken');
    mkdirSync(sub);
    const bad = join(sub, 'bad.jaas');
    writeFileSync(bad, 'Other { m required; };\n');
    const lease = await freePorts(1);
    try {
      const cfg = writeCfg(sub, lease.ports[0]!, {});
      const r = spawnSync(process.execPath, [CLI, 'server', cfg], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, SERVER_JVMFLAGS: `-Djava.security.auth.login.config=${bad}` } });
      expect(r.status).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(/no 'Server' section/);
    } finally {
      lease.release();
    }
  }, 60_000);

  it('Apache ZooKeeper 3.8 observes the same in the same scenario', async (ctx) => {
    if (!apache.available) ctx.skip(apache.reason);
    const sub = join(dir, 'apache');
    mkdirSync(sub);
    const p = await startApache(sub, jaasPath);
    procs.push(p);
    const seen = await scenario(p.port, '/sasl');
    expect(seen).toMatchObject(expectedZooLab);
    if (zoolabObserved) expect(seen).toEqual(zoolabObserved);
  }, 90_000);

  it('without authProvider.N=SASLAuthenticationProvider (both servers): login works, sasl ACLs are INVALIDACL, whoAmI shows an empty sasl user, superUser still applies', async () => {
    const run = async (p: Proc) => {
      const c = await RawConn.open(p.port);
      try {
        const login = (await saslLogin(c, 'bob', 'bobsecret')).result;
        const who = await whoAmI(c);
        const create = (await c.call({ type: OpCode.create, req: { path: '/np', data: null, acl: [sasl('bob')], flags: 0 } })).err;
        const createAuth = (await c.call({ type: OpCode.create, req: { path: '/np', data: null, acl: [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }], flags: 0 } })).err;
        const su = await RawConn.open(p.port);
        const superLogin = (await saslLogin(su, 'super', 'adminsecret')).result.err;
        const superWho = await whoAmI(su);
        su.close();
        return { login, who, create, createAuth, superLogin, superWho };
      } finally {
        c.close();
      }
    };
    const sub = join(dir, 'zoolab-noprovider');
    mkdirSync(sub);
    const zl = await startZooLab(sub, 'SERVER_JVMFLAGS', jaasPath, false);
    procs.push(zl);
    const ours = await run(zl);
    expect(ours).toEqual({
      login: { err: 0, zxid: 0n, bodyBytes: 44, rspauthValid: true },
      who: ['ip:127.0.0.1', 'sasl:'],
      create: -114,
      createAuth: -114,
      superLogin: 0,
      superWho: ['ip:127.0.0.1', 'sasl:', 'super:'],
    });
    if (apache.available) {
      const asub = join(dir, 'apache-noprovider');
      mkdirSync(asub);
      const ap = await startApache(asub, jaasPath, false);
      procs.push(ap);
      expect(await run(ap)).toEqual(ours);
    }
  }, 90_000);

  it('the Apache Java client (zkCli with a JAAS Client section) logs in to ZooLab as to ZooKeeper', async (ctx) => {
    if (!apache.available) ctx.skip(apache.reason);
    if (!existsSync(ZKCLI)) ctx.skip(`${ZKCLI} missing`);
    const zl = join(dir, 'zoolab-cli');
    mkdirSync(zl);
    const targets = [await startZooLab(zl, 'SERVER_JVMFLAGS', jaasPath)];
    procs.push(targets[0]!);
    let ap = procs.find((p) => p.child.spawnfile === 'java' && p.withProvider);
    if (!ap) {
      ap = await startApache(join(dir, 'apache-cli'), jaasPath);
      procs.push(ap);
    }
    targets.push(ap);
    const cli = (port: number, jaas: string | null, ...cmd: string[]) => {
      const r = spawnSync(ZKCLI, ['-server', `127.0.0.1:${port}`, ...cmd], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, CLIENT_JVMFLAGS: jaas ? `-Djava.security.auth.login.config=${join(dir, `${jaas}.jaas`)}` : '' },
      });
      // the command's own output, without the connection/watcher chatter and SLF4J notices
      return (r.stdout + r.stderr)
        .split('\n')
        .filter((l) => l !== '' && !/^(WATCHER::|WatchedEvent|SLF4J|Connecting to|log4j)/.test(l))
        .join('\n');
    };
    const results: string[][] = [];
    for (const t of targets) {
      results.push([
        cli(t.port, 'bob', 'whoami'),
        cli(t.port, 'bob', 'create', '/cli', 'hello', 'sasl:bob:cdrwa'),
        cli(t.port, 'bob', 'get', '/cli'),
        cli(t.port, 'bob', 'getAcl', '/cli'),
        cli(t.port, null, 'get', '/cli'),
        cli(t.port, 'wrong', 'get', '/cli'),
        cli(t.port, 'super', 'set', '/cli', 'by-super'),
        cli(t.port, 'bob', 'get', '/cli'),
      ]);
    }
    const [ours, theirs] = results as [string[], string[]];
    expect(ours[0]).toMatch(/sasl: bob/);
    expect(ours[1]).toMatch(/Created \/cli/);
    expect(ours[2]).toMatch(/^hello$/m);
    expect(ours[3]).toMatch(/'sasl,'bob\n: cdrwa/);
    expect(ours[4]).toMatch(/Insufficient permission : \/cli/);
    expect(ours[5]).toMatch(/AuthFailed/);
    expect(ours[7]).toMatch(/^by-super$/m);
    // whoami lists the ids in upstream's hash-set order (ZooLab: the order they were added)
    const sortLines = (r: string[]) => r.map((o, i) => (i === 0 ? o.split('\n').sort().join('\n') : o));
    expect(sortLines(ours)).toEqual(sortLines(theirs));
  }, 180_000);
});
