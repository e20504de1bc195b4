/**
 * zoo.cfg, read as ZooKeeper's QuorumPeerConfig reads it: the keys it knows become typed
 * settings, every other key becomes the system property `zookeeper.<key>` (which is how
 * `4lw.commands.whitelist`, `forceSync`, `extendedTypesEnabled` … work from zoo.cfg), and
 * `-Dkey=value` flags in SERVER_JVMFLAGS are system properties too. A line ZooLab cannot honour
 * is a ZooLabError('CONFIG_INVALID') naming file:line and what to do about it; a key it accepts
 * but does not act on is kept in `notes` so the server can log it.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ZooLabError } from '../common/errors';
import { limits } from '../common/limits';
import { Membership, parseServerSpec, type Member } from '../common/membership';
import { parseJvmFlags } from './jvm-flags';
import { parseProperties, PropertiesSyntaxError } from './properties';

export type PeerType = 'participant' | 'observer';

export interface QuorumServer extends Member {
  /** line in zoo.cfg (or in the dynamic config file when dynamicConfigFile is set) */
  line: number;
}

export interface ZooCfg {
  /** absolute path of the file read */
  path: string;
  tickTimeMs: number;
  initLimitTicks: number | null;
  syncLimitTicks: number | null;
  dataDir: string;
  dataLogDir: string;
  clientPort: number | null;
  clientPortAddress: string | null;
  maxClientCnxns: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  snapCount: number;
  autopurgeSnapRetainCount: number;
  autopurgePurgeIntervalHours: number;
  /** `zookeeper.forceSync` != "no" */
  forceSync: boolean;
  /** `zookeeper.4lw.commands.whitelist`; default only srvr, as ZooKeeper */
  fourLetterWords: ReadonlySet<string> | '*';
  reconfigEnabled: boolean;
  standaloneEnabled: boolean;
  extendedTypesEnabled: boolean;
  /** jute.maxbuffer (system property, or the zoo.cfg key) */
  packetBytesMax: number;
  admin: { enableServer: boolean; serverAddress: string; serverPort: number; commandUrl: string };
  peerType: PeerType;
  servers: ReadonlyMap<number, QuorumServer>;
  /** `dynamicConfigFile` (absolute), when the server.N lines live in it (ZooKeeper 3.5+) */
  dynamicConfigFile: string | null;
  /** the servers with the config version: from the dynamic file's name (zoo.cfg.dynamic.<hex>), else 0 */
  membership: Membership;
  /** ZooKeeper's isDistributed(): more than one voter, or standaloneEnabled=false */
  distributed: boolean;
  /** JVM-style system properties: SERVER_JVMFLAGS -D…, then zoo.cfg's unknown keys as zookeeper.<key> */
  systemProperties: ReadonlyMap<string, string>;
  /** settings accepted but not acted on, for the server log */
  notes: string[];
}

interface ParseContext {
  file: string;
}

function fail(ctx: ParseContext, line: number | null, message: string): never {
  throw new ZooLabError('CONFIG_INVALID', `${ctx.file}${line === null ? '' : `:${line}`}: ${message}`);
}

function parseJavaInt(ctx: ParseContext, line: number, key: string, value: string, min = -2147483648): number {
  if (!/^[+-]?\d+$/.test(value)) fail(ctx, line, `${key}=${value}: not a whole number; write e.g. ${key}=${exampleFor(key)}`);
  const n = Number(value);
  if (n < min || n > 2147483647) fail(ctx, line, `${key}=${value}: out of range (${min}..2147483647)`);
  return n;
}

function exampleFor(key: string): string {
  const examples: Record<string, string> = { tickTime: '2000', initLimit: '10', syncLimit: '5', clientPort: '2181' };
  return examples[key] ?? '10';
}

function parsePort(ctx: ParseContext, line: number, what: string, value: string): number {
  if (!/^\d+$/.test(value)) fail(ctx, line, `${what} '${value}' is not a port number`);
  const n = Number(value);
  if (n < 1 || n > 65535) fail(ctx, line, `${what} ${n} is out of range: a port is 1..65535`);
  return n;
}

