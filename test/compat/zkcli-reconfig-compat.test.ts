/**
 * `config` and `reconfig` side by side, two ways:
 *
 * 1. zoolab shell vs Apache zkCli 3.8 on the SAME Apache ZooKeeper 3.8 ensemble with dynamic
 *    reconfiguration on (reconfigEnabled=true, a super digest: reconfig needs WRITE on
 *    /zookeeper/config): the shell's output, wording and exit statuses;
 * 2. Apache zkCli 3.8 running the same scripts on an Apache 3.8 ensemble and on a ZooLab
 *    ensemble (startEnsemble({ reconfig: true })): the servers' answers as zkCli shows them.
 *
 * Each script runs from the same membership (servers 1–3, all participants); the shell connects
 * to the leader so removing a follower does not drop its connection; placeholders name the
 * follower, the current config version, the super password and a folder of config files.
 * Outputs must match once configuration versions (zxids) are ranked (v1, v2 … in order of
 * appearance), zxids and times masked, and (between ensembles) each server's ports named.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApacheReconfigEnsemble, type ApacheEnsemble } from '../support/apache-ensemble';
import { waitUntil } from '../support/processes';
import { connectClient, digestAuthId, parseDynamicConfig, configVersion } from '../../src-main/client/index';
import { startEnsemble, type LocalEnsemble } from '../../src-main/supervisor';
import { normalize, runZkCli, runZoolab, useBuilt, withoutLostClose, type Normalized } from './zkcli-run';

/** An ensemble of servers 1..3 with reconfig on, whichever implementation serves it. */
interface Target {
  name: string;
  password: string;
  /** a folder with members.cfg (this ensemble's servers), bad.cfg, badline.cfg */
  fileDir: string;
  connectString(ids: number[]): string;
  serverLine(id: number, role: 'participant' | 'observer'): string;
  /** [clientPort, quorumPort, electionPort] per server id */
  ports(): Map<number, [number, number, number]>;
  waitServing(ids: number[]): Promise<void>;
  leader(ids: number[]): Promise<number>;
  stop(): Promise<void>;
}

const APACHE_PASSWORD = 'test';
let apache: Target | null = null;
let zoolab: Target | null = null;
let apacheSkip = '';
let zoolabSkip = '';

function writeFiles(t: Pick<Target, 'serverLine'>): string {
  const dir = mkdtempSync(join(tmpdir(), 'zoolab-reconfig-files-'));
  const members = [1, 2, 3].map((id) => t.serverLine(id, 'participant'));
  // a dynamic config file as an operator writes it: one server without role, one with a bare client port
  writeFileSync(join(dir, 'members.cfg'), `# the three servers\n${members[0]}\n${(members[1] ?? '').replace(':participant', '')}\n${members[2]}\n`);
  writeFileSync(join(dir, 'bad.cfg'), 'tickTime=2000\n');
  writeFileSync(join(dir, 'badline.cfg'), 'server.1=127.0.0.1:1\n');
  return dir;
}

function apacheTarget(e: ApacheEnsemble): Target {
  const t = {
    name: 'Apache ZooKeeper 3.8',
    password: APACHE_PASSWORD,
    fileDir: '',
    connectString: (ids: number[]) => e.connectString(ids),
    serverLine: (id: number, role: 'participant' | 'observer') => e.serverLine(id, role),
    ports: () => new Map([1, 2, 3].map((id) => [id, [e.slot(id).clientPort, e.slot(id).quorumPort, e.slot(id).electionPort] as [number, number, number]])),
    waitServing: (ids: number[]) => e.waitServing(ids),
    leader: (ids: number[]) => e.leader(ids),
    stop: () => e.stop(),
  };
  t.fileDir = writeFiles(t);
  return t;
}

