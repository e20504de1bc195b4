/**
 * The JAAS login configuration file, as the JDK's ConfigFile reads it, for ZooKeeper's SASL
 * (DIGEST-MD5) users:
 *
 *   Server {
 *     org.apache.zookeeper.server.auth.DigestLoginModule required
 *     user_super="adminsecret"
 *     user_bob="bobsecret";
 *   };
 *
 * Sections `Name { Module Flag key=value … ; … };`, `//` and `/* … *\/` comments, values as
 * words or "quoted" strings (backslash escapes), `${property}` expansion from the system
 * properties. ZooKeeper takes the file from `-Djava.security.auth.login.config=<file>` (in
 * SERVER_JVMFLAGS); ZooLab also takes the zoo.cfg key `java.security.auth.login.config`
 * (which reaches us as `zookeeper.java.security.auth.login.config`, the way every unknown
 * zoo.cfg key does). The section is `Server` unless `zookeeper.sasl.serverconfig` names
 * another; every `user_<name>` option of its entries is a DIGEST-MD5 user.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ZooLabError } from '../common/errors';

export interface JaasEntry {
  loginModule: string;
  flag: 'required' | 'requisite' | 'sufficient' | 'optional';
  options: Map<string, string>;
  line: number;
}

/** Section name → its login module entries (a repeated section name appends, as the JDK). */
export type JaasConfig = Map<string, JaasEntry[]>;

type Tok = { kind: 'word' | 'string' | 'punct'; text: string; line: number };

function tokenize(text: string, where: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  const fail = (msg: string): never => {
    throw new ZooLabError('CONFIG_INVALID', `${where}:${line}: ${msg}`);
  };
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) fail('unterminated /* comment');
      for (let k = i; k < end; k++) if (text[k] === '\n') line++;
      i = end + 2;
    } else if (c === '"') {
      const start = line;
      let v = '';
      i++;
      let closed = false;
      while (i < n) {
        const d = text[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\n') fail('a quoted value does not end on its line');
        if (d === '\\' && i + 1 < n) {
          const e = text[i + 1]!;
          v += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
          i += 2;
          continue;
        }
        v += d;
        i++;
      }
      if (!closed) fail('unterminated quoted value');
      toks.push({ kind: 'string', text: v, line: start });
    } else if (c === '{' || c === '}' || c === ';' || c === '=') {
      toks.push({ kind: 'punct', text: c, line });
      i++;
    } else {
      const start = i;
      while (i < n && !/[\s{};="]/.test(text[i]!) && !(text[i] === '/' && (text[i + 1] === '/' || text[i + 1] === '*'))) i++;
      toks.push({ kind: 'word', text: text.slice(start, i), line });
    }
  }
  return toks;
}

const FLAGS = new Set(['required', 'requisite', 'sufficient', 'optional']);

/** Parses JAAS text; `where` names the file in errors. `${name}` in values expands from `props`. */
export function parseJaas(text: string, where = 'JAAS file', props: ReadonlyMap<string, string> = new Map()): JaasConfig {
  const toks = tokenize(text, where);
  const cfg: JaasConfig = new Map();
  let p = 0;
  const fail = (t: Tok | undefined, msg: string): never => {
    throw new ZooLabError('CONFIG_INVALID', `${where}:${t?.line ?? toks.at(-1)?.line ?? 1}: ${msg}`);
  };
  const expand = (t: Tok): string =>
    t.text.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
      const v = props.get(name);
      if (v === undefined) fail(t, `\${${name}} is not a known property`);
      return v!;
    });
  const expect = (text: string): Tok => {
    const t = toks[p];
    if (!t || t.kind !== 'punct' || t.text !== text) fail(t, `expected '${text}'${t ? ` but found '${t.text}'` : ' at end of file'}`);
    p++;
    return t!;
  };
  while (p < toks.length) {
    const nameTok = toks[p]!;
    if (nameTok.kind === 'punct') fail(nameTok, `expected a section name, found '${nameTok.text}'`);
    p++;
    expect('{');
    const entries = cfg.get(nameTok.text) ?? [];
    cfg.set(nameTok.text, entries);
    for (let guard = 0; guard < toks.length; guard++) {
      const t = toks[p];
      if (!t) fail(t, `section ${nameTok.text} is not closed with '};'`);
      if (t!.kind === 'punct' && t!.text === '}') break;
      if (t!.kind !== 'word') fail(t, `expected a login module class name, found '${t!.text}'`);
      p++;
      const flagTok = toks[p];
      if (!flagTok || flagTok.kind !== 'word' || !FLAGS.has(flagTok.text.toLowerCase())) {
        fail(flagTok ?? t, `login module ${t!.text}: expected a flag (required, requisite, sufficient or optional)`);
      }
      p++;
      const options = new Map<string, string>();
      for (let g = 0; g < toks.length; g++) {
        const k = toks[p];
        if (!k) fail(k, `login module ${t!.text}: the entry does not end with ';'`);
        if (k!.kind === 'punct' && k!.text === ';') {
          p++;
          break;
        }
        if (k!.kind !== 'word') fail(k, `expected an option name, found '${k!.text}'`);
        p++;
        expect('=');
        const v = toks[p];
        if (!v || v.kind === 'punct') fail(v ?? k, `option ${k!.text} has no value`);
        p++;
        options.set(k!.text, expand(v!));
      }
      entries.push({ loginModule: t!.text, flag: flagTok!.text.toLowerCase() as JaasEntry['flag'], options, line: t!.line });
    }
    expect('}');
    expect(';');
  }
  return cfg;
}

