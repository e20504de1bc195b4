/**
 * ACL checks as ZooKeeper does them (ZooKeeperServer.checkACL, PrepRequestProcessor.fixupACL,
 * the digest and ip authentication providers). Pure functions; SHA-1 is passed in.
 */
import type { ACL, Id } from '../jute/types';
import { Perms } from '../jute/types';

export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }]);
export const READ_ACL_UNSAFE: readonly ACL[] = Object.freeze([{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }]);
export const CREATOR_ALL_ACL: readonly ACL[] = Object.freeze([{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }]);

export const SUPER_ID: Id = Object.freeze({ scheme: 'super', id: '' });

export type Sha1 = (bytes: Uint8Array) => Uint8Array;

/** Schemes that an AuthPacket may name, as upstream's default provider registry. */
export const AUTH_SCHEMES: ReadonlySet<string> = new Set(['digest', 'ip']);

/** ZooKeeper.checkACL: true when `ids` grant `perm` (any bit of it) on a node with `acl`. */
export function checkAcl(acl: readonly ACL[], perm: number, ids: readonly Id[]): boolean {
  if (acl.length === 0) return true;
  if (ids.some((i) => i.scheme === 'super')) return true;
  for (const a of acl) {
    if ((a.perms & perm) === 0) continue;
    if (a.id.scheme === 'world' && a.id.id === 'anyone') return true;
    for (const authId of ids) {
      if (authId.scheme !== a.id.scheme) continue;
      if (a.id.scheme === 'digest' && authId.id === a.id.id) return true;
      if (a.id.scheme === 'ip' && ipMatches(authId.id, a.id.id)) return true;
      // SASLAuthenticationProvider.matches: the same name, or the SASL user named "super"
      if (a.id.scheme === 'sasl' && (authId.id === a.id.id || authId.id === 'super')) return true;
    }
  }
  return false;
}

function javaSplit(text: string, sep: string): string[] {
  const parts = text.split(sep);
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * The provider's isValid(id) for an ACL entry's scheme; unknown schemes are invalid. `sasl` is a
 * scheme only when SASLAuthenticationProvider is registered (zookeeper.authProvider.N), as upstream.
 */
export function isValidAclId(id: Id, saslProvider = false): boolean {
  switch (id.scheme) {
    case 'digest':
      return javaSplit(id.id, ':').length === 2;
    case 'ip': {
      const slash = id.id.indexOf('/');
      const addr = parseIp(slash < 0 ? id.id : id.id.slice(0, slash));
      if (addr === null) return false;
      if (slash < 0) return true;
      const bitsText = id.id.slice(slash + 1);
      if (!/^[+-]?\d+$/.test(bitsText)) return false;
      const bits = Number(bitsText);
      return bits >= 0 && bits <= addr.length * 8;
    }
    case 'sasl':
      if (!saslProvider) return false;
      // a valid Kerberos name (KerberosName): any name without '@', or service[/host]@REALM
      return !id.id.includes('@') || /^[^/@]*(\/[^/@]*)?@[^/@]*$/.test(id.id);
    default:
      return false;
  }
}

function aclEquals(a: ACL, b: ACL): boolean {
  return a.perms === b.perms && a.id.scheme === b.id.scheme && a.id.id === b.id.id;
}

/**
 * fixupACL: removes duplicates, expands `auth` to the caller's authenticated ids (digest and
 * sasl: ip ids are not "authenticated"), validates the rest. null means INVALIDACL.
 */
export function fixupAcl(acl: readonly ACL[] | null, ids: readonly Id[], saslProvider = false): ACL[] | null {
  if (acl === null) return null;
  const unique: ACL[] = [];
  for (const a of acl) if (!unique.some((u) => aclEquals(u, a))) unique.push(a);
  if (unique.length === 0) return null;
  const out: ACL[] = [];
  for (const a of unique) {
    if (a.id.scheme === 'world' && a.id.id === 'anyone') {
      out.push(a);
    } else if (a.id.scheme === 'auth') {
      let any = false;
      for (const cid of ids) {
        // providers whose ids are "authenticated": digest and sasl (not ip)
        if (cid.scheme === 'digest' || (cid.scheme === 'sasl' && saslProvider)) {
          any = true;
          out.push({ perms: a.perms, id: { scheme: cid.scheme, id: cid.id } });
        }
      }
      if (!any) return null;
    } else {
      if (!isValidAclId(a.id, saslProvider)) return null;
      out.push(a);
    }
  }
  return out;
}

/** getACL without ADMIN: digest hashes are hidden, `user:hash` becomes `user:x`. */
export function redactDigests(acl: readonly ACL[]): ACL[] {
  return acl.map((a) =>
    a.id.scheme === 'digest' ? { perms: a.perms, id: { scheme: 'digest', id: a.id.id.replace(/:.*/s, ':x') } } : a,
  );
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function base64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i] ?? 0;
    const b1 = bytes[i + 1] ?? 0;
    const b2 = bytes[i + 2] ?? 0;
    const n = (b0 << 16) | (b1 << 8) | b2;
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]!;
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63]! : '=';
    out += i + 2 < bytes.length ? B64[n & 63]! : '=';
  }
  return out;
}

/** DigestAuthenticationProvider.generateDigest: `user:BASE64(SHA1("user:password"))`. */
export function digestId(userPassword: string, sha1: Sha1): string {
  const user = userPassword.split(':', 1)[0] ?? '';
  return `${user}:${base64(sha1(new TextEncoder().encode(userPassword)))}`;
}

/** The ids an AuthPacket adds, or null for AUTHFAILED (unknown scheme). */
export function authenticate(
  scheme: string,
  auth: Uint8Array | null,
  ctx: { remoteAddress: string; sha1: Sha1; superDigest?: string | undefined },
): Id[] | null {
  if (scheme === 'digest') {
    const text = new TextDecoder().decode(auth ?? new Uint8Array(0));
    const id = digestId(text, ctx.sha1);
    const ids: Id[] = [{ scheme: 'digest', id }];
    if (ctx.superDigest !== undefined && id === ctx.superDigest) ids.push({ ...SUPER_ID });
    return ids;
  }
  if (scheme === 'ip') return [{ scheme: 'ip', id: ctx.remoteAddress }];
  return null;
}

/** Strips the IPv4-mapped IPv6 prefix Node puts on IPv4 peers (::ffff:127.0.0.1). */
export function normalizeAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

/** Parses an IPv4 or IPv6 text address to bytes; null when malformed. */
export function parseIp(text: string): Uint8Array | null {
  const v4 = parseIpv4(text);
  if (v4) return v4;
  return parseIpv6(text);
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | null {
  let t = text;
  const pct = t.indexOf('%');
  if (pct >= 0) t = t.slice(0, pct);
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  if (!t.includes(':')) return null;
  const halves = t.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** IPAuthenticationProvider.matches: client address against `addr` or `addr/bits`. */
export function ipMatches(clientAddress: string, aclExpr: string): boolean {
  const slash = aclExpr.indexOf('/');
  const aclAddr = parseIp(slash < 0 ? aclExpr : aclExpr.slice(0, slash));
  const client = parseIp(normalizeAddress(clientAddress));
  if (!aclAddr || !client || aclAddr.length !== client.length) return false;
  let bits = aclAddr.length * 8;
  if (slash >= 0) {
    bits = Number(aclExpr.slice(slash + 1));
    if (!Number.isInteger(bits) || bits < 0 || bits > aclAddr.length * 8) return false;
  }
  for (let i = 0; i < aclAddr.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((aclAddr[i]! & mask) !== (client[i]! & mask)) return false;
  }
  return true;
}
