/**
 * The host side's check of a call's arguments before it runs (`checkCallArgs`): counts, types and
 * bounds for every call in the contract, each refusal a sentence naming the call. Pure.
 */
import type { AppCallName } from './contract';

const serverFiles = ['zoo.cfg', 'zoo.cfg.dynamic', 'myid', 'log'] as const;

/** znode data in one call, base64 characters (1 MiB of bytes, like jute.maxbuffer) */
export const dataBase64CharsMax = Math.ceil((1024 * 1024) / 3) * 4;
const createModes = ['persistent', 'ephemeral', 'persistent-sequential', 'ephemeral-sequential', 'container', 'persistent-ttl', 'persistent-sequential-ttl'];
/** bytes per terminalInput call (a paste), columns of a terminal */
export const terminalInputCharsMax = 64 * 1024;
export const terminalColumnsMax = 1000;
export const serverCountMax = 9;

function isServerId(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 255;
}

function isRole(v: unknown): v is 'participant' | 'observer' {
  return v === 'participant' || v === 'observer';
}

function isTerminalId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function isColumns(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= terminalColumnsMax;
}

/** ZooKeeper's path rules, as a sentence when broken */
export function pathProblem(p: unknown): string | null {
  if (typeof p !== 'string' || !p.startsWith('/')) return 'a znode path starts with /';
  if (p.length > 4096) return 'that path is longer than 4096 characters';
  if (p.length > 1 && p.endsWith('/')) return `path ${p} must not end with /`;
  if (p.includes('//')) return `path ${p} has an empty segment (//)`;
  if (p.split('/').some((s) => s === '.' || s === '..')) return `path ${p} may not contain . or .. segments`;
  if (/[\u0000-\u001f\u007f]/.test(p)) return `path ${JSON.stringify(p)} has a control character`;
  return null;
}

function dataProblem(d: unknown): string | null {
  if (d === null) return null;
  if (typeof d !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(d)) return 'data must be base64 or null';
  return d.length <= dataBase64CharsMax ? null : 'data is larger than 1 MiB (jute.maxbuffer)';
}

function isVersion(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= -1 && v <= 2_147_483_647;
}

function optionalPositiveInt(o: Record<string, unknown>, key: string): string | null {
  const v = o[key];
  if (v === undefined) return null;
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 600_000 ? null : `${key} must be a positive integer`;
}

/**
 * Checks a call's arguments against its signature. Returns null when they fit, else a sentence
 * saying what is wrong. Hosts run this before touching the backend: a page cannot smuggle
 * other shapes through.
 */
