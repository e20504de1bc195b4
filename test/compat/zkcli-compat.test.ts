/**
 * zoolab shell side by side with Apache ZooKeeper's own zkCli (Java, Debian `zookeeper`
 * package): the same command scripts, piped or given on the command line, against the SAME
 * Apache ZooKeeper server; stdout, stderr and exit statuses must match once zxids, times and
 * session ids are masked. Watch notifications are compared as their own sequence because zkCli
 * prints them from another thread, so where they land between command outputs is a race.
 *
 * `zoolab shell` runs as the built CLI (node out/main/cli.js shell) when the build contains
 * it, otherwise in-process through runShell (same code, same streams, no build needed).
 * Skips with the reason when ZooKeeper or Java is not installed.
 *
 * ZKCLI_COMPAT_SERVER=zoolab runs both shells against a standalone ZooLab server instead
 * (started through the supervisor), which checks the server's compatibility as zkCli sees it.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApacheZooKeeper } from '../support/apache-zookeeper';
import { connectClient } from '../../src-main/client/index';
import { startEnsemble } from '../../src-main/supervisor';
import { ZKCLI, normalize, runZkCli, runZoolab, useBuilt, withoutLostClose, type Normalized, type Result } from './zkcli-run';

/** The server both shells talk to. */
interface Target {
  connectString: string;
  stop(): Promise<void>;
}

const targetKind = process.env.ZKCLI_COMPAT_SERVER === 'zoolab' ? 'ZooLab' : 'Apache ZooKeeper';
let zk: Target | null = null;
let skipReason = '';

/** Removes a script's subtree (with the digest identity some scripts use) so both runs start alike. */
async function wipe(paths: string[]): Promise<void> {
  if (zk === null) return;
  const client = await connectClient(zk.connectString, { sessionTimeoutMs: 10_000 }, 20_000);
  try {
    await client.addAuth('digest', 'u:p');
    for (const top of paths) {
      const nodes = [top];
      for (let i = 0; i < nodes.length && i < 10_000; i++) {
        const children = await client.getChildren(nodes[i] ?? top).catch(() => [] as string[]);
        for (const c of children) nodes.push(`${nodes[i]}/${c}`);
      }
      for (const p of nodes.reverse()) await client.delete(p).catch(() => undefined);
    }
  } finally {
    await client.close();
  }
}

async function compareScript(paths: string[], lines: string[]): Promise<void> {
  const server = zk?.connectString ?? '';
  const input = lines.map((l) => `${l}\n`).join('');
  await wipe(paths);
  const java = normalize(await runZkCli(['-server', server], input), false);
  await wipe(paths);
  // zkCli may exit before printing the Closed event of its quit (see withoutLostClose)
  const ours = withoutLostClose(normalize(await runZoolab(['-server', server], input), false), java);
  await wipe(paths);
  if (process.env.ZKCLI_COMPAT_DUMP) console.log(JSON.stringify({ java, ours }, null, 1));
  // zkCli really ran the script (a broken zkCli.sh must not pass as "both printed nothing")
  expect(java.stdout).toContain(`Connecting to ${server}\nWelcome to ZooKeeper!\n`);
  expect(java.events.length).toBeGreaterThan(0);
  expect(ours.stdout).toBe(java.stdout);
  expect(ours.stderr).toBe(java.stderr);
  expect(ours.events).toEqual(java.events);
  expect(ours.code).toBe(java.code);
}

async function compareOneShots(paths: string[], commands: string[][]): Promise<void> {
  const server = zk?.connectString ?? '';
  const runAll = async (run: (args: string[], input: null) => Promise<Result>): Promise<Normalized[]> => {
    await wipe(paths);
    const out: Normalized[] = [];
    for (const c of commands) out.push(normalize(await run(['-server', server, ...c], null), true));
    return out;
  };
  const java = await runAll(runZkCli);
  const ours = await runAll(runZoolab);
  await wipe(paths);
  for (const [i, c] of commands.entries()) {
    expect({ command: c, ...ours[i] }).toEqual({ command: c, ...java[i] });
  }
}

beforeAll(async () => {
  if (!existsSync(ZKCLI)) {
    skipReason = `Apache zkCli not installed (${ZKCLI} missing)`;
    return;
  }
  if (targetKind === 'ZooLab') {
    const ensemble = await startEnsemble({ servers: 1, cfg: { extendedTypesEnabled: 'true' } });
    zk = { connectString: ensemble.connectionString, stop: () => ensemble.stop() };
    return;
  }
  const started: Awaited<ReturnType<typeof startApacheZooKeeper>> = await startApacheZooKeeper({ extraConfig: { extendedTypesEnabled: 'true' } });
  if (started.available) zk = started;
  else skipReason = started.reason;
  // ruok answers before the server takes sessions; both shells fail a command at the first
  // refused connection attempt, so the scripts start once a session can be made
  if (zk !== null) await (await connectClient(zk.connectString, { sessionTimeoutMs: 10_000 }, 30_000)).close();
}, 90_000);

