/**
 * zkCli's znode commands (ls, create, get, set, stat, delete, deleteall, setAcl, getAcl, …):
 * their options, checks, output and error wording, over the ShellZk port. Session-level
 * commands (history, redo, printwatches, connect, close, quit) live in session.ts.
 */
import { ErrorCode } from '../common/error-codes';
import { AddWatchMode, CreateFlags, WatcherType } from '../jute/types';
import type { Stat } from '../jute/types';
import { OptionParseError, parseJavaInt, parseJavaLong, parseOptions } from './args';
import type { ParsedOptions } from './args';
import { CliError, JavaCrash } from './commands-base';
import type { CommandContext, CommandDef } from './commands-base';
import { clientConfigString, membersFromConfigFile } from './java-config';
import { delquota, listquota, setquota } from './quota';
import { cliErrorMessage, formatAcl, formatData, formatStat, javaList, keeperErrorMessage } from './format';
import { OPEN_ACL_UNSAFE, joinPath, parseAcl, pathProblem } from './paths-acl';
import type { Outcome, ShellZk } from './zk-port';

export { CliError, JavaCrash } from './commands-base';
export { clientConfigString } from './java-config';
export type { CommandContext, CommandDef } from './commands-base';

const utf8 = new TextEncoder();

/** The i-th word (0 is the command name); callers check the count first. */
function arg(opts: ParsedOptions, i: number): string {
  return opts.args[i] ?? '';
}

function usageError(def: CommandDef): CliError {
  return new CliError(`${def.name} ${def.usage}`);
}

/** A protocol outcome to a value, or zkCli's wording of the failure. */
function must<T>(o: Outcome<T>, path: string | null): T {
  if (o.ok) return o.value;
  throw new CliError(cliErrorMessage(o.code, path));
}

function checkPath(path: string, sequential = false): void {
  const problem = pathProblem(path, sequential);
  if (problem !== null) throw new CliError(problem);
}

function intOrCrash(text: string): number {
  const n = parseJavaInt(text);
  if (n === null) throw new JavaCrash(`java.lang.NumberFormatException: For input string: "${text}"`);
  return n;
}

/** The old positional `watch` argument some commands still accept, with zkCli's warning. */
function retainWatchCompat(ctx: CommandContext, opts: ParsedOptions, def: CommandDef, modern: string): void {
  if (opts.args.length > 2) {
    ctx.err(`'${def.name} path [watch]' has been deprecated. Please use '${modern}' instead.\n`);
    opts.flags.add('w');
    opts.args.splice(2);
  }
}

function printStat(ctx: CommandContext, stat: Stat): void {
  ctx.out(formatStat(stat, ctx.timeZone));
}

/** A bound on the subtrees ls -R, deleteall and setAcl -R walk. */
export const subTreeNodesMax = 1_000_000;

/** Every node under `root`, root first, level by level (zkCli's listSubTreeBFS). */
async function listSubTree(zk: ShellZk, root: string): Promise<string[]> {
  const out = [root];
  for (let i = 0; i < out.length && i < subTreeNodesMax; i++) {
    const node = out[i] ?? root;
    const r = await zk.getChildren(node, false);
    if (!r.ok) {
      if (r.code === ErrorCode.NONODE && i > 0) continue; // deleted meanwhile
      throw new CliError(cliErrorMessage(r.code, node));
    }
    for (const c of r.value.children) out.push(joinPath(node, c));
  }
  return out;
}

const ls: CommandDef = {
  name: 'ls',
  usage: '[-s] [-w] [-R] path',
  options: { flags: { '?': 'help', s: 'stat', w: 'watch', R: 'recurse' } },
  async run(ctx, opts) {
    // -? prints commons-cli's help for ls, then ls carries on
    if (opts.flags.has('?')) ctx.out('usage: ls [options] path\n -?   help\n -R   recurse\n -s   stat\n -w   watch\n');
    if (opts.args.length < 2) throw usageError(ls);
    retainWatchCompat(ctx, opts, ls, 'ls [-w] path');
    const path = arg(opts, 1);
    checkPath(path);
    if (opts.flags.has('R')) {
      for (const p of await listSubTree(ctx.zk, path)) ctx.out(`${p}\n`);
      return;
    }
    const r = must(await ctx.zk.getChildren(path, opts.flags.has('w')), path);
    ctx.out(`${javaList([...r.children].sort())}\n`);
    if (opts.flags.has('s')) printStat(ctx, r.stat);
  },
};

