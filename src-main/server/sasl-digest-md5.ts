/**
 * SASL DIGEST-MD5 (RFC 2831), the server side, as ZooKeeper's server runs it for clients whose
 * JAAS `Client` section uses DigestLoginModule (opcode 102, GetSASLRequest / SetSASLResponse):
 *
 *   client: empty token            → server: challenge  realm="zk-sasl-md5",nonce=…,charset=utf-8,algorithm=md5-sess
 *   client: digest-response        → server: rspauth=<hex>   (authentication complete)
 *
 * The users and passwords come from the `user_<name>="password"` options of the JAAS `Server`
 * section. Only qop "auth" is offered (no integrity or privacy layer), as ZooKeeper's server
 * never wraps the connection. The authorization id ZooKeeper records is the authenticated user
 * name (its callback handler authorizes everyone and sets the authorized id to the user), so a
 * requested authzid does not change the `sasl` id.
 *
 * Pure: MD5 and randomness are passed in.
 */

export type Md5 = (bytes: Uint8Array) => Uint8Array;

/** ZooKeeper's server creates its SaslServer with protocol "zookeeper", server name "zk-sasl-md5". */
export const ZK_SASL_PROTOCOL = 'zookeeper';
export const ZK_SASL_SERVER_NAME = 'zk-sasl-md5';

export interface DigestMd5ServerOptions {
  /** user name → password (the JAAS Server section's user_<name> options) */
  users: ReadonlyMap<string, string>;
  md5: Md5;
  random: (n: number) => Uint8Array;
  /** default "zookeeper" */
  protocol?: string;
  /** default "zk-sasl-md5"; also the one realm offered */
  serverName?: string;
}

export type SaslStep =
  /** more exchange needed: send `token` back in a SetSASLResponse */
  | { kind: 'challenge'; token: Uint8Array }
  /** authenticated: send `token` (rspauth) back; add Id('sasl', authorizationId) */
  | { kind: 'success'; token: Uint8Array; authorizationId: string }
  /** AUTHFAILED: ZooKeeper answers err -115 and closes the connection */
  | { kind: 'failure'; reason: string };

const enc = new TextEncoder();