function parseBooleanStrict(ctx: ParseContext, line: number, key: string, value: string): boolean {
  // QuorumPeerConfig: "Invalid option … Choose 'true' or 'false.'"
  if (value.toLowerCase() === 'true') return true;
  if (value.toLowerCase() === 'false') return false;
  return fail(ctx, line, `${key}=${value}: choose 'true' or 'false'`);
}

function parseServerLine(ctx: ParseContext, line: number, id: number, value: string): QuorumServer {
  const m = parseServerSpec(id, value);
  if (typeof m === 'string') fail(ctx, line, m);
  return { ...m, line };
}

export interface ParseOptions {
  /** path used in messages and to resolve nothing else (dataDir is resolved against cwd, as ZooKeeper does) */
  path: string;
  /** SERVER_JVMFLAGS value */
  jvmFlags?: string;
  cwd?: string;
  /** reads the dynamic config file (default: readFileSync utf8) */
  readFile?: (path: string) => string;
}

/** The key=value lines of a properties file; a syntax error becomes CONFIG_INVALID at file:line. */
function propertiesOf(ctx: ParseContext, text: string): ReturnType<typeof parseProperties> {
  try {
    return parseProperties(text);
  } catch (e) {
    if (e instanceof PropertiesSyntaxError) fail(ctx, e.line, e.message);
    throw e;
  }
}