function zoolabTarget(z: LocalEnsemble): Target {
  const t = {
    name: 'ZooLab',
    password: z.ensemble.workspace.settings.reconfig?.superPassword ?? '',
    fileDir: '',
    connectString: (ids: number[]) => ids.map((id) => `127.0.0.1:${z.server(id).clientPort}`).join(','),
    serverLine: (id: number, role: 'participant' | 'observer') => {
      const s = z.server(id);
      return `server.${id}=127.0.0.1:${s.quorumPort}:${s.electionPort}:${role};127.0.0.1:${s.clientPort}`;
    },
    ports: () => new Map([1, 2, 3].map((id) => [id, [z.server(id).clientPort, z.server(id).quorumPort, z.server(id).electionPort] as [number, number, number]])),
    async waitServing(ids: number[]) {
      const serving = (id: number): boolean => z.server(id).state === 'running' && ['leader', 'follower', 'observer'].includes(z.server(id).role);
      const all = (): boolean => ids.every(serving);
      // A server removed while running and added back rejoins by itself, as on Apache 3.8
      // (test/integration/reconfig.test.ts proves it); no restart here.
      await waitUntil(all, `servers ${ids.join(',')} serving`, 60_000);
    },
    async leader(ids: number[]) {
      await waitUntil(() => ids.filter((id) => z.server(id).role === 'leader').length === 1, 'one leader', 30_000);
      return ids.find((id) => z.server(id).role === 'leader') ?? 0;
    },
    stop: () => z.stop(),
  };
  t.fileDir = writeFiles(t);
  return t;
}

/** Configuration versions (hex zxids) → v1, v2 … by first appearance, everywhere they show. */
function rankVersions(n: Normalized): Normalized {
  const ranks = new Map<string, string>();
  const rank = (hex: string): string => {
    if (!ranks.has(hex)) ranks.set(hex, `v${ranks.size + 1}`);
    return ranks.get(hex) ?? hex;
  };
  const stdout = n.stdout.replace(/^version=([0-9a-f]+)$/gm, (_m, v: string) => `version=${rank(v)}`).replace(/^([0-9a-f]{9,16}) (?=\d)/gm, (_m, v: string) => `${rank(v)} `);
  return { ...n, stdout };
}

/** Each server's ports → <c1>, <q1>, <e1> …, and the files folder → <dir> (two ensembles compared). */
function maskTarget(n: Normalized, t: Target): Normalized {
  const names = new Map<string, string>();
  for (const [id, [c, q, e]] of t.ports()) {
    names.set(String(c), `<c${id}>`);
    names.set(String(q), `<q${id}>`);
    names.set(String(e), `<e${id}>`);
  }
  const mask = (text: string): string => text.split(t.fileDir).join('<dir>').replace(/\b\d{4,5}\b/g, (p) => names.get(p) ?? p);
  return { ...n, stdout: mask(n.stdout), stderr: mask(n.stderr) };
}

/** Back to servers 1–3 as participants, every one serving; returns the leader, a follower and the config version. */
async function reset(t: Target): Promise<{ leader: number; follower: number; version: string }> {
  const client = await connectClient(t.connectString([1, 2, 3]), { sessionTimeoutMs: 10_000 }, 30_000);
  await client.addAuth('digest', `super:${t.password}`);
  try {
    const current = parseDynamicConfig(new TextDecoder().decode((await client.getConfig()).data ?? new Uint8Array()));
    const wanted = [1, 2, 3].map((id) => t.serverLine(id, 'participant'));
    const have = current.servers.map((s) => `server.${s.id}=${s.host}:${s.quorumPort}:${s.electionPort}:${s.role};${s.client?.host ?? ''}:${s.client?.port ?? ''}`);
    if (have.join('\n') !== wanted.join('\n')) await client.reconfig({ newMembers: wanted });
    await t.waitServing([1, 2, 3]);
    const leader = await t.leader([1, 2, 3]);
    const follower = [1, 2, 3].find((id) => id !== leader) ?? 0;
    const version = configVersion(parseDynamicConfig(new TextDecoder().decode((await client.getConfig()).data ?? new Uint8Array()))).toString(16);
    return { leader, follower, version };
  } finally {
    await client.close();
  }
}

function fill(lines: string[], vars: Record<string, string>): string {
  return lines.map((l) => `${l.replace(/\{(\w+)\}/g, (_m, k: string) => vars[k] ?? `{${k}}`)}\n`).join('');
}

type Reset = Awaited<ReturnType<typeof reset>>;