function hexOf(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * RFC 2831 §2.1.2.1: with charset=utf-8, a string whose characters all fit ISO 8859-1 is
 * hashed as 8859-1, otherwise as UTF-8 (each string on its own, as the JDK does). Without
 * charset, 8859-1; null when a character does not fit.
 */
export function saslStringBytes(s: string, utf8: boolean): Uint8Array | null {
  let fits = true;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) fits = false;
  if (!fits) return utf8 ? enc.encode(s) : null;
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export class DigestParseError extends Error {}

/**
 * Parses a DIGEST-MD5 directive list (`name=value` or `name="quoted"`, comma separated, empty
 * elements and linear white space allowed). Names are lower-cased; a repeated name is an error.
 */
export function parseDirectives(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const n = text.length;
  const isWs = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
  while (i < n) {
    while (i < n && (isWs(text[i]) || text[i] === ',')) i++;
    if (i >= n) break;
    const nameStart = i;
    while (i < n && text[i] !== '=' && text[i] !== ',' && !isWs(text[i])) i++;
    const name = text.slice(nameStart, i).toLowerCase();
    while (i < n && isWs(text[i])) i++;
    if (name === '' || text[i] !== '=') throw new DigestParseError(`directive ${JSON.stringify(name)} has no value`);
    i++;
    while (i < n && isWs(text[i])) i++;
    let value = '';
    if (text[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = text[i]!;
        if (c === '\\' && i + 1 < n) {
          value += text[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) throw new DigestParseError(`unterminated quoted value for ${name}`);
    } else {
      const start = i;
      while (i < n && text[i] !== ',' && !isWs(text[i])) i++;
      value = text.slice(start, i);
    }
    while (i < n && isWs(text[i])) i++;
    if (i < n && text[i] !== ',') throw new DigestParseError(`unexpected text after ${name}`);
    if (out.has(name)) throw new DigestParseError(`directive ${name} appears twice`);
    out.set(name, value);
  }
  return out;
}

/** Quotes a value for a directive list (backslash before `"` and `\`). */
export function quoteDirective(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

export interface DigestResponseInput {
  md5: Md5;
  username: string;
  realm: string;
  password: string;
  nonce: string;
  cnonce: string;
  nc: string;
  qop: string;
  digestUri: string;
  authzid?: string | undefined;
  utf8: boolean;
}

/**
 * The `response` value (kind 'client') or the `rspauth` value (kind 'server') of RFC 2831
 * §2.1.2.1 for qop=auth, algorithm=md5-sess. null when a string cannot be encoded.
 */
export function digestMd5Response(p: DigestResponseInput, kind: 'client' | 'server'): string | null {
  const user = saslStringBytes(p.username, p.utf8);
  const realm = saslStringBytes(p.realm, p.utf8);
  const pass = saslStringBytes(p.password, p.utf8);
  if (!user || !realm || !pass) return null;
  const colon = enc.encode(':');
  const inner = p.md5(concat(user, colon, realm, colon, pass));
  const a1Parts = [inner, enc.encode(`:${p.nonce}:${p.cnonce}`)];
  if (p.authzid !== undefined) a1Parts.push(colon, enc.encode(p.authzid));
  const ha1 = hexOf(p.md5(concat(...a1Parts)));
  const a2 = `${kind === 'client' ? 'AUTHENTICATE' : ''}:${p.digestUri}`;
  const ha2 = hexOf(p.md5(enc.encode(a2)));
  return hexOf(p.md5(enc.encode(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`)));
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function base64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]!;
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63]! : '=';
    out += i + 2 < bytes.length ? B64[n & 63]! : '=';
  }
  return out;
}

/** One connection's DIGEST-MD5 exchange (ZooKeeper keeps one SaslServer per connection). */
export class DigestMd5Server {
  private state: 'start' | 'challenged' | 'done' | 'failed' = 'start';
  private nonce = '';
  private readonly protocol: string;
  private readonly serverName: string;

  constructor(private readonly opts: DigestMd5ServerOptions) {
    this.protocol = opts.protocol ?? ZK_SASL_PROTOCOL;
    this.serverName = opts.serverName ?? ZK_SASL_SERVER_NAME;
  }

  get complete(): boolean {
    return this.state === 'done';
  }

  /** The client's token (null = empty) → the next step. */
  evaluate(token: Uint8Array | null): SaslStep {
    const t = token ?? new Uint8Array(0);
    switch (this.state) {
      case 'start':
        if (t.length !== 0) return this.fail('DIGEST-MD5 takes no initial response from the client');
        // as the JDK's server that ZooKeeper uses: 30 random bytes (40 base64 characters), and no
        // qop directive (absent means "auth", the only one offered)
        this.nonce = base64(this.opts.random(30));
        this.state = 'challenged';
        return {
          kind: 'challenge',
          token: enc.encode(`realm=${quoteDirective(this.serverName)},nonce=${quoteDirective(this.nonce)},charset=utf-8,algorithm=md5-sess`),
        };
      case 'challenged':
        return this.verify(t);
      case 'done':
        return this.fail('DIGEST-MD5 authentication is already complete');
      case 'failed':
        return this.fail('DIGEST-MD5 authentication already failed');
    }
  }

  private fail(reason: string): SaslStep {
    this.state = 'failed';
    return { kind: 'failure', reason };
  }

  private verify(token: Uint8Array): SaslStep {
    let d: Map<string, string>;
    try {
      d = parseDirectives(new TextDecoder('utf-8', { fatal: true }).decode(token));
    } catch (e) {
      return this.fail(`malformed digest-response: ${e instanceof Error ? e.message : String(e)}`);
    }
    const charset = d.get('charset');
    if (charset !== undefined && charset.toLowerCase() !== 'utf-8') return this.fail(`unsupported charset ${charset}`);
    const utf8 = charset !== undefined;
    const username = d.get('username');
    if (username === undefined) return this.fail('digest-response has no username');
    const realm = d.get('realm') ?? '';
    if (d.has('realm') && realm !== this.serverName) return this.fail(`unknown realm ${JSON.stringify(realm)}`);
    if (d.get('nonce') !== this.nonce) return this.fail('nonce does not match the challenge');
    const cnonce = d.get('cnonce');
    if (cnonce === undefined || cnonce === '') return this.fail('digest-response has no cnonce');
    const nc = d.get('nc');
    if (nc === undefined || !/^[0-9a-fA-F]{8}$/.test(nc) || parseInt(nc, 16) !== 1) return this.fail(`nonce-count ${nc ?? '(none)'} is not 00000001`);
    const qop = d.get('qop') ?? 'auth';
    if (qop !== 'auth') return this.fail(`qop ${qop} was not offered (only auth)`);
    const digestUri = d.get('digest-uri');
    const expectedUri = `${this.protocol}/${this.serverName}`;
    if (digestUri === undefined) return this.fail('digest-response has no digest-uri');
    if (digestUri.toLowerCase() !== expectedUri.toLowerCase()) return this.fail(`digest-uri ${digestUri} is not ${expectedUri}`);
    const response = d.get('response');
    if (response === undefined || !/^[0-9a-fA-F]{32}$/.test(response)) return this.fail('digest-response has no valid response value');
    const password = this.opts.users.get(username);
    if (password === undefined) return this.fail(`user ${JSON.stringify(username)} is not in the JAAS Server section`);
    const authzid = d.get('authzid');
    const input: DigestResponseInput = { md5: this.opts.md5, username, realm, password, nonce: this.nonce, cnonce, nc, qop, digestUri, authzid, utf8 };
    const expected = digestMd5Response(input, 'client');
    if (expected === null || expected !== response.toLowerCase()) return this.fail(`wrong password for user ${JSON.stringify(username)}`);
    const rspauth = digestMd5Response(input, 'server')!;
    this.state = 'done';
    return { kind: 'success', token: enc.encode(`rspauth=${rspauth}`), authorizationId: username };
  }
}