const create: CommandDef = {
  name: 'create',
  usage: '[-s] [-e] [-c] [-t ttl] path [data] [acl]',
  options: { flags: { e: 'ephemeral', s: 'sequential', c: 'container' }, values: { t: 'ttl' } },
  async run(ctx, opts) {
    if (opts.args.length < 2) throw usageError(create);
    const e = opts.flags.has('e');
    const s = opts.flags.has('s');
    const c = opts.flags.has('c');
    if (c && (e || s)) throw new CliError('-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.');
    let ttl: bigint | undefined;
    if (opts.values.has('t')) {
      const t = parseJavaLong(opts.values.get('t') ?? '');
      if (t === null) throw new CliError('-t argument must be a long value');
      if (e) throw new CliError('TTLs cannot be used with Ephemeral znodes');
      if (c) throw new CliError('TTLs cannot be used with Container znodes');
      ttl = t;
    }
    let flags: number = CreateFlags.PERSISTENT;
    if (e && s) flags = CreateFlags.EPHEMERAL_SEQUENTIAL;
    else if (e) flags = CreateFlags.EPHEMERAL;
    else if (s) flags = ttl !== undefined ? CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL : CreateFlags.PERSISTENT_SEQUENTIAL;
    else if (c) flags = CreateFlags.CONTAINER;
    else if (ttl !== undefined) flags = CreateFlags.PERSISTENT_WITH_TTL;

    const path = arg(opts, 1);
    const data = opts.args.length > 2 ? utf8.encode(arg(opts, 2)) : null;
    const acl = opts.args.length > 3 ? parseAcl(arg(opts, 3), (l) => ctx.err(`${l}\n`)) : OPEN_ACL_UNSAFE;
    checkPath(path, s);
    if (ttl !== undefined && (ttl <= 0n || ttl > 0xffffffffffn)) {
      throw new CliError('ttl must be positive and cannot be larger than: 1099511627775');
    }
    if (acl.length === 0) {
      ctx.err(`${keeperErrorMessage(ErrorCode.INVALIDACL)}\n`);
      throw new CliError(cliErrorMessage(ErrorCode.INVALIDACL, null));
    }
    const r = await ctx.zk.create(path, data, acl, flags, ttl);
    if (!r.ok) {
      if (r.code === ErrorCode.INVALIDACL) ctx.err(`${keeperErrorMessage(r.code, path)}\n`);
      if (r.code === ErrorCode.EPHEMERALONLOCALSESSION) throw new CliError('Unable to create ephemeral node on a local session');
      throw new CliError(cliErrorMessage(r.code, path));
    }
    ctx.err(`Created ${r.value}\n`);
  },
};

const get: CommandDef = {
  name: 'get',
  usage: '[-s] [-w] path',
  options: { flags: { s: 'stats', w: 'watch' } },
  async run(ctx, opts) {
    if (opts.args.length < 2) throw usageError(get);
    retainWatchCompat(ctx, opts, get, 'get [-s] [-w] path');
    const path = arg(opts, 1);
    checkPath(path);
    const r = must(await ctx.zk.getData(path, opts.flags.has('w')), path);
    ctx.out(`${formatData(r.data)}\n`);
    if (opts.flags.has('s')) printStat(ctx, r.stat);
  },
};

const set: CommandDef = {
  name: 'set',
  usage: '[-s] [-v version] path data',
  options: { flags: { s: 'stats' }, values: { v: 'version' } },
  async run(ctx, opts) {
    if (opts.args.length < 3) throw usageError(set);
    const path = arg(opts, 1);
    const data = utf8.encode(arg(opts, 2));
    const version = opts.values.has('v') ? intOrCrash(opts.values.get('v') ?? '') : -1;
    checkPath(path);
    const stat = must(await ctx.zk.setData(path, data, version), path);
    if (opts.flags.has('s')) printStat(ctx, stat);
  },
};