/** Parse zoo.cfg text. Throws ZooLabError('CONFIG_INVALID') naming file:line. */
export function parseZooCfg(text: string, options: ParseOptions): ZooCfg {
  const ctx: ParseContext = { file: options.path };
  const cwd = options.cwd ?? process.cwd();
  const entries = propertiesOf(ctx, text);
  const jvm = parseJvmFlags(options.jvmFlags);
  const sys = new Map<string, string>(jvm.properties);
  const notes: string[] = [];
  if (jvm.ignored.length > 0) notes.push(`SERVER_JVMFLAGS: ignored (not -Dkey=value): ${jvm.ignored.join(' ')}`);

  let tickTimeMs = 3000;
  let tickLine: number | null = null;
  let initLimitTicks: number | null = null;
  let syncLimitTicks: number | null = null;
  let dataDir: string | null = null;
  let dataLogDir: string | null = null;
  let clientPort: number | null = null;
  let clientPortAddress: string | null = null;
  let maxClientCnxns: number = limits.maxClientCnxnsDefault;
  let minSessionTimeoutMs = -1;
  let maxSessionTimeoutMs = -1;
  let sessionLine = 0;
  let snapCount = 100_000;
  let autopurgeSnapRetainCount = 3;
  let autopurgePurgeIntervalHours = 0;
  let reconfigEnabled = false;
  let standaloneEnabled = true;
  let peerType: PeerType = 'participant';
  let juteFromCfg: number | null = null;
  let dynamicConfigFile: string | null = null;
  let dynamicLine = 0;
  const servers = new Map<number, QuorumServer>();

  for (const { key: rawKey, value: rawValue, line } of entries) {
    // QuorumPeerConfig trims both
    const key = rawKey.trim();
    const value = rawValue.trim();
    if (key === '') fail(ctx, line, `a line without a key ('${value}'); write key=value`);
    switch (key) {
      case 'dataDir':
        dataDir = resolvePath(cwd, value);
        break;
      case 'dataLogDir':
        dataLogDir = resolvePath(cwd, value);
        break;
      case 'clientPort':
        clientPort = parsePort(ctx, line, 'clientPort', value);
        break;
      case 'clientPortAddress':
        clientPortAddress = value;
        break;
      case 'tickTime':
        tickTimeMs = parseJavaInt(ctx, line, key, value, 1);
        tickLine = line;
        break;
      case 'maxClientCnxns':
        maxClientCnxns = parseJavaInt(ctx, line, key, value, 0);
        break;
      case 'minSessionTimeout':
        minSessionTimeoutMs = parseJavaInt(ctx, line, key, value);
        sessionLine = line;
        break;
      case 'maxSessionTimeout':
        maxSessionTimeoutMs = parseJavaInt(ctx, line, key, value);
        sessionLine = line;
        break;
      case 'initLimit':
        initLimitTicks = parseJavaInt(ctx, line, key, value, 1);
        break;
      case 'syncLimit':
        syncLimitTicks = parseJavaInt(ctx, line, key, value, 1);
        break;
      case 'snapCount':
        // a system property in ZooKeeper (zookeeper.snapCount); accepted here too
        snapCount = parseJavaInt(ctx, line, key, value, 2);
        sys.set('zookeeper.snapCount', value);
        break;
      case 'electionAlg':
        if (value !== '3') fail(ctx, line, `electionAlg=${value}: only 3 (fast leader election) exists; remove the line`);
        break;
      case 'peerType':
        if (value.toLowerCase() === 'observer') peerType = 'observer';
        else if (value.toLowerCase() === 'participant') peerType = 'participant';
        else fail(ctx, line, `peerType=${value}: use observer or participant`);
        break;
      case 'autopurge.snapRetainCount':
        autopurgeSnapRetainCount = Math.max(3, parseJavaInt(ctx, line, key, value));
        if (Number(value) < 3) notes.push(`${key}=${value} raised to 3, the minimum (as ZooKeeper)`);
        break;
      case 'autopurge.purgeInterval':
        autopurgePurgeIntervalHours = parseJavaInt(ctx, line, key, value);
        break;
      case 'standaloneEnabled':
        standaloneEnabled = parseBooleanStrict(ctx, line, key, value);
        break;
      case 'reconfigEnabled':
        reconfigEnabled = parseBooleanStrict(ctx, line, key, value);
        break;
      case 'secureClientPort':
      case 'secureClientPortAddress':
        fail(ctx, line, `${key}: TLS client connections are not supported by ZooLab; remove the line and use clientPort`);
        break;
      case 'sslQuorum':
      case 'portUnification':
        if (value.toLowerCase() === 'true') fail(ctx, line, `${key}=true: TLS is not supported by ZooLab; remove the line`);
        break;
      case 'dynamicConfigFile':
        dynamicConfigFile = resolvePath(cwd, value);
        dynamicLine = line;
        break;
      case 'jute.maxbuffer':
        // ZooKeeper reads this only as a JVM property; ZooLab honours it from zoo.cfg as well.
        juteFromCfg = parseJavaInt(ctx, line, key, value, 1);
        sys.set(`zookeeper.${key}`, value);
        break;
      case 'syncEnabled':
      case 'quorumListenOnAllIPs':
      case 'localSessionsEnabled':
      case 'localSessionsUpgradingEnabled':
      case 'clientPortListenBacklog':
      case 'maxCnxns':
        notes.push(`${key}=${value} accepted, not acted on by ZooLab yet`);
        break;
      default:
        if (/^server\./.test(key)) {
          const idText = key.slice('server.'.length);
          if (!/^\d+$/.test(idText)) fail(ctx, line, `${key}: the server id after 'server.' must be a number, e.g. server.1=…`);
          const id = Number(idText);
          if (id < 0 || id > 0x7fffffff) fail(ctx, line, `${key}: server id out of range`);
          if (servers.has(id)) fail(ctx, line, `${key} appears twice (first at line ${servers.get(id)?.line}); keep one`);
          servers.set(id, parseServerLine(ctx, line, id, value));
        } else if (/^(group|weight)\./.test(key)) {
          fail(ctx, line, `${key}: hierarchical quorums (group.N / weight.N) are not supported by ZooLab; remove the group and weight lines (every server then has one vote)`);
        } else if (key.startsWith('multiAddress.') || key.startsWith('metricsProvider.') || key.startsWith('ssl.')) {
          notes.push(`${key}=${value} accepted, not acted on by ZooLab`);
        } else {
          // QuorumPeerConfig: System.setProperty("zookeeper." + key, value)
          sys.set(`zookeeper.${key}`, value);
        }
    }
  }

  let configVersion = 0n;
  if (dynamicConfigFile !== null) {
    const first = servers.values().next();
    if (!first.done) {
      fail(ctx, first.value.line, `server.${first.value.id} is given here and dynamicConfigFile (line ${dynamicLine}) is set too; keep the server.N lines in ${dynamicConfigFile} only`);
    }
    configVersion = readDynamicFile(dynamicConfigFile, dynamicLine, ctx, options.readFile, servers);
  }

  if (dataDir === null) fail(ctx, null, 'dataDir is not set; add e.g. dataDir=/var/lib/zookeeper');
  if (tickTimeMs === 0) fail(ctx, tickLine, 'tickTime is not set');
  if (minSessionTimeoutMs === -1) minSessionTimeoutMs = tickTimeMs * 2;
  if (maxSessionTimeoutMs === -1) maxSessionTimeoutMs = tickTimeMs * 20;
  if (minSessionTimeoutMs > maxSessionTimeoutMs) {
    fail(ctx, sessionLine, `minSessionTimeout (${minSessionTimeoutMs}) must not be larger than maxSessionTimeout (${maxSessionTimeoutMs})`);
  }

  let voters = 0;
  let observers = 0;
  for (const s of servers.values()) {
    if (s.type === 'observer') observers += 1;
    else voters += 1;
  }
  if (servers.size > 0 && voters === 0) fail(ctx, null, 'every server.N line is an observer; at least one must be a participant');
  if (voters === 1 && observers > 0 && standaloneEnabled) {
    fail(ctx, null, 'observers need a quorum: with one participant set standaloneEnabled=false or add participants');
  }
  const distributed = servers.size > 0 && (!standaloneEnabled || voters > 1);
  if (distributed) {
    if (initLimitTicks === null) fail(ctx, null, 'initLimit is not set; add e.g. initLimit=10 (ticks a follower may take to sync)');
    if (syncLimitTicks === null) fail(ctx, null, 'syncLimit is not set; add e.g. syncLimit=5 (ticks a follower may lag)');
  }
  if (clientPort === null) {
    const withClient = [...servers.values()].some((s) => s.clientPort !== null);
    if (!withClient) fail(ctx, null, 'clientPort is not set; add e.g. clientPort=2181 (or ;2181 at the end of this server\'s server.N line)');
  }

  const whitelist = sys.get('zookeeper.4lw.commands.whitelist');
  let fourLetterWords: ReadonlySet<string> | '*';
  if (whitelist === undefined) fourLetterWords = new Set(['srvr']);
  else {
    const words = whitelist.split(',').map((w) => w.trim()).filter((w) => w !== '');
    fourLetterWords = words.includes('*') ? '*' : new Set(words);
  }
  const jute = sys.get('jute.maxbuffer');
  let packetBytesMax: number = limits.packetBytesMax;
  if (jute !== undefined) {
    if (!/^\d+$/.test(jute) || Number(jute) < 1) fail(ctx, null, `SERVER_JVMFLAGS -Djute.maxbuffer=${jute} is not a positive number`);
    packetBytesMax = Number(jute);
  } else if (juteFromCfg !== null) packetBytesMax = juteFromCfg;

  const admin = {
    enableServer: (sys.get('zookeeper.admin.enableServer') ?? 'true').toLowerCase() === 'true',
    serverAddress: sys.get('zookeeper.admin.serverAddress') ?? '0.0.0.0',
    serverPort: Number(sys.get('zookeeper.admin.serverPort') ?? '8080'),
    commandUrl: sys.get('zookeeper.admin.commandURL') ?? '/commands',
  };
  if (admin.enableServer) notes.push('the AdminServer (admin.enableServer) is not provided by ZooLab; use the four-letter words');

  return {
    path: options.path,
    tickTimeMs,
    initLimitTicks,
    syncLimitTicks,
    dataDir,
    dataLogDir: dataLogDir ?? dataDir,
    clientPort,
    clientPortAddress,
    maxClientCnxns,
    minSessionTimeoutMs,
    maxSessionTimeoutMs,
    snapCount,
    autopurgeSnapRetainCount,
    autopurgePurgeIntervalHours,
    forceSync: sys.get('zookeeper.forceSync') !== 'no',
    fourLetterWords,
    reconfigEnabled,
    standaloneEnabled,
    // Boolean.getBoolean semantics
    extendedTypesEnabled: (sys.get('zookeeper.extendedTypesEnabled') ?? '').toLowerCase() === 'true',
    packetBytesMax,
    admin,
    peerType,
    servers,
    dynamicConfigFile,
    membership: new Membership(servers.values(), configVersion),
    distributed,
    systemProperties: sys,
    notes,
  };
}