/**
 * One run of a script by `runner` on target `t`, reset to `r`, with `follower` as {F}. The shell
 * connects to the leader; which server won the election is a race (a server slow to start under
 * load is left out of the first quorum), so the connection line names it `<leader>`.
 */
async function runReset(t: Target, runner: typeof runZkCli, lines: string[], r: Reset, follower: number): Promise<Normalized> {
  if (follower === r.leader) throw new Error(`${t.name}: server ${follower} was to be the follower of the script, but it leads now`);
  const input = fill(lines, {
    F: String(follower),
    Fline: t.serverLine(follower, 'participant'),
    FlineUpper: t.serverLine(follower, 'participant').replace('server.', 'SERVER.'),
    Fobserver: t.serverLine(follower, 'observer'),
    version: r.version,
    password: t.password,
    dir: t.fileDir,
  });
  const server = t.connectString([r.leader]);
  const n = normalize(await runner(['-server', server], input), false);
  return rankVersions({ ...n, stdout: n.stdout.split(`Connecting to ${server}\n`).join('Connecting to <leader>\n') });
}

/** One run of a script by `runner` on target `t`, from the reset membership ({F}: `follower`, or any follower). */
async function runScript(t: Target, runner: typeof runZkCli, lines: string[], follower?: number): Promise<{ out: Normalized; follower: number }> {
  const r = await reset(t);
  const f = follower ?? r.follower;
  return { out: await runReset(t, runner, lines, r, f), follower: f };
}

function expectSame(ours: Normalized, java: Normalized): void {
  if (process.env.ZKCLI_COMPAT_DUMP) console.log(JSON.stringify({ java, ours }, null, 1));
  // zkCli really ran (a broken zkCli.sh must not pass as "both printed nothing")
  expect(java.stdout).toContain('Welcome to ZooKeeper!\n');
  expect(java.stdout).toContain('Committed new configuration:\n');
  expect(ours.stdout).toBe(java.stdout);
  expect(ours.stderr).toBe(java.stderr);
  expect(ours.events).toEqual(java.events);
  expect(ours.code).toBe(java.code);
}

/** The script through zkCli and through zoolab shell, on the Apache ensemble. */
async function compareShells(lines: string[]): Promise<void> {
  const t = apache as Target;
  const java = await runScript(t, runZkCli, lines);
  // zkCli may exit before printing the Closed event of its quit (see withoutLostClose)
  const ours = withoutLostClose((await runScript(t, runZoolab, lines, java.follower)).out, java.out);
  expectSame(ours, java.out);
}

/** The script through zkCli on the Apache ensemble and on the ZooLab ensemble. */
async function compareServers(lines: string[]): Promise<void> {
  const a = apache as Target;
  const z = zoolab as Target;
  // the two elections may have chosen different leaders: {F} follows on both
  const ra = await reset(a);
  const rz = await reset(z);
  const follower = [1, 2, 3].find((id) => id !== ra.leader && id !== rz.leader) ?? 0;
  const javaRun = maskTarget(await runReset(a, runZkCli, lines, ra, follower), a);
  const oursRun = maskTarget(await runReset(z, runZkCli, lines, rz, follower), z);
  // zkCli on both sides: either may exit before printing the Closed event of its quit
  const ours = withoutLostClose(oursRun, javaRun);
  const java = withoutLostClose(javaRun, ours);
  expectSame(ours, java);
}

const SCRIPT_CHANGES = [
  'config',
  'config -c',
  'config -s',
  'reconfig -remove {F}',
  'addauth digest super:{password}',
  'reconfig -v {version} -remove {F}',
  'reconfig -v {version} -add {Fline}',
  'config -w',
  'reconfig -add {Fline}',
  'reconfig -remove {F}',
  'config -c',
  'reconfig -add {FlineUpper}',
  'reconfig -add {Fobserver}',
  'config',
  'reconfig -s -add {Fline}',
  'reconfig -v 1 -remove {F}',
  'reconfig -v zz -remove {F}',
  'reconfig -remove 9',
  'quit',
];

