/**
 * zkCli's quota commands (setquota, listquota, delquota). Quotas are plain znodes under
 * /zookeeper/quota/<path>: `zookeeper_limits` (written by the client) and `zookeeper_stats`
 * (kept up to date by the server). Their text is ZooKeeper's StatsTrack format:
 * `count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1`.
 */
import { ErrorCode } from '../common/error-codes';
import { CreateFlags } from '../jute/types';
import { parseJavaLong } from './args';
import type { ParsedOptions } from './args';
import { CliError } from './commands-base';
import type { CommandContext, CommandDef } from './commands-base';
import { cliErrorMessage } from './format';
import { OPEN_ACL_UNSAFE, pathProblem } from './paths-acl';

export const QUOTA_ROOT = '/zookeeper/quota';
export const LIMITS_NODE = 'zookeeper_limits';
export const STATS_NODE = 'zookeeper_stats';

/** StatsTrack: key → value, -1 meaning "not set". */
export type StatsTrack = Map<string, bigint>;

export function parseStatsTrack(text: string): StatsTrack {
  const m: StatsTrack = new Map();
  if (text.length === 0) return m;
  for (const pair of text.split(/[,;]+/)) {
    if (pair === '') continue;
    const [key = '', value = ''] = pair.split('=');
    m.set(key, value === '' ? -1n : (parseJavaLong(value) ?? -1n));
  }
  return m;
}

/** count and bytes first (the old format), then `=` and the other keys sorted, `;`-separated. */
export function formatStatsTrack(m: StatsTrack): string {
  const count = m.get('count') ?? -1n;
  const bytes = m.get('bytes') ?? -1n;
  const rest = [...m.keys()].filter((k) => k !== 'count' && k !== 'bytes').sort();
  let s = `count=${count},bytes=${bytes}`;
  if (rest.length > 0) s += `=${rest.map((k) => `;${k}=${m.get(k) ?? -1n}`).join('')}`;
  return s;
}

const utf8 = new TextEncoder();
const text = (b: Uint8Array | null): string => (b === null ? '' : new TextDecoder().decode(b));

/** option letter → StatsTrack key */
const QUOTA_KEYS: Record<string, string> = { n: 'count', b: 'bytes', N: 'countHardLimit', B: 'byteHardLimit' };
const GROUP_TEXT = '[-n num soft quota, -b bytes soft quota, -N num hard quota, -B bytes hard quota]';

/** commons-cli's option group: at most one of -n -b -N -B, in the order typed. */
function groupChoice(opts: ParsedOptions, required: boolean): string | null {
  const chosen = opts.order.filter((o) => o in QUOTA_KEYS);
  if (chosen.length > 1) {
    throw new CliError(
      `org.apache.commons.cli.AlreadySelectedException: The option '${chosen[1]}' was specified but an option from this group has already been selected: '${chosen[0]}'`,
    );
  }
  if (chosen.length === 0 && required) throw new CliError(`org.apache.commons.cli.MissingOptionException: Missing required option: ${GROUP_TEXT}`);
  return chosen[0] ?? null;
}

function must<T>(o: { ok: true; value: T } | { ok: false; code: number }, path: string): T {
  if (o.ok) return o.value;
  throw new CliError(cliErrorMessage(o.code, path));
}

async function exists(ctx: CommandContext, path: string): Promise<boolean> {
  const r = await ctx.zk.exists(path, false);
  if (r.ok) return true;
  if (r.code === ErrorCode.NONODE) return false;
  throw new CliError(cliErrorMessage(r.code, path));
}

function ancestors(path: string): string[] {
  const out: string[] = [];
  const parts = path.split('/').filter((p) => p !== '');
  for (let i = 1; i < parts.length; i++) out.push(`/${parts.slice(0, i).join('/')}`);
  return out;
}