const stat: CommandDef = {
  name: 'stat',
  usage: '[-w] path',
  options: { flags: { w: 'watch' } },
  async run(ctx, opts) {
    if (opts.args.length < 2) throw usageError(stat);
    retainWatchCompat(ctx, opts, stat, 'stat [-w] path');
    const path = arg(opts, 1);
    checkPath(path);
    printStat(ctx, must(await ctx.zk.exists(path, opts.flags.has('w')), path));
  },
};

const del: CommandDef = {
  name: 'delete',
  usage: '[-v version] path',
  options: { values: { v: 'version' } },
  async run(ctx, opts) {
    if (opts.args.length < 2) throw usageError(del);
    if (opts.args.length > 2) {
      ctx.err(`'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.\n`);
      opts.values.set('v', arg(opts, 2));
    }
    const path = arg(opts, 1);
    const version = opts.values.has('v') ? intOrCrash(opts.values.get('v') ?? '') : -1;
    checkPath(path);
    must(await ctx.zk.delete(path, version), path);
  },
};

const deleteBatchMax = 1000;

async function deleteAll(ctx: CommandContext, opts: ParsedOptions, def: CommandDef): Promise<void> {
  if (opts.args.length < 2) throw usageError(def);
  let batch = deleteBatchMax;
  if (opts.values.has('b')) {
    const b = parseJavaInt(opts.values.get('b') ?? '');
    if (b === null) throw new CliError('-b argument must be an int value');
    batch = b;
  }
  const path = arg(opts, 1);
  checkPath(path);
  const nodes = await listSubTree(ctx.zk, path);
  // children before parents: the reverse of the level-by-level listing
  nodes.reverse();
  let ok = true;
  for (let i = 0; i < nodes.length; i += Math.max(batch, 1)) {
    const chunk = nodes.slice(i, i + Math.max(batch, 1));
    const r = await ctx.zk.deleteMulti(chunk);
    if (!r.ok) {
      // retry one by one so that everything deletable is deleted, as zkCli's fallback does
      for (const p of chunk) {
        const d = await ctx.zk.delete(p, -1);
        if (!d.ok && d.code !== ErrorCode.NONODE) ok = false;
      }
    }
  }
  if (!ok) ctx.err('Failed to delete some node(s) in the subtree!\n');
}

const deleteall: CommandDef = {
  name: 'deleteall',
  usage: 'path [-b batch size]',
  options: { values: { b: 'batch size' } },
  run: (ctx, opts) => deleteAll(ctx, opts, deleteall),
};

/** `rmr`: gone from zkCli 3.8 (it says "Command not found"); kept here as deleteall with the 3.5–3.7 warning. */
const rmr: CommandDef = {
  name: 'rmr',
  usage: 'path',
  options: { values: { b: 'batch size' } },
  async run(ctx, opts) {
    ctx.err(`The command 'rmr' has been deprecated. Please use 'deleteall' instead.\n`);
    await deleteAll(ctx, opts, rmr);
  },
};

const setAcl: CommandDef = {
  name: 'setAcl',
  usage: '[-s] [-v version] [-R] path acl',
  options: { flags: { s: 'stats', R: 'recursive' }, values: { v: 'version' } },
  async run(ctx, opts) {
    if (opts.args.length < 3) throw usageError(setAcl);
    const path = arg(opts, 1);
    const acl = parseAcl(arg(opts, 2), (l) => ctx.err(`${l}\n`));
    const version = opts.values.has('v') ? intOrCrash(opts.values.get('v') ?? '') : -1;
    checkPath(path);
    if (acl.length === 0) throw new CliError(cliErrorMessage(ErrorCode.INVALIDACL, null));
    if (opts.flags.has('R')) {
      for (const p of await listSubTree(ctx.zk, path)) {
        const r = await ctx.zk.setACL(p, acl, version);
        // zkCli's recursive callback prints failures without a line break
        if (!r.ok) ctx.out(keeperErrorMessage(r.code, p));
      }
      return;
    }
    const st = must(await ctx.zk.setACL(path, acl, version), path);
    if (opts.flags.has('s')) printStat(ctx, st);
  },
};

const getAcl: CommandDef = {
  name: 'getAcl',
  usage: '[-s] path',
  options: { flags: { s: 'stats' } },
  async run(ctx, opts) {
    if (opts.args.length < 2) throw usageError(getAcl);
    const path = arg(opts, 1);
    checkPath(path);
    const r = must(await ctx.zk.getACL(path), path);
    ctx.out(formatAcl(r.acl));
    if (opts.flags.has('s')) printStat(ctx, r.stat);
  },
};