const SCRIPT_REFUSALS = [
  'addauth digest super:{password}',
  'reconfig -add server.7=bad',
  'reconfig -remove x',
  'reconfig -remove 1,2,3',
  'reconfig -members a -add b',
  'reconfig -members a -file b',
  'reconfig',
  'reconfig -file {dir}/none.cfg',
  'reconfig -file {dir}',
  'reconfig -file {dir}/bad.cfg',
  'reconfig -file {dir}/badline.cfg',
  'reconfig -file {dir}/members.cfg',
  'reconfig -remove {F}',
  'reconfig -s -v {version} -file {dir}/members.cfg',
  'config',
  'quit',
];

beforeAll(async () => {
  const started = await startApacheReconfigEnsemble({ superDigest: digestAuthId('super', APACHE_PASSWORD) });
  if (started.available) apache = apacheTarget(started);
  else apacheSkip = started.reason;
  // ZooKeeper's finalizeWait (200 ms; ZooLab's default is 50): three servers started together
  // then elect server 3 on both sides, and the scripts run on the same leader id
  const z = await startEnsemble({ servers: 3, reconfig: true, tickTimeMs: 500, cfg: { 'fastleader.finalizeWait': '200' } });
  const m = await z.membership();
  if (m.version >= 0n) zoolab = zoolabTarget(z);
  else {
    zoolabSkip = "ZooLab's servers do not serve a dynamic /zookeeper/config in this build";
    await z.stop();
  }
}, 180_000);

afterAll(async () => {
  for (const t of [apache, zoolab]) {
    await t?.stop();
    if (t) rmSync(t.fileDir, { recursive: true, force: true });
  }
});

describe(`zkCli compat: config/reconfig, zoolab shell (${useBuilt ? 'built CLI' : 'in-process'}) vs Apache zkCli 3.8 on an Apache ZooKeeper 3.8 ensemble`, () => {
  it('piped: config forms, NoAuth, remove/add a follower, role flip, -v, -s, a config watch', async (ctx) => {
    if (apache === null) return ctx.skip(apacheSkip);
    await compareShells(SCRIPT_CHANGES);
  });

  it('piped: refusals and their wording (bad lines and ids, everyone removed, mixed modes), -members and -file', async (ctx) => {
    if (apache === null) return ctx.skip(apacheSkip);
    await compareShells(SCRIPT_REFUSALS);
  });

  it('one-shot: config forms and refused reconfigs, with the same output and exit statuses', async (ctx) => {
    if (apache === null) return ctx.skip(apacheSkip);
    const t = apache;
    const commands = [['config', '-c'], ['config', '-s'], ['reconfig', '-remove', '9'], ['reconfig'], ['reconfig', '-v', 'zz', '-remove', '1'], ['reconfig', '-file', `${t.fileDir}/none.cfg`]];
    const runAll = async (runner: typeof runZkCli): Promise<Normalized[]> => {
      const { leader } = await reset(t);
      const out: Normalized[] = [];
      for (const c of commands) out.push(rankVersions(normalize(await runner(['-server', t.connectString([leader]), ...c], null), true)));
      return out;
    };
    const java = await runAll(runZkCli);
    const ours = await runAll(runZoolab);
    expect(java[0]?.stdout).toMatch(/^v1 /m);
    for (const [i, c] of commands.entries()) expect({ command: c, ...ours[i] }).toEqual({ command: c, ...java[i] });
  });
});

describe('zkCli compat: the same config/reconfig scripts through Apache zkCli 3.8, on an Apache ZooKeeper 3.8 ensemble and on a ZooLab ensemble', () => {
  it('piped: config forms, NoAuth, remove/add a follower, role flip, -v, -s, a config watch', { timeout: 120_000 }, async (ctx) => {
    if (apache === null || zoolab === null) return ctx.skip(apacheSkip || zoolabSkip);
    await compareServers(SCRIPT_CHANGES);
  });

  it('piped: refusals and their wording (bad lines and ids, everyone removed, mixed modes), -members and -file', { timeout: 120_000 }, async (ctx) => {
    if (apache === null || zoolab === null) return ctx.skip(apacheSkip || zoolabSkip);
    await compareServers(SCRIPT_REFUSALS);
  });
});