async function createQuota(ctx: CommandContext, path: string, key: string, value: bigint): Promise<void> {
  if (path === '/') throw new CliError('Path must not end with / character');
  const problem = pathProblem(path);
  if (problem !== null) throw new CliError(problem);
  if (!(await exists(ctx, path))) throw new CliError(`${path} does not exist.`);
  for (const a of ancestors(path)) {
    if (await exists(ctx, `${QUOTA_ROOT}${a}/${LIMITS_NODE}`)) throw new CliError(`${path} has a parent ${a} which has a quota`);
  }
  const quotaDir = `${QUOTA_ROOT}${path}`;
  if (await exists(ctx, quotaDir)) {
    const queue = [quotaDir];
    for (let i = 0; i < queue.length && i < 100_000; i++) {
      const node = queue[i] ?? quotaDir;
      const r = await ctx.zk.getChildren(node, false);
      if (!r.ok) continue;
      for (const c of r.value.children) {
        if (c === LIMITS_NODE && node !== quotaDir) {
          throw new CliError(`${path} has a child ${node.slice(QUOTA_ROOT.length)} which has a quota`);
        }
        if (c !== LIMITS_NODE && c !== STATS_NODE) queue.push(`${node}/${c}`);
      }
    }
  }
  // the quota folder, level by level
  let dir = QUOTA_ROOT;
  for (const part of path.split('/').filter((p) => p !== '')) {
    dir = `${dir}/${part}`;
    const r = await ctx.zk.create(dir, null, OPEN_ACL_UNSAFE, CreateFlags.PERSISTENT);
    if (!r.ok && r.code !== ErrorCode.NODEEXISTS) throw new CliError(cliErrorMessage(r.code, dir));
  }
  const limitsPath = `${quotaDir}/${LIMITS_NODE}`;
  const current = await ctx.zk.getData(limitsPath, false);
  let limits: StatsTrack;
  if (current.ok) {
    limits = parseStatsTrack(text(current.value.data));
    limits.set(key, value);
    must(await ctx.zk.setData(limitsPath, utf8.encode(formatStatsTrack(limits)), -1), limitsPath);
  } else {
    limits = new Map([
      ['count', -1n],
      ['bytes', -1n],
      ['countHardLimit', -1n],
      ['byteHardLimit', -1n],
    ]);
    limits.set(key, value);
    must(await ctx.zk.create(limitsPath, utf8.encode(formatStatsTrack(limits)), OPEN_ACL_UNSAFE, CreateFlags.PERSISTENT), limitsPath);
  }
  const statsPath = `${quotaDir}/${STATS_NODE}`;
  const made = await ctx.zk.create(statsPath, utf8.encode('count=0,bytes=0'), OPEN_ACL_UNSAFE, CreateFlags.PERSISTENT);
  if (!made.ok && made.code !== ErrorCode.NODEEXISTS) throw new CliError(cliErrorMessage(made.code, statsPath));
  // the server has counted the subtree into zookeeper_stats: warn when a limit (the new one or
  // one set before) is already below what is there
  const stats = await ctx.zk.getData(statsPath, false);
  if (stats.ok) {
    const st = parseStatsTrack(text(stats.value.data));
    const below = (used: bigint, ...limitKeys: string[]): boolean =>
      limitKeys.some((k) => {
        const limit = limits.get(k) ?? -1n;
        return limit > -1n && used > limit;
      });
    const count = st.get('count') ?? -1n;
    const bytes = st.get('bytes') ?? -1n;
    if (below(count, 'count', 'countHardLimit')) ctx.out(`[Warning]: the count quota you create is less than the existing count:${count}\n`);
    if (below(bytes, 'bytes', 'byteHardLimit')) ctx.out(`[Warning]: the bytes quota you create is less than the existing bytes:${bytes}\n`);
  }
}