/** `user_<name>="password"` options of the section's entries (later ones win). */
export function saslUsersOf(cfg: JaasConfig, section: string): Map<string, string> | null {
  const entries = cfg.get(section);
  if (!entries) return null;
  const users = new Map<string, string>();
  for (const e of entries) for (const [k, v] of e.options) if (k.startsWith('user_')) users.set(k.slice('user_'.length), v);
  return users;
}

/** Node's MD5 for the pure DIGEST-MD5 code. */
export function md5(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('md5').update(bytes).digest());
}

export interface SaslServerSettings {
  /** the DIGEST-MD5 users; absent when no JAAS file is configured */
  saslUsers?: Map<string, string>;
  /** zookeeper.superUser: a SASL user that also gets the super id */
  saslSuperUser?: string;
  /** a zookeeper.authProvider.N property names SASLAuthenticationProvider (the `sasl` ACL scheme) */
  saslAuthProvider: boolean;
  /** lines for the server log */
  notes: string[];
}

/**
 * The SASL settings from the system properties (SERVER_JVMFLAGS -D… and zoo.cfg keys):
 * - the JAAS file: `java.security.auth.login.config`, else the zoo.cfg key of the same name;
 * - the section: `zookeeper.sasl.serverconfig` (default `Server`);
 * - `zookeeper.SASLAuthenticationProvider.superPassword` replaces user `super`'s password
 *   (when the section has a user `super`, as ZooKeeper's callback handler);
 * - `zookeeper.superUser`;
 * - `zookeeper.authProvider.N=org.apache.zookeeper.server.auth.SASLAuthenticationProvider`
 *   (zoo.cfg `authProvider.N`): without it, as upstream, `sasl` ACL ids are invalid and whoAmI
 *   shows sasl ids with an empty user.
 * A configured file that cannot be read or parsed, or that lacks the section, stops the server
 * as it stops ZooKeeper: a ZooLabError('CONFIG_INVALID') saying what to fix.
 */
export function saslServerSettings(sys: ReadonlyMap<string, string>, readFile: (path: string) => string = (f) => readFileSync(f, 'utf8')): SaslServerSettings {
  const notes: string[] = [];
  const superUser = sys.get('zookeeper.superUser');
  const file = sys.get('java.security.auth.login.config') ?? sys.get('zookeeper.java.security.auth.login.config');
  const saslAuthProvider = [...sys].some(([k, v]) => k.startsWith('zookeeper.authProvider.') && v.trim() === 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider');
  const out: SaslServerSettings = { notes, saslAuthProvider, ...(superUser !== undefined ? { saslSuperUser: superUser } : {}) };
  if (file === undefined) return out;
  // `==file` (override instead of add) means the same file to us
  const path = resolve(file.replace(/^=/, ''));
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    throw new ZooLabError('CONFIG_INVALID', `JAAS file ${path} (java.security.auth.login.config) cannot be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  const cfg = parseJaas(text, path, sys);
  const section = sys.get('zookeeper.sasl.serverconfig') ?? 'Server';
  const users = saslUsersOf(cfg, section);
  if (users === null) {
    throw new ZooLabError(
      'CONFIG_INVALID',
      `JAAS file ${path} has no '${section}' section (the one zookeeper.sasl.serverconfig names); add e.g. ${section} { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="secret"; };`,
    );
  }
  for (const e of cfg.get(section)!) {
    if (!e.loginModule.endsWith('DigestLoginModule')) notes.push(`JAAS ${section}: login module ${e.loginModule} is not DigestLoginModule; ZooLab offers DIGEST-MD5 only (no Kerberos)`);
  }
  const superPassword = sys.get('zookeeper.SASLAuthenticationProvider.superPassword');
  if (superPassword !== undefined && users.has('super')) users.set('super', superPassword);
  out.saslUsers = users;
  notes.push(`SASL DIGEST-MD5: ${users.size} user(s) from ${path} section ${section}${superUser !== undefined ? `; super user ${superUser}` : ''}`);
  return out;
}
