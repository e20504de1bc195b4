/**
 * zkCli's output formats: Stat blocks, ACL listings, watched events, error wording.
 * Pure functions; the wording was learned by running Apache ZooKeeper 3.8's zkCli.
 */
import type { ACL, Stat } from '../jute/types';
import { KeeperState, WatcherEventType } from '../jute/types';
import { ErrorCode } from '../common/error-codes';

/** `0x1a` — Java's Long.toHexString of the 64-bit value (two's complement for negatives). */
export function javaHex(value: bigint): string {
  return `0x${BigInt.asUintN(64, value).toString(16)}`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * Java's `new Date(ms).toString()`: `Wed Nov 25 08:08:11 UTC 2026`, in the given IANA time zone
 * (the process's zone by default). Java prints the zone's short name; Node's Intl gives the
 * same for UTC and most zones with a well-known abbreviation, `GMT+1` style for the rest.
 */
export function javaDateString(ms: number, timeZone?: string): string {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    weekday: 'short',
    timeZoneName: 'short',
  });
  const parts: Record<string, string> = {};
  for (const p of fmt.formatToParts(new Date(ms))) parts[p.type] = p.value;
  const month = MONTHS[Number(parts.month) - 1];
  const weekday = DAYS.find((d) => parts.weekday?.startsWith(d)) ?? parts.weekday;
  const hour = Number(parts.hour) % 24;
  return `${weekday} ${month} ${pad2(Number(parts.day))} ${pad2(hour)}:${pad2(Number(parts.minute))}:${pad2(Number(parts.second))} ${parts.timeZoneName} ${parts.year}`;
}

/** zkCli's StatPrinter: eleven `name = value` lines. */
export function formatStat(stat: Stat, timeZone?: string): string {
  return [
    `cZxid = ${javaHex(stat.czxid)}`,
    `ctime = ${javaDateString(Number(stat.ctime), timeZone)}`,
    `mZxid = ${javaHex(stat.mzxid)}`,
    `mtime = ${javaDateString(Number(stat.mtime), timeZone)}`,
    `pZxid = ${javaHex(stat.pzxid)}`,
    `cversion = ${stat.cversion}`,
    `dataVersion = ${stat.version}`,
    `aclVersion = ${stat.aversion}`,
    `ephemeralOwner = ${javaHex(stat.ephemeralOwner)}`,
    `dataLength = ${stat.dataLength}`,
    `numChildren = ${stat.numChildren}`,
  ].join('\n') + '\n';
}

/** Permission letters in zkCli's order: c d r w a. */
export function permsString(perms: number): string {
  let s = '';
  if (perms & 4) s += 'c';
  if (perms & 8) s += 'd';
  if (perms & 1) s += 'r';
  if (perms & 2) s += 'w';
  if (perms & 16) s += 'a';
  return s;
}

/** getAcl's listing: `'world,'anyone` then `: cdrwa`, per entry. */
export function formatAcl(acl: readonly ACL[]): string {
  return acl.map((a) => `'${a.id.scheme},'${a.id.id}\n: ${permsString(a.perms)}\n`).join('');
}

/** Java's `List.toString()`: `[a, b]`. */
export function javaList(items: readonly string[]): string {
  return `[${items.join(', ')}]`;
}

const stateNames = new Map<number, string>(Object.entries(KeeperState).map(([k, v]) => [v, k]));
const typeNames = new Map<number, string>(Object.entries(WatcherEventType).map(([k, v]) => [v, k]));

export function keeperStateName(state: number): string {
  return stateNames.get(state) ?? `Unknown(${state})`;
}
export function eventTypeName(type: number): string {
  return typeNames.get(type) ?? `Unknown(${type})`;
}

export interface ShellWatchedEvent {
  type: number;
  state: number;
  /** null for connection-state events, as zkCli prints them */
  path: string | null;
}

/** `WatchedEvent state:SyncConnected type:NodeDataChanged path:/a` (3.8: no zxid). */
export function formatWatchedEvent(e: ShellWatchedEvent): string {
  return `WatchedEvent state:${keeperStateName(e.state)} type:${eventTypeName(e.type)} path:${e.path ?? 'null'}`;
}

/** What zkCli prints when a watcher fires and printwatches is on. */
export function formatWatcherNotification(e: ShellWatchedEvent): string {
  return `\nWATCHER::\n\n${formatWatchedEvent(e)}\n`;
}

