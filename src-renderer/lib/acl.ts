/**
 * ACL helpers for the tree: perms as zkCli writes them ("cdrwa"), one bit per letter, and an
 * ACL in words. Pure; unit-tested.
 */
import type { AclEntryView } from '../../src-main/api/contract';

/** zkCli's letter order and ZooKeeper's Perms bits */
export const permLetters: readonly { letter: string; bit: number; word: string }[] = [
  { letter: 'c', bit: 4, word: 'create children' },
  { letter: 'd', bit: 8, word: 'delete children' },
  { letter: 'r', bit: 1, word: 'read data and children' },
  { letter: 'w', bit: 2, word: 'write data' },
  { letter: 'a', bit: 16, word: 'change the ACL' },
];

export function permsText(perms: number): string {
  return permLetters.map((p) => (perms & p.bit ? p.letter : '')).join('');
}

export function parsePerms(text: string): number | null {
  let bits = 0;
  for (const ch of text.trim().toLowerCase()) {
    const p = permLetters.find((x) => x.letter === ch);
    if (!p) return null;
    bits |= p.bit;
  }
  return bits;
}

export function togglePerm(perms: number, bit: number): number {
  return perms & bit ? perms & ~bit : perms | bit;
}

/** zkCli's getAcl lines: "'world,'anyone\n: cdrwa" → here one line per entry */
export function aclLine(e: AclEntryView): string {
  return `'${e.scheme},'${e.id}: ${permsText(e.perms)}`;
}

/** What is wrong with an entry before it goes to the server, or null. */
export function aclEntryProblem(e: AclEntryView): string | null {
  if (!['world', 'digest', 'ip', 'auth', 'sasl', 'x509'].includes(e.scheme)) return `unknown scheme '${e.scheme}': world, digest, ip, auth, sasl or x509`;
  if (e.scheme === 'world' && e.id !== 'anyone') return "the world scheme's only id is 'anyone'";
  if (e.scheme === 'digest' && !/^[^:]+:[A-Za-z0-9+/]{27}=$/.test(e.id)) return 'a digest id is user:base64(sha1(user:password)): use the digest helper to make it';
  if (e.perms === 0) return 'an entry with no permission grants nothing: tick at least one of c d r w a';
  return null;
}