/**
 * The server.N lines of a dynamic config file, into `servers`; returns the version its name
 * carries (zoo.cfg.dynamic.<hex>, as QuorumPeerConfig.getVersionFromFilename; 0 without one).
 * As ZooKeeper, the file itself must not hold a version line.
 */
function readDynamicFile(path: string, cfgLine: number, cfgCtx: ParseContext, readFile: ((p: string) => string) | undefined, servers: Map<number, QuorumServer>): bigint {
  let text: string;
  try {
    text = (readFile ?? ((p: string) => readFileSync(p, 'utf8')))(path);
  } catch (e) {
    fail(cfgCtx, cfgLine, `dynamicConfigFile=${path} cannot be read (${(e as Error).message})`);
  }
  const ctx: ParseContext = { file: path };
  const entries = propertiesOf(ctx, text);
  for (const { key: rawKey, value: rawValue, line } of entries) {
    const key = rawKey.trim();
    const value = rawValue.trim();
    if (key === 'version') fail(ctx, line, 'a dynamic config file must not hold a version line (its version is in the file name)');
    if (!/^server\./.test(key)) {
      if (/^(group|weight)\./.test(key)) fail(ctx, line, `${key}: hierarchical quorums are not supported by ZooLab`);
      fail(ctx, line, `${key}: a dynamic config file holds only server.N lines`);
    }
    const idText = key.slice('server.'.length);
    if (!/^\d+$/.test(idText)) fail(ctx, line, `${key}: the server id after 'server.' must be a number, e.g. server.1=…`);
    const id = Number(idText);
    if (servers.has(id)) fail(ctx, line, `${key} appears twice (first at line ${servers.get(id)?.line}); keep one`);
    servers.set(id, parseServerLine(ctx, line, id, value));
  }
  const dot = path.lastIndexOf('.');
  const suffix = dot === -1 ? '' : path.slice(dot + 1);
  return /^[0-9a-fA-F]{1,16}$/.test(suffix) ? BigInt(`0x${suffix}`) : 0n;
}