const addauth: CommandDef = {
  name: 'addauth',
  usage: 'scheme auth',
  async run(ctx, opts) {
    if (opts.args.length < 2) throw usageError(addauth);
    ctx.zk.addAuth(arg(opts, 1), opts.args.length > 2 ? utf8.encode(arg(opts, 2)) : new Uint8Array(0));
  },
};

const sync: CommandDef = {
  name: 'sync',
  usage: 'path',
  async run(ctx, opts) {
    if (opts.args.length < 2) throw usageError(sync);
    const path = arg(opts, 1);
    checkPath(path);
    const r = await ctx.zk.sync(path);
    ctx.out(r.ok ? 'Sync is OK\n' : `Sync has failed. rc=${r.code}\n`);
  },
};

const config: CommandDef = {
  name: 'config',
  usage: '[-c] [-w] [-s]',
  options: { flags: { c: 'client connection string', w: 'watch', s: 'stats' } },
  async run(ctx, opts) {
    const r = must(await ctx.zk.getConfig(opts.flags.has('w')), '/zookeeper/config');
    // zkCli prints a null config as "null"
    const text = formatData(r.data);
    ctx.out(`${opts.flags.has('c') ? clientConfigString(text) : text}\n`);
    if (opts.flags.has('s')) printStat(ctx, r.stat);
  },
};

const whoami: CommandDef = {
  name: 'whoami',
  usage: '',
  async run(ctx) {
    const infos = must(await ctx.zk.whoAmI(), null);
    ctx.out('Auth scheme: User\n');
    for (const i of infos) ctx.out(`${i.authScheme}: ${i.user}\n`);
  },
};

const getEphemerals: CommandDef = {
  name: 'getEphemerals',
  usage: 'path',
  async run(ctx, opts) {
    const path = opts.args.length > 1 ? arg(opts, 1) : '/';
    const r = must(await ctx.zk.getEphemerals(path), path);
    ctx.out(`${javaList(r)}\n`);
  },
};

const getAllChildrenNumber: CommandDef = {
  name: 'getAllChildrenNumber',
  usage: 'path',
  async run(ctx, opts) {
    if (opts.args.length < 2) throw usageError(getAllChildrenNumber);
    const path = arg(opts, 1);
    checkPath(path);
    ctx.out(`${must(await ctx.zk.getAllChildrenNumber(path), path)}\n`);
  },
};

const addWatch: CommandDef = {
  name: 'addWatch',
  usage: '[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE',
  options: { values: { m: 'mode' } },
  async run(ctx, opts) {
    if (opts.args.length !== 2) throw usageError(addWatch);
    let mode: number = AddWatchMode.PERSISTENT_RECURSIVE;
    if (opts.values.has('m')) {
      const m = opts.values.get('m');
      if (m === 'PERSISTENT') mode = AddWatchMode.PERSISTENT;
      else if (m === 'PERSISTENT_RECURSIVE') mode = AddWatchMode.PERSISTENT_RECURSIVE;
      else throw usageError(addWatch);
    }
    const path = arg(opts, 1);
    checkPath(path);
    must(await ctx.zk.addWatch(path, mode), path);
  },
};

const removewatches: CommandDef = {
  name: 'removewatches',
  usage: 'path [-c|-d|-a] [-l]',
  options: { flags: { c: 'child watcher type', d: 'data watcher type', a: 'any watcher type', l: 'remove locally when there is no server connection' } },
  async run(ctx, opts) {
    if (opts.args.length < 2) throw usageError(removewatches);
    const path = arg(opts, 1);
    checkPath(path);
    let type: number = WatcherType.Any;
    if (opts.flags.has('c')) type = WatcherType.Children;
    else if (opts.flags.has('d')) type = WatcherType.Data;
    const r = await ctx.zk.removeWatches(path, type, opts.flags.has('l'));
    if (!r.ok) throw new CliError(keeperErrorMessage(r.code, path));
  },
};

export const ZOOLAB_VERSION = '0.1.0';

const version: CommandDef = {
  name: 'version',
  usage: '',
  async run(ctx) {
    ctx.out(`ZooKeeper CLI version: ZooLab ${ZOOLAB_VERSION} (zkCli 3.8 compatible)\n`);
  },
};

