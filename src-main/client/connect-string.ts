/**
 * "host:port,host:port[/chroot]" as the Java client accepts it, and the chroot mapping
 * between the paths callers use and the paths on the server.
 */
export interface HostPort {
  host: string;
  port: number;
}

export interface ConnectString {
  hosts: HostPort[];
  /** "" when there is no chroot; otherwise "/a/b" (no trailing slash) */
  chroot: string;
}

const DEFAULT_PORT = 2181;

export function parseConnectString(text: string): ConnectString {
  const slash = text.indexOf('/');
  const hostPart = slash === -1 ? text : text.slice(0, slash);
  let chroot = slash === -1 ? '' : text.slice(slash);
  if (chroot === '/') chroot = '';
  if (chroot.endsWith('/')) throw new Error(`connect string ${text}: the chroot must not end with "/"`);
  if (chroot.includes('//')) throw new Error(`connect string ${text}: the chroot has an empty segment`);
  const hosts: HostPort[] = [];
  for (const raw of hostPart.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    let host: string;
    let portText: string | undefined;
    if (item.startsWith('[')) {
      // [ipv6]:port
      const close = item.indexOf(']');
      if (close === -1) throw new Error(`connect string ${text}: unterminated [ in ${item}`);
      host = item.slice(1, close);
      const rest = item.slice(close + 1);
      portText = rest.startsWith(':') ? rest.slice(1) : undefined;
    } else {
      const colon = item.lastIndexOf(':');
      host = colon === -1 ? item : item.slice(0, colon);
      portText = colon === -1 ? undefined : item.slice(colon + 1);
    }
    const port = portText === undefined ? DEFAULT_PORT : Number(portText);
    if (host === '' || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new Error(`connect string ${text}: bad host:port "${item}"`);
    }
    hosts.push({ host, port });
  }
  if (hosts.length === 0) throw new Error(`connect string "${text}" names no server`);
  return { hosts, chroot };
}

/** The server-side path for a caller's path under `chroot`. */
export function toServerPath(chroot: string, path: string): string {
  if (chroot === '') return path;
  return path === '/' ? chroot : chroot + path;
}

/** The caller's path for a server-side path under `chroot` (unchanged when outside it). */
export function fromServerPath(chroot: string, path: string): string {
  if (chroot === '') return path;
  if (path === chroot) return '/';
  if (path.startsWith(`${chroot}/`)) return path.slice(chroot.length);
  return path;
}