function resolvePath(cwd: string, p: string): string {
  return isAbsolute(p) ? p : resolve(cwd, p);
}

/** Read and parse zoo.cfg from disk; a missing file is CONFIG_NOT_FOUND. */
export function loadZooCfg(path: string, env: NodeJS.ProcessEnv = process.env): ZooCfg {
  const abs = resolve(path);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new ZooLabError('CONFIG_NOT_FOUND', `${abs}: cannot read the config file (${(e as Error).message})`, { cause: e });
  }
  return parseZooCfg(text, { path: abs, jvmFlags: env.SERVER_JVMFLAGS });
}

/**
 * The txn-log preallocation block from `zookeeper.preAllocSize` (KiB, as ZooKeeper reads it; a
 * zoo.cfg `preAllocSize` line arrives here as that property). Unset: ZooLab's default block.
 */
export function preallocBytesFrom(sys: ReadonlyMap<string, string>, defaultBytes: number): number {
  const raw = sys.get('zookeeper.preAllocSize');
  if (raw === undefined) return defaultBytes;
  const kib = Number(raw.trim());
  if (!Number.isInteger(kib) || kib < 0 || kib > 1024 * 1024) {
    throw new ZooLabError('CONFIG_INVALID', `zookeeper.preAllocSize=${raw} is not a size in KiB from 0 to 1048576: fix it in zoo.cfg (preAllocSize) or SERVER_JVMFLAGS`);
  }
  return kib * 1024;
}
