/**
 * Who this server is and where it listens for clients, from a parsed zoo.cfg: dataDir/myid as
 * ZooKeeper reads it, and the client endpoint from clientPort or the server's own server.N line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZooLabError } from '../common/errors';
import type { ZooCfg } from './config';

export interface ServerIdentity {
  /** null for a standalone server without a myid file */
  myid: number | null;
  myidPath: string;
}

/** Read dataDir/myid as ZooKeeper does (first line, a number). Standalone may lack it. */
export function readMyid(cfg: ZooCfg): ServerIdentity {
  const myidPath = join(cfg.dataDir, 'myid');
  let text: string;
  try {
    text = readFileSync(myidPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !cfg.distributed) return { myid: null, myidPath };
    const what = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `cannot be read (${(e as Error).message})`;
    throw new ZooLabError('MYID_INVALID', `${myidPath} ${what}: write this server's id (its N in server.N) into it`, { cause: e });
  }
  const first = (text.split(/\r?\n/)[0] ?? '').trim();
  if (!/^\d+$/.test(first)) {
    throw new ZooLabError('MYID_INVALID', `${myidPath}: '${first}' is not a number; the file must hold this server's id (its N in server.N)`);
  }
  const myid = Number(first);
  if (cfg.distributed && !cfg.servers.has(myid)) {
    const ids = [...cfg.servers.keys()].join(', ');
    throw new ZooLabError('MYID_INVALID', `${myidPath}: id ${myid} is not in the server.N lines of ${cfg.path} (ids: ${ids})`);
  }
  return { myid, myidPath };
}

export interface ClientEndpoint {
  host: string;
  port: number;
}

/**
 * Where this server listens for clients: clientPort/clientPortAddress, or its own server.N
 * line's client part. ZooKeeper binds 0.0.0.0 by default; ZooLab binds 127.0.0.1 unless an
 * address is given, so a lab ensemble is not reachable from the network by accident.
 */
export function clientEndpoint(cfg: ZooCfg, myid: number | null): ClientEndpoint {
  const own = myid === null ? undefined : cfg.servers.get(myid);
  if (cfg.clientPort !== null && own?.clientPort != null && own.clientPort !== cfg.clientPort) {
    throw new ZooLabError(
      'CONFIG_INVALID',
      `${cfg.path}:${own.line}: clientPort=${cfg.clientPort} differs from the client port ${own.clientPort} in server.${own.id}; give one of them`,
    );
  }
  const port = cfg.clientPort ?? own?.clientPort ?? null;
  if (port === null) {
    throw new ZooLabError('CONFIG_INVALID', `${cfg.path}: no client port for server ${myid ?? '(standalone)'}; add clientPort=… or ;port to its server.${myid} line`);
  }
  let host = cfg.clientPortAddress ?? (own?.clientHost && own.clientHost !== '0.0.0.0' ? own.clientHost : null) ?? '127.0.0.1';
  if (host === '') host = '127.0.0.1';
  return { host, port };
}