const reconfig: CommandDef = {
  name: 'reconfig',
  usage:
    '[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]',
  options: {
    flags: { s: 'stats' },
    values: {
      v: 'required current config version',
      file: 'path of config file to parse for membership',
      members: 'comma-separated list of config strings for non-incremental reconfig',
      add: 'comma-separated list of config strings for new servers',
      remove: 'comma-separated list of server IDs to remove',
    },
  },
  async run(ctx, opts) {
    const v = opts.values;
    if (!v.has('file') && !v.has('members') && !v.has('add') && !v.has('remove')) throw usageError(reconfig);
    let version = -1n;
    if (v.has('v')) {
      // the version is read as hex (Long.parseLong(v, 16)), as /zookeeper/config writes it
      const n = parseJavaLong(v.get('v') ?? '', 16);
      if (n === null) throw new CliError('-v must be followed by a long (configuration version)');
      version = n;
    }
    if ((v.has('file') || v.has('members')) && (v.has('add') || v.has('remove'))) {
      throw new CliError("Can't use -file or -members together with -add or -remove (mixing incremental and non-incremental modes is not allowed)");
    }
    if (v.has('file') && v.has('members')) throw new CliError("Can't use -file and -members together (conflicting non-incremental modes)");
    // zkCli lower-cases what it sends (server lines, ids, members)
    const lower = (k: string): string | null => (v.has(k) ? (v.get(k) ?? '').toLowerCase() : null);
    let members = lower('members');
    if (v.has('file')) {
      const file = v.get('file') ?? '';
      try {
        if (ctx.readFile === undefined) throw new Error(' (this shell cannot read local files: use -members)');
        members = membersFromConfigFile(await ctx.readFile(file));
      } catch (e) {
        throw new CliError(`Error processing ${file}${(e as Error).message}`);
      }
    }
    const r = await ctx.zk.reconfig(lower('add'), lower('remove'), members, version);
    // ZooKeeperAdmin raises reconfig failures with an empty path
    if (!r.ok) throw new CliError(cliErrorMessage(r.code, ''));
    ctx.out(`Committed new configuration:\n${formatData(r.value.data)}\n`);
    if (opts.flags.has('s')) printStat(ctx, r.value.stat);
  },
};

/** The session-level commands, listed for help and completion; session.ts carries them out. */
const sessionCommands: CommandDef[] = [
  { name: 'close', usage: '' },
  { name: 'connect', usage: 'host:port' },
  { name: 'history', usage: '' },
  { name: 'printwatches', usage: 'on|off' },
  { name: 'quit', usage: '' },
  { name: 'redo', usage: 'cmdno' },
];

export const commandDefs: readonly CommandDef[] = [
  ls,
  create,
  get,
  set,
  stat,
  del,
  deleteall,
  setAcl,
  getAcl,
  addauth,
  sync,
  config,
  whoami,
  getEphemerals,
  getAllChildrenNumber,
  addWatch,
  removewatches,
  version,
  delquota,
  listquota,
  setquota,
  reconfig,
  ...sessionCommands,
];

/** Commands that run but are not part of zkCli 3.8's list (not shown by help). */
export const hiddenCommandDefs: readonly CommandDef[] = [rmr];

const byName = new Map<string, CommandDef>([...commandDefs, ...hiddenCommandDefs].map((d) => [d.name, d]));

export function findCommand(name: string): CommandDef | undefined {
  return byName.get(name);
}

/** zkCli's usage text (help, unknown commands): every listed command in Java string order. */
export function usageText(): string {
  const names = commandDefs.map((d) => d.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const lines = names.map((n) => `\t${n} ${byName.get(n)?.usage ?? ''}`);
  return `ZooKeeper -server host:port -client-configuration properties-file cmd args\n${lines.join('\n')}\n`;
}

/** Parse a command's options like zkCli (a parse failure is a CliError with commons-cli's wording). */
export function parseCommand(def: CommandDef, words: readonly string[]): ParsedOptions {
  try {
    return parseOptions(words, def.options ?? {});
  } catch (e) {
    if (e instanceof OptionParseError) throw new CliError(e.message);
    throw e;
  }
}
