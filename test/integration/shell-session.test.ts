/**
 * The zkCli-compatible shell (ShellSession over the real ZooKeeper client) against a real
 * Apache ZooKeeper 3.8 server: command output, error wording, exit statuses, watch
 * notifications, history/redo, connect/close, and the terminal line discipline with tab
 * completion from the live tree. Skips with the reason when ZooKeeper is not installed.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../../src-main/client/index';
import { startEnsemble } from '../../src-main/supervisor/index';
import type { LocalEnsemble } from '../../src-main/supervisor/index';
import { startApacheZooKeeper } from '../support/apache-zookeeper';
import type { ApacheZooKeeper } from '../support/apache-zookeeper';
import { connectShellZk } from '../../src-main/shell/client-binding';
import { ShellSession } from '../../src-main/shell/session';
import { openTerminalShell } from '../../src-main/shell/terminal';
import type { ShellMode } from '../../src-main/shell/session';

let zk: ApacheZooKeeper | null = null;
let skipReason = '';

beforeAll(async () => {
  const started = await startApacheZooKeeper({ extraConfig: { extendedTypesEnabled: 'true' } });
  if (started.available) zk = started;
  else skipReason = started.reason;
  // ruok answers before the server takes sessions; like zkCli, the shell fails a command at the
  // first refused connection attempt, so the scripts start once a session can be made
  if (zk !== null) await (await connectClient(zk.connectString, { sessionTimeoutMs: 10_000 }, 30_000)).close();
}, 90_000);

afterAll(async () => {
  await zk?.stop();
});

interface Run {
  session: ShellSession;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number>;
}

function open(mode: ShellMode, server = zk?.connectString ?? '', timeoutMs = 10_000): Run {
  let out = '';
  let err = '';
  let done: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => (done = resolve));
  const session = new ShellSession({
    server,
    timeoutMs,
    mode,
    connect: connectShellZk,
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    onExit: (code) => done(code),
    timeZone: 'UTC',
  });
  session.start();
  return { session, stdout: () => out, stderr: () => err, exited };
}

async function script(lines: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const run = open('lines');
  run.session.feed(lines.map((l) => `${l}\n`).join(''));
  run.session.endOfInput();
  const code = await run.exited;
  return { stdout: run.stdout(), stderr: run.stderr(), code };
}

async function oneShot(words: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const run = open('oneShot');
  const code = await run.session.runOnce(words);
  return { stdout: run.stdout(), stderr: run.stderr(), code };
}

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const connected = '\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n';
const statLines = /^cZxid = 0x[0-9a-f]+\nctime = \w{3} \w{3} \d\d \d\d:\d\d:\d\d UTC \d{4}\nmZxid = 0x[0-9a-f]+\nmtime = .+\npZxid = 0x[0-9a-f]+\ncversion = \d+\ndataVersion = \d+\naclVersion = \d+\nephemeralOwner = 0x[0-9a-f]+\ndataLength = \d+\nnumChildren = \d+\n/m;

describe('zoolab shell against Apache ZooKeeper', () => {
  it('piped commands: output on stdout, "Created" and errors on stderr, status of the last command', async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    const r = await script(['create /s1 hello', 'get /s1', 'get -s /s1', 'ls /s1', 'create /s1', 'get /nope', 'set -v 7 /s1 x', 'ls /']);
    const greeting = `Connecting to ${zk.connectString}\nWelcome to ZooKeeper!\nJLine support is disabled\n${connected}`;
    expect(r.stdout.startsWith(`${greeting}hello\nhello\ncZxid = `)).toBe(true);
    expect(r.stdout).toMatch(/hello\nhello\ncZxid = /);
    expect(r.stdout).toMatch(statLines);
    expect(r.stdout).toMatch(/\[(.*, )?s1(, .*)?, zookeeper\]\n$/);
    expect(r.stderr).toBe('Created /s1\nNode already exists: /s1\nNode does not exist: /nope\nversion No is not valid : /s1\n');
    expect(r.code).toBe(0);
  });

  it('one-shot: zkCli exit statuses (0, 1 for errors and usage, 127 for unknown commands)', async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    const ok = await oneShot(['create', '/s2', 'x']);
    expect(ok).toMatchObject({ code: 0, stderr: 'Created /s2\n' });
    expect(ok.stdout).toBe(`Connecting to ${zk.connectString}\n${connected}`);
    expect(await oneShot(['ls', '/nope'])).toMatchObject({ code: 1, stderr: 'Node does not exist: /nope\n' });
    expect(await oneShot(['ls'])).toMatchObject({ code: 1, stderr: 'ls [-s] [-w] [-R] path\n' });
    expect(await oneShot(['ls', '-x', '/'])).toMatchObject({
      code: 1,
      stderr: 'org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x\n',
    });
    const unknown = await oneShot(['frob']);
    expect(unknown.code).toBe(127);
    expect(unknown.stderr).toMatch(/^ZooKeeper -server host:port -client-configuration properties-file cmd args\n\taddWatch /);
    expect(unknown.stderr).toMatch(/\twhoami \nCommand not found: Command not found frob\n$/);
    expect(await oneShot(['set', '-v', 'abc', '/s2', 'y'])).toMatchObject({
      code: 1,
      stderr: 'Exception in thread "main" java.lang.NumberFormatException: For input string: "abc"\n',
    });
  });

  it('create modes: sequential, ephemeral, container, TTL and the option checks', async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    const r = await script([
      'create /m',
      'create -s /m/q- a',
      'create -e /m/e',
      'create -c /m/c',
      'create -t 5000 /m/t',
      'create -e -c /m/x',
      'create -t abc /m/x',
      'create -t 100 -e /m/x',
      'create -t 0 /m/x',
      'create /m/a data bad',
      'getEphemerals /m',
      'getAllChildrenNumber /m',
      'stat /m/e',
    ]);
    expect(r.stderr).toBe(
      [
        'Created /m',
        'Created /m/q-0000000000',
        'Created /m/e',
        'Created /m/c',
        'Created /m/t',
        '-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.',
        '-t argument must be a long value',
        'TTLs cannot be used with Ephemeral znodes',
        'ttl must be positive and cannot be larger than: 1099511627775',
        'bad does not have the form scheme:id:perm',
        'KeeperErrorCode = InvalidACL',
        'Acl is not valid : null',
        '',
      ].join('\n'),
    );
    expect(r.stdout).toContain('[/m/e]\n4\n');
    expect(r.stdout).toMatch(/ephemeralOwner = 0x[1-9a-f][0-9a-f]*\n/);
  });

  it('watches: one-shot and persistent notifications, removal events, printwatches off', async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    const r = await script([
      'create /w x',
      'get -w /w',
      'set /w y',
      'ls -w /w',
      'create /w/c',
      'addWatch /w',
      'set /w/c 1',
      'removewatches /w',
      'removewatches /w',
      'stat -w /w',
      'removewatches /w -d',
      'printwatches off',
      'printwatches',
      'get -w /w',
      'set /w z',
      'printwatches on',
      'quit',
    ]);
    const ev = (type: string, path: string): string => `\nWATCHER::\n\nWatchedEvent state:SyncConnected type:${type} path:${path}\n`;
    const body = r.stdout.slice(r.stdout.indexOf(connected) + connected.length);
    const expected =
      `x\n` +
      ev('NodeDataChanged', '/w') +
      `[]\n` +
      ev('NodeChildrenChanged', '/w') +
      ev('NodeDataChanged', '/w/c') +
      ev('PersistentWatchRemoved', '/w');
    expect(body.startsWith(expected)).toBe(true);
    const rest = body.slice(expected.length);
    expect(rest).toMatch(statLines);
    expect(rest.slice(rest.indexOf('numChildren'))).toBe(
      'numChildren = 1\n' + ev('DataWatchRemoved', '/w') + 'printwatches is off\ny\n' + '\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n',
    );
    expect(r.stderr).toBe('Created /w\nCreated /w/c\nKeeperErrorCode = No such watcher for /w\n');
  });

  it('history, redo, close, "Not connected", connect', async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    const r = await script([
      'create /h 1',
      'get /h',
      'history',
      'redo 1',
      'redo 99',
      'redo 4',
      'close',
      'ls /h',
      'connect ' + zk.connectString,
      'ls /h',
      'foo',
    ]);
    const body = r.stdout.slice(r.stdout.indexOf(connected) + connected.length);
    expect(body).toBe(
      '1\n0 - create /h 1\n1 - get /h\n2 - history\n1\n' +
        '\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n' +
        'Not connected\n' +
        connected +
        '[]\n',
    );
    expect(r.stderr).toMatch(/^Created \/h\nCommand index out of range\nNo redoing redos\nZooKeeper -server/);
    expect(r.code).toBe(127);
  });

  it('deleteall, setAcl/getAcl, addauth, whoami, sync, config', async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    const r = await script([
      'create /d',
      'create /d/e 1',
      'create /d/e/f 2',
      'create /d/g 3',
      'ls -R /d',
      'delete /d',
      'deleteall /d',
      'ls /d',
      'create /acl x',
      'setAcl /acl ip:127.0.0.1:rw,world:anyone:r',
      'getAcl /acl',
      'setAcl /acl world:anyone:cdrwa',
      'addauth digest u:p',
      'whoami',
      'sync /',
      'config',
    ]);
    const body = r.stdout.slice(r.stdout.indexOf(connected) + connected.length);
    expect(body).toMatch(/^\/d\n\/d\/[eg]\n\/d\/[eg]\n\/d\/e\/f\n/);
    expect(body).toContain("'ip,'127.0.0.1\n: rw\n'world,'anyone\n: r\n");
    expect(body).toContain('Auth scheme: User\nip: 127.0.0.1\ndigest: u\nSync is OK\n\n');
    expect(r.stderr).toContain('Node not empty: /d\nNode does not exist: /d\nCreated /acl\nInsufficient permission : /acl\n');
  });

  it('terminal: prompt with state and command number, echo, tab completion of commands and live paths', async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    const seed = await script(['create /tabdir', 'create /tabdir/alpha', 'create /tabdir/beta']);
    expect(seed.code).toBe(0);
    const t = open('terminal');
    await until('prompt', () => t.stdout().includes(`[zk: ${zk?.connectString}(CONNECTED) 0] `));
    t.session.feed('ls /tabd\t');
    await until('path completion', () => t.stdout().includes('ls /tabdir'));
    t.session.feed('/\t');
    await until('candidates listed', () => /alpha\s+beta/.test(t.stdout()));
    t.session.feed('a\t\r');
    await until('ls output', () => t.stdout().includes('[]\r\n'));
    await until('next prompt', () => t.stdout().includes('(CONNECTED) 1] '));
    t.session.feed('getEph\t/\r');
    await until('getEphemerals output', () => t.stdout().includes('(CONNECTED) 2] '));
    expect(t.stdout()).toMatch(/getEphemerals (\x1b\[K)?\/\r\n\[\]\r\n/);
    t.session.feed('\x1b[A\x1b[A\r');
    await until('history recall', () => t.stdout().includes('(CONNECTED) 3] '));
    t.session.feed('\x04');
    expect(await t.exited).toBe(0);
  });

  it('no server: the command fails with ConnectionLoss and status 1', async () => {
    const run = open('oneShot', '127.0.0.1:1', 2000);
    const code = await run.session.runOnce(['ls', '/']);
    expect(code).toBe(1);
    expect(run.stdout()).toBe('Connecting to 127.0.0.1:1\n');
    expect(run.stderr()).toBe('KeeperErrorCode = ConnectionLoss for /\n');
  });

  it('terminal pane: bytes in, CRLF text out, a watch event while typing is printed above the redrawn line', async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    let screen = '';
    let exitCode: number | null = null;
    const term = openTerminalShell({ server: zk.connectString, columns: 120, write: (t) => (screen += t), onExit: (c) => (exitCode = c) });
    await until('prompt', () => screen.includes('(CONNECTED) 0] '));
    term.input('create /pane 1\rget -w /pane\r');
    await until('get output', () => screen.includes('(CONNECTED) 2] '));
    expect(screen).toContain('1\r\n');
    term.input('ls /pa');
    const other = await oneShot(['set', '/pane', '2']);
    expect(other.code).toBe(0);
    await until('event', () => screen.includes('type:NodeDataChanged path:/pane'));
    await until('line redrawn', () => screen.endsWith('(CONNECTED) 2] ls /pa'));
    expect(screen).toContain('\r\nWATCHER::\r\n\r\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/pane\r\n');
    term.input('\x15quit\r');
    await until('exit', () => exitCode !== null);
    expect(exitCode).toBe(0);
    expect(term.ended).toBe(true);
  });

  it('server gone: Disconnected event, prompt CONNECTING, calls fail with ConnectionLoss', async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    const own = await startApacheZooKeeper();
    if (!own.available) return ctx.skip(own.reason);
    try {
      const t = open('terminal', own.connectString, 3000);
      await until('prompt', () => t.stdout().includes('(CONNECTED) 0] '));
      await own.kill();
      await until('disconnected event', () => t.stdout().includes('WatchedEvent state:Disconnected type:None path:null'));
      await until('prompt shows CONNECTING', () => t.stdout().endsWith(`[zk: ${own.connectString}(CONNECTING) 0] `));
      t.session.feed('ls /\r');
      await until('connection loss', () => t.stderr().includes('KeeperErrorCode = ConnectionLoss for /'));
      await t.session.dispose();
    } finally {
      await own.stop();
    }
  });
});

/** A TCP port that accepts connections and never answers: a ConnectRequest there waits for the connect timeout. */
async function silentServer(): Promise<{ connectString: string; connections(): number; stop(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    connectString: `127.0.0.1:${port}`,
    connections: () => sockets.length,
    stop: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** A port nothing listens on (connection refused at once). */
async function closedPort(): Promise<string> {
  const s = await silentServer();
  await s.stop();
  return s.connectString;
}

describe('zoolab shell without a server, and against ZooLab', () => {
  let zoolab: LocalEnsemble | undefined;
  afterAll(async () => {
    await zoolab?.stop();
  });

  it('a failed connection attempt fails the waiting command with ConnectionLoss at once (not after timeout ÷ hosts)', async () => {
    const server = await closedPort();
    const started = Date.now();
    let out = '';
    let err = '';
    let done: (code: number) => void = () => {};
    const exited = new Promise<number>((resolve) => (done = resolve));
    // one host, 30 s session timeout: the old wait was 30 s per command
    const session = new ShellSession({ server, timeoutMs: 30_000, mode: 'lines', connect: connectShellZk, stdout: (t) => (out += t), stderr: (t) => (err += t), onExit: (c) => done(c) });
    session.start();
    session.feed('ls /\ncreate /x\n');
    session.endOfInput();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const code = await Promise.race([exited, new Promise<number>((_, reject) => (timer = setTimeout(() => reject(new Error(`no exit within 8 s:\n${out}\n${err}`)), 8000)))]);
    clearTimeout(timer);
    expect(code).toBe(1);
    expect(err).toBe('KeeperErrorCode = ConnectionLoss for /\nKeeperErrorCode = ConnectionLoss for /x\n');
    expect(out).toBe(`Connecting to ${server}\nWelcome to ZooKeeper!\nJLine support is disabled\n`);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('terminal: Ctrl-C while a command waits for a connection returns to the prompt; the command prints nothing later', async () => {
    const silent = await silentServer();
    try {
      // 3 s session timeout, one host: each connection attempt times out after 3 s
      const t = open('terminal', silent.connectString, 3000);
      await until('prompt', () => t.stdout().includes('(CONNECTING) 0] '));
      t.session.feed('ls /\r');
      await until('command running', () => t.stdout().includes('ls /\r\n'));
      t.session.feed('\x03');
      await until('prompt after ^C', () => t.stdout().endsWith(`^C\r\n\r\x1b[J[zk: ${silent.connectString}(CONNECTING) 1] `), 3000);
      t.session.feed('history\r');
      await until('history', () => t.stdout().includes('1 - history'), 3000);
      expect(t.stdout()).toContain('0 - ls /\r\n1 - history\r\n');
      // the attempt the command waited for has failed by now: still no ConnectionLoss from `ls /`
      await until('the next connection attempt', () => silent.connections() >= 2, 10_000);
      expect(t.stderr()).toBe('');
      await t.session.dispose();
    } finally {
      await silent.stop();
    }
  });

  it('one-shot leaves its session to expire, as zkCli: a `create -e` outlives the shell until the session timeout', async () => {
    zoolab = await startEnsemble({ servers: 1, tickTimeMs: 500 });
    const server = zoolab.connectionString;
    const run = open('oneShot', server, 3000);
    const code = await run.session.runOnce(['create', '-e', '/oneshot-eph', 'x']);
    expect(code).toBe(0);
    expect(run.stderr()).toBe('Created /oneshot-eph\n');
    const client = await connectClient(server, { sessionTimeoutMs: 10_000 }, 10_000);
    try {
      await client.sync('/');
      const stat = await client.exists('/oneshot-eph');
      expect(stat, 'the ephemeral right after the one-shot exit').not.toBeNull();
      expect(stat!.ephemeralOwner).not.toBe(0n);
      // and it goes once the session expires (3 s timeout + a few ticks)
      const deadline = Date.now() + 15_000;
      while ((await client.exists('/oneshot-eph')) !== null) {
        if (Date.now() > deadline) throw new Error('the one-shot session never expired');
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await client.close();
    }
  });
});