export const setquota: CommandDef = {
  name: 'setquota',
  usage: '-n|-b|-N|-B val path',
  options: { values: { n: 'num soft quota', b: 'bytes soft quota', N: 'num hard quota', B: 'bytes hard quota' } },
  async run(ctx, opts) {
    const choice = groupChoice(opts, true) ?? 'n';
    if (opts.args.length < 2) throw new CliError(`setquota ${setquota.usage}`);
    const path = opts.args[1] ?? '';
    if (path.startsWith(QUOTA_ROOT)) {
      ctx.err(`cannot set a quota under the path: ${QUOTA_ROOT}\n`);
      return;
    }
    const value = parseJavaLong(opts.values.get(choice) ?? '');
    if (value === null) {
      ctx.err('NumberFormatException happens when parsing the option value\n');
      return;
    }
    const isCount = choice === 'n' || choice === 'N';
    if (isCount && value <= 0n) {
      ctx.err('the num quota must be greater than zero\n');
      return;
    }
    if (!isCount && value < 0n) {
      ctx.err('the bytes quota must be greater than or equal to zero\n');
      return;
    }
    await createQuota(ctx, path, QUOTA_KEYS[choice] ?? 'count', value);
  },
};

export const listquota: CommandDef = {
  name: 'listquota',
  usage: 'path',
  async run(ctx, opts) {
    if (opts.args.length < 2) throw new CliError(`listquota ${listquota.usage}`);
    const path = opts.args[1] ?? '';
    const limitsPath = `${QUOTA_ROOT}${path}/${LIMITS_NODE}`;
    ctx.err(`absolute path is ${limitsPath}\n`);
    const problem = pathProblem(limitsPath);
    if (problem !== null) throw new CliError(problem);
    const limits = await ctx.zk.getData(limitsPath, false);
    if (!limits.ok) {
      if (limits.code === ErrorCode.NONODE) {
        ctx.err(`quota for ${path} does not exist.\n`);
        return;
      }
      throw new CliError(cliErrorMessage(limits.code, limitsPath));
    }
    ctx.out(`Output quota for ${path} ${formatStatsTrack(parseStatsTrack(text(limits.value.data)))}\n`);
    const statsPath = `${QUOTA_ROOT}${path}/${STATS_NODE}`;
    const stats = must(await ctx.zk.getData(statsPath, false), statsPath);
    ctx.out(`Output stat for ${path} ${formatStatsTrack(parseStatsTrack(text(stats.data)))}\n`);
  },
};

export const delquota: CommandDef = {
  name: 'delquota',
  usage: '[-n|-b|-N|-B] path',
  options: { flags: { n: 'num soft quota', b: 'bytes soft quota', N: 'num hard quota', B: 'bytes hard quota' } },
  async run(ctx, opts) {
    const choice = groupChoice(opts, false);
    if (opts.args.length < 2) throw new CliError(`delquota ${delquota.usage}`);
    const path = opts.args[1] ?? '';
    const quotaDir = `${QUOTA_ROOT}${path}`;
    const limitsPath = `${quotaDir}/${LIMITS_NODE}`;
    const problem = pathProblem(limitsPath);
    if (problem !== null) throw new CliError(problem);
    if (!(await exists(ctx, limitsPath))) {
      ctx.out(`Quota does not exist for ${path}\n`);
      return;
    }
    if (choice === null) {
      // the whole quota: its nodes, then the folders it leaves empty
      const r = must(await ctx.zk.getChildren(quotaDir, false), quotaDir);
      for (const c of r.children) must(await ctx.zk.delete(`${quotaDir}/${c}`, -1), `${quotaDir}/${c}`);
      let dir = quotaDir;
      while (dir !== QUOTA_ROOT && dir.startsWith(`${QUOTA_ROOT}/`)) {
        const left = await ctx.zk.getChildren(dir, false);
        if (!left.ok || left.value.children.length > 0) break;
        must(await ctx.zk.delete(dir, -1), dir);
        dir = dir.slice(0, dir.lastIndexOf('/'));
      }
      return;
    }
    const data = await ctx.zk.getData(limitsPath, false);
    if (!data.ok) {
      if (data.code === ErrorCode.NONODE) {
        ctx.err(`quota for ${path} does not exist.\n`);
        return;
      }
      throw new CliError(cliErrorMessage(data.code, limitsPath));
    }
    const limits = parseStatsTrack(text(data.value.data));
    limits.set(QUOTA_KEYS[choice] ?? 'count', -1n);
    must(await ctx.zk.setData(limitsPath, utf8.encode(formatStatsTrack(limits)), -1), limitsPath);
  },
};