const codeMessages: Record<number, string> = {
  [ErrorCode.OK]: 'ok',
  [ErrorCode.SYSTEMERROR]: 'SystemError',
  [ErrorCode.RUNTIMEINCONSISTENCY]: 'RuntimeInconsistency',
  [ErrorCode.DATAINCONSISTENCY]: 'DataInconsistency',
  [ErrorCode.CONNECTIONLOSS]: 'ConnectionLoss',
  [ErrorCode.MARSHALLINGERROR]: 'MarshallingError',
  [ErrorCode.NEWCONFIGNOQUORUM]: 'NewConfigNoQuorum',
  [ErrorCode.RECONFIGINPROGRESS]: 'ReconfigInProgress',
  [ErrorCode.UNIMPLEMENTED]: 'Unimplemented',
  [ErrorCode.OPERATIONTIMEOUT]: 'OperationTimeout',
  [ErrorCode.BADARGUMENTS]: 'BadArguments',
  [ErrorCode.APIERROR]: 'APIError',
  [ErrorCode.NONODE]: 'NoNode',
  [ErrorCode.NOAUTH]: 'NoAuth',
  [ErrorCode.BADVERSION]: 'BadVersion',
  [ErrorCode.NOCHILDRENFOREPHEMERALS]: 'NoChildrenForEphemerals',
  [ErrorCode.NODEEXISTS]: 'NodeExists',
  [ErrorCode.INVALIDACL]: 'InvalidACL',
  [ErrorCode.AUTHFAILED]: 'AuthFailed',
  [ErrorCode.NOTEMPTY]: 'Directory not empty',
  [ErrorCode.SESSIONEXPIRED]: 'Session expired',
  [ErrorCode.INVALIDCALLBACK]: 'Invalid callback',
  [ErrorCode.SESSIONMOVED]: 'Session moved',
  [ErrorCode.NOTREADONLY]: 'Not a read-only call',
  [ErrorCode.EPHEMERALONLOCALSESSION]: 'Ephemeral node on local session',
  [ErrorCode.NOWATCHER]: 'No such watcher',
  [ErrorCode.RECONFIGDISABLED]: 'Reconfig is disabled',
  [ErrorCode.SESSIONCLOSEDREQUIRESASLAUTH]: 'Session closed because client failed to authenticate',
  [ErrorCode.QUOTAEXCEEDED]: 'Quota has exceeded',
  [ErrorCode.THROTTLEDOP]: 'Op throttled due to high load',
};

/** KeeperException.getMessage(): `KeeperErrorCode = NoNode for /a`. */
export function keeperErrorMessage(code: number, path?: string | null): string {
  const m = codeMessages[code] ?? `Unknown error ${code}`;
  // as KeeperException.getMessage: no " for …" when the path is null or empty (reconfig's)
  return path === undefined || path === null || path === '' ? `KeeperErrorCode = ${m}` : `KeeperErrorCode = ${m} for ${path}`;
}

/**
 * How zkCli words a failed operation (its CliWrapperException): friendly text for the common
 * codes, the KeeperException message for the rest. `path` null prints as `null`, as zkCli does
 * for errors raised before a request is sent.
 */
export function cliErrorMessage(code: number, path: string | null): string {
  const p = path ?? 'null';
  switch (code) {
    case ErrorCode.NONODE:
      return `Node does not exist: ${p}`;
    case ErrorCode.NOCHILDRENFOREPHEMERALS:
      return `Ephemerals cannot have children: ${p}`;
    case ErrorCode.NODEEXISTS:
      return `Node already exists: ${p}`;
    case ErrorCode.NOTEMPTY:
      return `Node not empty: ${p}`;
    case ErrorCode.NOTREADONLY:
      return `Not a read-only call: ${p}`;
    case ErrorCode.INVALIDACL:
      return `Acl is not valid : ${p}`;
    case ErrorCode.NOAUTH:
      return `Insufficient permission : ${p}`;
    case ErrorCode.BADARGUMENTS:
      return `Arguments are not valid : ${p}`;
    case ErrorCode.BADVERSION:
      return `version No is not valid : ${p}`;
    case ErrorCode.RECONFIGINPROGRESS:
      return 'Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)';
    case ErrorCode.NEWCONFIGNOQUORUM:
      return 'No quorum of new config is connected and up-to-date with the leader of last committed config - try invoking reconfiguration after new servers are connected and synced';
    case ErrorCode.QUOTAEXCEEDED:
      return `Quota has exceeded : ${p}`;
    default:
      return keeperErrorMessage(code, path);
  }
}

/** Data as zkCli prints it: UTF-8 text, `null` for a null buffer. */
export function formatData(data: Uint8Array | null): string {
  return data === null ? 'null' : new TextDecoder().decode(data);
}
