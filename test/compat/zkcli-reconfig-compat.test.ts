/**
 * `config` and `reconfig`: zoolab shell side by side with Apache zkCli 3.8 on the SAME Apache
 * ZooKeeper 3.8 ensemble with dynamic reconfiguration on (reconfigEnabled=true, a super digest:
 * reconfig needs WRITE on /zookeeper/config). Each script runs from the same membership
 * (servers 1–3, all participants); the shell connects to the leader so removing a follower does
 * not drop its connection; placeholders name the follower and the current config version. Stdout,
 * stderr, watch events and exit statuses must match once configuration versions (zxids) are
 * ranked (v1, v2 … in order of appearance), zxids and times masked.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApacheReconfigEnsemble, type ApacheEnsemble } from '../support/apache-ensemble';
import { connectClient, digestAuthId, parseDynamicConfig, configVersion } from '../../src-main/client/index';
import { normalize, runZkCli, runZoolab, useBuilt, type Normalized } from './zkcli-run';

const SUPER_PASSWORD = 'test';
let ens: ApacheEnsemble | null = null;
let skipReason = '';
let fileDir = '';

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

async function admin(): Promise<Awaited<ReturnType<typeof connectClient>>> {
  const e = ens as ApacheEnsemble;
  const client = await connectClient(e.connectString([1, 2, 3]), { sessionTimeoutMs: 10_000 }, 30_000);
  await client.addAuth('digest', `super:${SUPER_PASSWORD}`);
  return client;
}

/** Back to servers 1–3 as participants, every one serving; returns the leader, a follower and the config version. */
async function reset(): Promise<{ leader: number; follower: number; version: string }> {
  const e = ens as ApacheEnsemble;
  const client = await admin();
  try {
    const current = parseDynamicConfig(new TextDecoder().decode((await client.getConfig()).data ?? new Uint8Array()));
    const wanted = [1, 2, 3].map((id) => e.serverLine(id, 'participant'));
    const have = current.servers.map((s) => `server.${s.id}=${s.host}:${s.quorumPort}:${s.electionPort}:${s.role};${s.client?.host ?? ''}:${s.client?.port ?? ''}`);
    if (have.join('\n') !== wanted.join('\n')) await client.reconfig({ newMembers: wanted });
    await e.waitServing([1, 2, 3]);
    const leader = await e.leader([1, 2, 3]);
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

/** Runs the script through zkCli then through zoolab shell, each from the reset membership, and compares. */
async function compareReconfigScript(lines: string[]): Promise<void> {
  const e = ens as ApacheEnsemble;
  const run = async (runner: typeof runZkCli): Promise<Normalized> => {
    const { leader, follower, version } = await reset();
    const input = fill(lines, {
      F: String(follower),
      Fline: e.serverLine(follower, 'participant'),
      FlineUpper: e.serverLine(follower, 'participant').replace('server.', 'SERVER.'),
      Fobserver: e.serverLine(follower, 'observer'),
      version,
      dir: fileDir,
    });
    return rankVersions(normalize(await runner(['-server', e.connectString([leader])], input), false));
  };
  const java = await run(runZkCli);
  const ours = await run(runZoolab);
  if (process.env.ZKCLI_COMPAT_DUMP) console.log(JSON.stringify({ java, ours }, null, 1));
  // zkCli really ran (a broken zkCli.sh must not pass as "both printed nothing")
  expect(java.stdout).toContain('Welcome to ZooKeeper!\n');
  expect(java.stdout).toContain('Committed new configuration:\n');
  expect(ours.stdout).toBe(java.stdout);
  expect(ours.stderr).toBe(java.stderr);
  expect(ours.events).toEqual(java.events);
  expect(ours.code).toBe(java.code);
}

beforeAll(async () => {
  const started = await startApacheReconfigEnsemble({ superDigest: digestAuthId('super', SUPER_PASSWORD) });
  if (!started.available) {
    skipReason = started.reason;
    return;
  }
  ens = started;
  fileDir = mkdtempSync(join(tmpdir(), 'zoolab-reconfig-files-'));
  const members = [1, 2, 3].map((id) => ens?.serverLine(id) ?? '');
  // a dynamic config file as an operator writes it: one server without role, one with a bare client port
  writeFileSync(join(fileDir, 'members.cfg'), `# the three servers\n${members[0]}\n${(members[1] ?? '').replace(':participant', '')}\n${members[2]}\n`);
  writeFileSync(join(fileDir, 'bad.cfg'), 'tickTime=2000\n');
  writeFileSync(join(fileDir, 'badline.cfg'), 'server.1=127.0.0.1:1\n');
}, 120_000);

afterAll(async () => {
  await ens?.stop();
  if (fileDir !== '') rmSync(fileDir, { recursive: true, force: true });
});

describe(`zkCli compat: config/reconfig, zoolab shell (${useBuilt ? 'built CLI' : 'in-process'}) vs Apache zkCli 3.8 on an Apache ZooKeeper 3.8 ensemble`, () => {
  it('piped: config forms, NoAuth, remove/add a follower, role flip, -v, -s, a config watch', async (ctx) => {
    if (ens === null) return ctx.skip(skipReason);
    await compareReconfigScript([
      'config',
      'config -c',
      'config -s',
      'reconfig -remove {F}',
      `addauth digest super:${SUPER_PASSWORD}`,
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
    ]);
  });

  it('piped: refusals and their wording (bad lines and ids, everyone removed, mixed modes), -members and -file', async (ctx) => {
    if (ens === null) return ctx.skip(skipReason);
    await compareReconfigScript([
      `addauth digest super:${SUPER_PASSWORD}`,
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
    ]);
  });

  it('one-shot: config forms and refused reconfigs, with the same output and exit statuses', async (ctx) => {
    if (ens === null) return ctx.skip(skipReason);
    const e = ens;
    const commands = [['config', '-c'], ['config', '-s'], ['reconfig', '-remove', '9'], ['reconfig'], ['reconfig', '-v', 'zz', '-remove', '1'], ['reconfig', '-file', `${fileDir}/none.cfg`]];
    const runAll = async (runner: typeof runZkCli): Promise<Normalized[]> => {
      const { leader } = await reset();
      const out: Normalized[] = [];
      for (const c of commands) out.push(rankVersions(normalize(await runner(['-server', e.connectString([leader]), ...c], null), true)));
      return out;
    };
    const java = await runAll(runZkCli);
    const ours = await runAll(runZoolab);
    expect(java[0]?.stdout).toMatch(/^v1 /m);
    for (const [i, c] of commands.entries()) expect({ command: c, ...ours[i] }).toEqual({ command: c, ...java[i] });
  });
});