export function checkCallArgs(method: AppCallName, args: unknown): string | null {
  if (!Array.isArray(args)) return `${method}: arguments must be an array`;
  switch (method) {
    case 'getEnsemble':
    case 'stopEnsemble':
      return args.length === 0 ? null : `${method} takes no arguments`;
    case 'startEnsemble': {
      const o: unknown = args[0];
      if (args.length !== 1 || typeof o !== 'object' || o === null || Array.isArray(o)) return 'startEnsemble takes one options object';
      const rec = o as Record<string, unknown>;
      const n = rec['servers'];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > serverCountMax) {
        return `startEnsemble: servers must be an integer from 1 to ${serverCountMax}`;
      }
      for (const key of Object.keys(rec)) {
        if (!['servers', 'observers', 'tickTimeMs', 'initLimit', 'syncLimit', 'reconfig'].includes(key)) return `startEnsemble: unknown option '${key}'`;
      }
      if (rec['reconfig'] !== undefined && typeof rec['reconfig'] !== 'boolean') return 'startEnsemble: reconfig must be true or false';
      const obs = rec['observers'];
      if (obs !== undefined && (typeof obs !== 'number' || !Number.isInteger(obs) || obs < 0 || obs + n > serverCountMax)) {
        return `startEnsemble: observers must be an integer from 0, with servers + observers at most ${serverCountMax}`;
      }
      return optionalPositiveInt(rec, 'tickTimeMs') ?? optionalPositiveInt(rec, 'initLimit') ?? optionalPositiveInt(rec, 'syncLimit');
    }
    case 'killServer':
    case 'stopServer':
    case 'startServer':
    case 'restartServer':
    case 'pauseServer':
    case 'resumeServer':
      return args.length === 1 && isServerId(args[0]) ? null : `${method} takes one server id (an integer from 1 to 255)`;
    case 'isolateServer':
    case 'removeServer':
      return args.length === 1 && isServerId(args[0]) ? null : `${method} takes one server id (an integer from 1 to 255)`;
    case 'addServer': {
      const o = args[0] as Record<string, unknown> | null;
      if (args.length !== 1 || typeof o !== 'object' || o === null || Object.keys(o).some((k) => k !== 'role')) return 'addServer takes { role }';
      return isRole(o['role']) ? null : "addServer: role is 'participant' or 'observer'";
    }
    case 'setServerRole':
      return args.length === 2 && isServerId(args[0]) && isRole(args[1]) ? null : "setServerRole takes a server id and 'participant' or 'observer'";
    case 'serverHealth':
      return args.length === 2 && isServerId(args[0]) && Number.isInteger(args[1]) && (args[1] as number) >= 1 && (args[1] as number) <= 600
        ? null
        : 'serverHealth takes a server id and how many samples (1 to 600)';
    case 'partitionEnsemble': {
      const sides: unknown = args[0];
      if (args.length !== 1 || !Array.isArray(sides) || sides.length < 1 || sides.length > serverCountMax) return 'partitionEnsemble takes a list of sides, each a list of server ids';
      return sides.every((side) => Array.isArray(side) && side.length > 0 && side.every(isServerId)) ? null : 'partitionEnsemble: each side is a non-empty list of server ids';
    }
    case 'faultLink': {
      if (args.length !== 3 || !isServerId(args[0]) || !isServerId(args[1])) return 'faultLink takes two server ids and a fault';
      const f = args[2] as Record<string, unknown> | null;
      if (typeof f !== 'object' || f === null) return 'faultLink: the fault is { drop: true } or { delayMs }';
      if (Object.keys(f).length === 1 && f['drop'] === true) return null;
      const d = f['delayMs'];
      return Object.keys(f).length === 1 && typeof d === 'number' && Number.isInteger(d) && d >= 0 && d <= 600_000 ? null : 'faultLink: delayMs must be an integer from 0 to 600000';
    }
    case 'treeUseServer':
      return args.length === 1 && (args[0] === null || isServerId(args[0])) ? null : 'treeUseServer takes a server id or null (the whole ensemble)';
    case 'treeGetAcl':
    case 'treeExport':
      return args.length === 1 ? pathProblem(args[0]) : `${method} takes a path`;
    case 'treeSetAcl': {
      if (args.length !== 3) return 'treeSetAcl takes a path, a list of ACL entries and an aversion';
      const acl: unknown = args[1];
      if (!Array.isArray(acl) || acl.length === 0 || acl.length > 100) return 'treeSetAcl: the ACL is a list of 1 to 100 entries';
      for (const e of acl as Record<string, unknown>[]) {
        if (typeof e !== 'object' || e === null || typeof e['scheme'] !== 'string' || typeof e['id'] !== 'string' || !Number.isInteger(e['perms']) || (e['perms'] as number) < 0 || (e['perms'] as number) > 31) {
          return 'treeSetAcl: each entry is { scheme, id, perms (0..31) }';
        }
      }
      return pathProblem(args[0]) ?? (isVersion(args[2]) ? null : 'treeSetAcl: aversion must be an integer, -1 for any');
    }
    case 'treeDigestId':
      return args.length === 2 && typeof args[0] === 'string' && args[0] !== '' && !args[0].includes(':') && typeof args[1] === 'string' && args[1].length <= 1024
        ? null
        : 'treeDigestId takes a user (non-empty, no ":") and a password';
    case 'treeImport': {
      if (args.length !== 2) return 'treeImport takes a path and a subtree';
      const root = args[1] as Record<string, unknown> | null;
      if (typeof root !== 'object' || root === null || typeof root['children'] !== 'object') return 'treeImport: the subtree is { data, children } as treeExport writes it';
      return pathProblem(args[0]);
    }
    case 'treeCopy':
      if (args.length !== 2) return 'treeCopy takes a source and a target path';
      if (typeof args[0] === 'string' && typeof args[1] === 'string' && (args[1] === args[0] || args[1].startsWith(`${args[0]}/`))) return 'treeCopy: the target cannot be inside the source';
      return pathProblem(args[0]) ?? pathProblem(args[1]);
    case 'treeSearch':
      if (args.length !== 3 || typeof args[1] !== 'string' || args[1].trim() === '' || args[1].length > 1000 || typeof args[2] !== 'boolean') return 'treeSearch takes a path, some text and whether to look in the data';
      return pathProblem(args[0]);
    case 'connectExisting': {
      const o = args[0] as Record<string, unknown> | null;
      if (args.length !== 1 || typeof o !== 'object' || o === null) return 'connectExisting takes { connectString, digest }';
      const cs = o['connectString'];
      if (typeof cs !== 'string' || cs.trim() === '' || cs.length > 4096) return 'connectExisting: connectString must be a non-empty string such as 127.0.0.1:2181,127.0.0.1:2182/chroot';
      const d = o['digest'] as Record<string, unknown> | null;
      if (d === null) return null;
      if (typeof d !== 'object' || typeof d['user'] !== 'string' || typeof d['password'] !== 'string') return 'connectExisting: digest must be null or { user, password }';
      if (d['user'] === '' || (d['user'] as string).includes(':') || (d['user'] as string).length > 256 || (d['password'] as string).length > 1024) return 'connectExisting: the digest user must be non-empty and without ":"';
      return null;
    }
    case 'disconnectExisting':
      return args.length === 0 ? null : `${method} takes no arguments`;
    case 'openSavedEnsemble':
      return args.length === 1 && typeof args[0] === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(args[0]) ? null : 'openSavedEnsemble takes the name of a saved ensemble';
    case 'listSavedEnsembles':
    case 'healEnsemble':
      return args.length === 0 ? null : `${method} takes no arguments`;
    case 'setStepMode':
      return args.length === 1 && typeof args[0] === 'boolean' ? null : 'setStepMode takes true or false';
    case 'releaseHeld':
      return args.length === 1 && Number.isInteger(args[0]) && (args[0] as number) >= 1 && (args[0] as number) <= 100_000 ? null : 'releaseHeld takes a count from 1 to 100000';
    case 'releaseEvery':
      return args.length === 1 && (args[0] === null || (Number.isInteger(args[0]) && (args[0] as number) >= 1 && (args[0] as number) <= 600_000))
        ? null
        : 'releaseEvery takes an interval in ms (1 to 600000) or null';
    case 'readServerFile':
      if (args.length !== 2 || !isServerId(args[0])) return 'readServerFile takes a server id and a file name';
      return (serverFiles as readonly unknown[]).includes(args[1]) ? null : `readServerFile: file must be one of ${serverFiles.join(', ')}`;
    case 'openTerminal': {
      const o: unknown = args[0];
      if (args.length !== 1 || typeof o !== 'object' || o === null) return 'openTerminal takes one options object';
      const r = o as Record<string, unknown>;
      if (r['server'] !== null && !isServerId(r['server'])) return 'openTerminal: server must be a server id or null (the whole ensemble)';
      return isColumns(r['columns']) ? null : `openTerminal: columns must be an integer from 1 to ${terminalColumnsMax}`;
    }
    case 'terminalInput':
      if (args.length !== 2 || !isTerminalId(args[0]) || typeof args[1] !== 'string') return 'terminalInput takes a terminal id and a string';
      return args[1].length <= terminalInputCharsMax ? null : `terminalInput: at most ${terminalInputCharsMax} characters at once`;
    case 'resizeTerminal':
      return args.length === 2 && isTerminalId(args[0]) && isColumns(args[1]) ? null : 'resizeTerminal takes a terminal id and a column count';
    case 'closeTerminal':
      return args.length === 1 && isTerminalId(args[0]) ? null : 'closeTerminal takes a terminal id';
    case 'treeChildren':
    case 'treeGet':
      return args.length === 1 ? pathProblem(args[0]) : `${method} takes a path`;
    case 'treeSet':
      if (args.length !== 3) return 'treeSet takes a path, base64 data (or null) and a version';
      return pathProblem(args[0]) ?? dataProblem(args[1]) ?? (isVersion(args[2]) ? null : 'treeSet: version must be an integer, -1 for any');
    case 'treeCreate':
      if (args.length !== 3 && args.length !== 4) return 'treeCreate takes a path, base64 data (or null), a mode and (TTL modes) a ttl in ms';
      if (String(args[2]).endsWith('-ttl') !== (args.length === 4)) return 'treeCreate: a ttl in ms comes with the TTL modes, and only with them';
      if (args.length === 4 && !(Number.isSafeInteger(args[3]) && (args[3] as number) >= 1 && (args[3] as number) <= 0xffffffffff)) return 'treeCreate: ttl must be a positive integer of ms';
      return pathProblem(args[0]) ?? dataProblem(args[1]) ?? (createModes.includes(args[2] as string) ? null : `treeCreate: mode must be one of ${createModes.join(', ')}`);
    case 'treeDelete':
      if (args.length !== 3) return 'treeDelete takes a path, a version and whether to delete the subtree';
      return pathProblem(args[0]) ?? (isVersion(args[1]) ? (typeof args[2] === 'boolean' ? null : 'treeDelete: recursive must be true or false') : 'treeDelete: version must be an integer, -1 for any');
  }
}