afterAll(async () => {
  await zk?.stop();
});

describe(`zkCli compat: zoolab shell (${useBuilt ? 'built CLI' : 'in-process'}) vs Apache zkCli 3.8, both on the same ${targetKind} server`, () => {
  it('piped: create/get/set/stat/ls/delete, sequential/ephemeral/container/TTL nodes, quoting, path errors', async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    await compareScript(
      ['/cmpA'],
      [
        'create /cmpA',
        'create /cmpA/x hello',
        'create /cmpA/y',
        'get /cmpA/x',
        'get -s /cmpA/x',
        'set /cmpA/x world',
        'set -s /cmpA/x again',
        'set -v 99 /cmpA/x nope',
        'get /cmpA/y',
        'stat /cmpA/x',
        'ls /cmpA',
        'ls -s /cmpA',
        'ls -R /cmpA',
        'create /cmpA/x',
        'create /cmpA/nope/z',
        'get /cmpA/missing',
        'delete /cmpA',
        'delete -v 5 /cmpA/y',
        'delete /cmpA/y',
        'getAllChildrenNumber /cmpA',
        'create -s /cmpA/seq- a',
        'create -s /cmpA/seq- b',
        'ls /cmpA',
        'create -c /cmpA/cont',
        'create -e /cmpA/eph',
        'getEphemerals /cmpA',
        'stat /cmpA/eph',
        'create -t 5000 /cmpA/ttl',
        'create -t 5000 -s /cmpA/ttls',
        'create -e -c /cmpA/bad',
        'create -t abc /cmpA/bad',
        'create -t 10 -e /cmpA/bad',
        'create -t 10 -c /cmpA/bad',
        'create -t 0 /cmpA/bad',
        'create a',
        'create /cmpA/',
        'get //x',
        'ls /cmpA/.',
        'create /cmpA/q "x y" world:anyone:r',
        'get /cmpA/q',
        "set /cmpA/q 'single quoted'",
        'getAcl /cmpA/q',
        'create /cmpA/r a b c',
        'quit',
      ],
    );
  });

  it('piped: usage errors, option parsing, deprecated forms, unknown commands, help, history/redo, printwatches', async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    await compareScript(
      ['/cmpB'],
      [
        'create /cmpB 1',
        'ls',
        'ls -x /',
        'ls -sw /cmpB',
        'get',
        'set /cmpB',
        'set /cmpB -1',
        'set -v1 /cmpB 2',
        'delete -v',
        'frob',
        ' ',
        'ls /cmpB extra',
        'get /cmpB 1',
        'stat /cmpB 1',
        'ls --stat /cmpB',
        'help',
        'history',
        'redo 1',
        'redo 99',
        'redo 18',
        'printwatches',
        'printwatches off',
        'printwatches',
        'printwatches on',
        'addWatch -m bogus /cmpB',
        'addWatch',
        'removewatches',
        'getAllChildrenNumber',
        'sync',
        'addauth',
        'setAcl /cmpB',
        'getAcl',
        'create -s',
        'reconfig',
        'reconfig -v x -add a',
        'reconfig -members a -add b',
        'reconfig -members a -file b',
        'reconfig -remove 3',
        'reconfig -s -v 100000000 -add server.5=127.0.0.1:1234:1235;2181',
        'history',
        'quit',
      ],
    );
  });

  it('piped: watch notifications (get/ls/stat -w, addWatch persistent and recursive) and removewatches events', async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    await compareScript(
      ['/cmpC'],
      [
        'create /cmpC x',
        'get -w /cmpC',
        'set /cmpC y',
        'ls -w /cmpC',
        'create /cmpC/c',
        'stat -w /cmpC/c',
        'delete /cmpC/c',
        'stat -w /cmpC/new',
        'create /cmpC/new',
        'addWatch /cmpC',
        'create /cmpC/d 1',
        'set /cmpC/d 2',
        'removewatches /cmpC',
        'removewatches /cmpC',
        'removewatches /cmpC/none',
        'addWatch -m PERSISTENT /cmpC',
        'set /cmpC z',
        'removewatches /cmpC -a',
        'get -w /cmpC',
        'removewatches /cmpC -d',
        'ls -w /cmpC',
        'removewatches /cmpC -c',
        'get -w /cmpC',
        'close',
        'ls /cmpC',
        'printwatches',
        'connect ' + (zk?.connectString ?? ''),
        'ls /cmpC',
        'quit',
      ],
    );
  });

  it('piped: ACLs, addauth/whoami, sync, config, deleteall, close/connect', async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    await compareScript(
      ['/cmpD'],
      [
        'create /cmpD x',
        'setAcl /cmpD world:anyone:cdrwa',
        'setAcl -s /cmpD world:anyone:cdrwa',
        'setAcl -v 9 /cmpD world:anyone:cdrwa',
        'setAcl /cmpD bad',
        'setAcl /cmpD foo:bar:r',
        'getAcl -s /cmpD',
        'addauth digest u:p',
        'whoami',
        'create /cmpD/p x auth:u:p:cdrwa',
        'create /cmpD/p x auth::cdrwa',
        'getAcl /cmpD/p',
        'create /cmpD/ip x ip:127.0.0.1:cdrwa',
        'getAcl /cmpD/ip',
        'create /cmpD/ro x world:anyone:r',
        'set /cmpD/ro y',
        'setAcl /cmpD/ro world:anyone:cdrwa',
        'create /cmpD/ro/child',
        'setAcl -R /cmpD world:anyone:cdrwa',
        'sync /cmpD',
        'config',
        'config -c',
        'config -s',
        'deleteall /cmpD/none',
        'deleteall',
        'deleteall /cmpD -b x',
        'delete /zookeeper',
        'close',
        'close',
        'ls /',
        'history',
        'quit',
      ],
    );
  });

  it('piped: quotas (setquota/listquota/delquota, StatsTrack text, parent/child conflicts, option groups)', async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    await compareScript(
      ['/cmpF', '/zookeeper/quota/cmpF'],
      [
        'create /cmpF',
        'create /cmpF/a abc',
        'create /cmpF/a/b',
        'setquota -n 10 /cmpF/a',
        'listquota /cmpF/a',
        'get /zookeeper/quota/cmpF',
        'setquota -b 2 /cmpF/a',
        'listquota /cmpF/a',
        'setquota -N 5 /cmpF/a',
        'setquota -B 100 /cmpF/a',
        'listquota /cmpF/a',
        'setquota -n 1 /cmpF',
        'setquota -n 1 /cmpF/a/b',
        'setquota -n 0 /cmpF/a',
        'setquota -b -1 /cmpF/a',
        'setquota -n x /cmpF/a',
        'setquota /cmpF/a',
        'setquota -n 1 -b 2 /cmpF/a',
        'setquota -n 3',
        'setquota -n 3 /nope',
        'setquota -n 3 /zookeeper/quota/x',
        'delquota -n /cmpF/a',
        'listquota /cmpF/a',
        'delquota -b /cmpF/a',
        'listquota /cmpF/a',
        'delquota /cmpF/a',
        'listquota /cmpF/a',
        'delquota /cmpF/a',
        'ls /zookeeper/quota',
        'listquota /nope',
        'listquota',
        'delquota',
        'delquota -x /cmpF',
        'delquota /',
        'quit',
      ],
    );
  });

  // 20 zkCli JVMs and 20 zoolab shells one after the other: 36 s of the default 60 s on a loaded
  // 2-core machine; each run has its own deadline (runDeadlineMs)
  it('command line: one command per run, zkCli exit statuses', { timeout: 240_000 }, async (ctx) => {
    if (zk === null) return ctx.skip(skipReason);
    await compareOneShots(
      ['/cmpE'],
      [
        ['create', '/cmpE', 'x'],
        ['create', '/cmpE/s', "'kept quotes'"],
        ['get', '/cmpE/s'],
        ['get', '-s', '/cmpE'],
        ['ls', '/cmpE'],
        ['ls', '/nope'],
        ['ls'],
        ['ls', '-x', '/'],
        ['ls', '-?', '/cmpE'],
        ['frob'],
        ['get', '/cmpE', 'watch'],
        ['delete', '/cmpE'],
        ['set', '/cmpE', '-1'],
        ['sync', '/'],
        ['getAllChildrenNumber', '/cmpE'],
        ['setquota', '-n', '5', '/nope'],
        ['setquota', '-n', 'x', '/cmpE'],
        ['listquota', '/cmpE'],
        ['deleteall', '/cmpE'],
        ['stat', '/cmpE'],
      ],
    );
  });
});
