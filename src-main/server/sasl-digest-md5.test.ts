import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Perms } from '../jute/types';
import { checkAcl, fixupAcl, isValidAclId } from '../tree/acl';
import { DigestMd5Server, digestMd5Response, parseDirectives, quoteDirective } from './sasl-digest-md5';

const md5 = (b: Uint8Array) => new Uint8Array(createHash('md5').update(b).digest());
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);
let counter = 0;
const random = (n: number) => new Uint8Array(n).map(() => (counter++ * 37) & 0xff);

/** An independent client computation (node:crypto, RFC 2831 §2.1.2.1), not the module's. */
function clientResponse(o: { user: string; realm: string; password: string; nonce: string; cnonce: string; uri: string; authzid?: string }, a2Prefix = 'AUTHENTICATE'): string {
  const h = (x: Buffer | string) => createHash('md5').update(x).digest();
  const hx = (x: Buffer | string) => createHash('md5').update(x).digest('hex');
  const a1 = Buffer.concat([h(`${o.user}:${o.realm}:${o.password}`), Buffer.from(`:${o.nonce}:${o.cnonce}${o.authzid !== undefined ? `:${o.authzid}` : ''}`)]);
  return hx(`${hx(a1)}:${o.nonce}:00000001:${o.cnonce}:auth:${hx(`${a2Prefix}:${o.uri}`)}`);
}

const users = new Map([
  ['bob', 'bobsecret'],
  ['super', 'adminsecret'],
]);

function exchange(server: DigestMd5Server, user: string, password: string, extra: Record<string, string> = {}) {
  const challenge = server.evaluate(new Uint8Array(0));
  expect(challenge.kind).toBe('challenge');
  const c = parseDirectives(text((challenge as { token: Uint8Array }).token));
  const nonce = c.get('nonce')!;
  const cnonce = 'Q2xpZW50Tm9uY2U=';
  const uri = extra['digest-uri'] ?? 'zookeeper/zk-sasl-md5';
  const response = clientResponse({ user, realm: 'zk-sasl-md5', password, nonce, cnonce, uri });
  const fields: Record<string, string> = {
    charset: 'utf-8',
    username: quoteDirective(user),
    realm: quoteDirective('zk-sasl-md5'),
    nonce: quoteDirective(nonce),
    nc: '00000001',
    cnonce: quoteDirective(cnonce),
    'digest-uri': quoteDirective(uri),
    maxbuf: '65536',
    response,
    qop: 'auth',
    ...extra,
  };
  const msg = Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(',');
  return { step: server.evaluate(bytes(msg)), nonce, cnonce, uri };
}

describe('DIGEST-MD5 server (RFC 2831)', () => {
  it('RFC 2831 §4 example: response and rspauth values', () => {
    const p = {
      md5, username: 'chris', realm: 'elwood.innosoft.com', password: 'secret', nonce: 'OA6MG9tEQGm2hh', cnonce: 'OA6MHXh6VqTrRk',
      nc: '00000001', qop: 'auth', digestUri: 'imap/elwood.innosoft.com', utf8: false,
    };
    expect(digestMd5Response(p, 'client')).toBe('d388dad90d4bbd760a152321f2143af7');
    expect(digestMd5Response(p, 'server')).toBe('ea40f60335c427b5527b84dbabcdfffd');
  });

  it('challenge as Apache ZooKeeper 3.8 sends it: realm zk-sasl-md5, a 40-character nonce, utf-8, md5-sess, no qop', () => {
    const s = new DigestMd5Server({ users, md5, random });
    const step = s.evaluate(null);
    expect(step.kind).toBe('challenge');
    const d = parseDirectives(text((step as { token: Uint8Array }).token));
    expect(d.get('realm')).toBe('zk-sasl-md5');
    expect(d.has('qop')).toBe(false);
    expect([...d.keys()]).toEqual(['realm', 'nonce', 'charset', 'algorithm']);
    expect(d.get('charset')).toBe('utf-8');
    expect(d.get('algorithm')).toBe('md5-sess');
    expect(d.get('nonce')).toMatch(/^[A-Za-z0-9+/]{40}$/);
    expect(s.complete).toBe(false);
  });

  it('right password → success with the user as authorization id and a correct rspauth', () => {
    const s = new DigestMd5Server({ users, md5, random });
    const { step, nonce, cnonce, uri } = exchange(s, 'bob', 'bobsecret');
    expect(step.kind).toBe('success');
    if (step.kind !== 'success') return;
    expect(step.authorizationId).toBe('bob');
    const rspauth = clientResponse({ user: 'bob', realm: 'zk-sasl-md5', password: 'bobsecret', nonce, cnonce, uri }, '');
    expect(text(step.token)).toBe(`rspauth=${rspauth}`);
    expect(s.complete).toBe(true);
    // a further token after completion is a failure
    expect(s.evaluate(new Uint8Array(0)).kind).toBe('failure');
  });

  it('wrong password, unknown user, wrong digest-uri, wrong nonce → failure', () => {
    expect(exchange(new DigestMd5Server({ users, md5, random }), 'bob', 'nope').step).toMatchObject({ kind: 'failure', reason: expect.stringMatching(/wrong password/) });
    expect(exchange(new DigestMd5Server({ users, md5, random }), 'eve', 'x').step).toMatchObject({ kind: 'failure', reason: expect.stringMatching(/not in the JAAS/) });
    expect(exchange(new DigestMd5Server({ users, md5, random }), 'bob', 'bobsecret', { 'digest-uri': '"ldap/zk-sasl-md5"' }).step.kind).toBe('failure');
    expect(exchange(new DigestMd5Server({ users, md5, random }), 'bob', 'bobsecret', { nonce: '"other"' }).step.kind).toBe('failure');
    expect(exchange(new DigestMd5Server({ users, md5, random }), 'bob', 'bobsecret', { qop: 'auth-conf' }).step.kind).toBe('failure');
    expect(exchange(new DigestMd5Server({ users, md5, random }), 'bob', 'bobsecret', { nc: '00000002' }).step.kind).toBe('failure');
  });

  it('an initial response (non-empty first token) or garbage → failure', () => {
    expect(new DigestMd5Server({ users, md5, random }).evaluate(bytes('username="bob"')).kind).toBe('failure');
    const s = new DigestMd5Server({ users, md5, random });
    s.evaluate(null);
    expect(s.evaluate(bytes('username="bob,')).kind).toBe('failure');
    expect(s.evaluate(bytes('anything')).kind).toBe('failure'); // failed stays failed
  });

  it('an authzid is accepted but the sasl id stays the authenticated user (as ZooKeeper)', () => {
    const s = new DigestMd5Server({ users, md5, random });
    const c = parseDirectives(text((s.evaluate(null) as { token: Uint8Array }).token));
    const nonce = c.get('nonce')!;
    const response = clientResponse({ user: 'bob', realm: 'zk-sasl-md5', password: 'bobsecret', nonce, cnonce: 'cn', uri: 'zookeeper/zk-sasl-md5', authzid: 'super' });
    const msg = `username="bob",realm="zk-sasl-md5",nonce="${nonce}",nc=00000001,cnonce="cn",digest-uri="zookeeper/zk-sasl-md5",response=${response},qop=auth,authzid="super",charset=utf-8`;
    expect(s.evaluate(bytes(msg))).toMatchObject({ kind: 'success', authorizationId: 'bob' });
  });

  it('non-Latin-1 user names are hashed as UTF-8 with charset=utf-8', () => {
    const s = new DigestMd5Server({ users: new Map([['用户', 'pässword']]), md5, random });
    const c = parseDirectives(text((s.evaluate(null) as { token: Uint8Array }).token));
    const nonce = c.get('nonce')!;
    // 用户 does not fit 8859-1 → UTF-8; pässword fits → 8859-1 bytes
    const inner = createHash('md5').update(Buffer.concat([Buffer.from('用户:zk-sasl-md5:', 'utf8'), Buffer.from('pässword', 'latin1')])).digest();
    const hx = (x: Buffer | string) => createHash('md5').update(x).digest('hex');
    const ha1 = hx(Buffer.concat([inner, Buffer.from(`:${nonce}:cn`)]));
    const response = hx(`${ha1}:${nonce}:00000001:cn:auth:${hx('AUTHENTICATE:zookeeper/zk-sasl-md5')}`);
    const msg = `charset=utf-8,username="用户",realm="zk-sasl-md5",nonce="${nonce}",nc=00000001,cnonce="cn",digest-uri="zookeeper/zk-sasl-md5",response=${response},qop=auth`;
    expect(s.evaluate(bytes(msg))).toMatchObject({ kind: 'success', authorizationId: '用户' });
  });

  it('parseDirectives: quoted values with escapes, empty elements, spaces, case-insensitive names', () => {
    const d = parseDirectives(' Username="a\\"b" ,, realm = "r",nc=00000001 ,');
    expect(d.get('username')).toBe('a"b');
    expect(d.get('realm')).toBe('r');
    expect(d.get('nc')).toBe('00000001');
    expect(() => parseDirectives('a=1,a=2')).toThrow(/twice/);
    expect(() => parseDirectives('novalue')).toThrow();
  });
});

describe('the sasl ACL scheme (tree/acl.ts, as SASLAuthenticationProvider)', () => {
  const sasl = (id: string) => ({ perms: Perms.ALL, id: { scheme: 'sasl', id } });
  const acl = [{ perms: Perms.READ | Perms.WRITE, id: { scheme: 'sasl', id: 'bob' } }];
  it('matches the same user name, or the SASL user "super"; not other users or other schemes', () => {
    expect(checkAcl(acl, Perms.READ, [{ scheme: 'sasl', id: 'bob' }])).toBe(true);
    expect(checkAcl(acl, Perms.READ, [{ scheme: 'sasl', id: 'super' }])).toBe(true);
    expect(checkAcl(acl, Perms.READ, [{ scheme: 'sasl', id: 'alice' }])).toBe(false);
    expect(checkAcl(acl, Perms.READ, [{ scheme: 'digest', id: 'bob' }])).toBe(false);
    expect(checkAcl(acl, Perms.DELETE, [{ scheme: 'sasl', id: 'bob' }])).toBe(false);
  });
  it('with SASLAuthenticationProvider: valid ids are Kerberos names; auth expands to the sasl ids of the caller', () => {
    expect(isValidAclId({ scheme: 'sasl', id: 'bob' }, true)).toBe(true);
    expect(isValidAclId({ scheme: 'sasl', id: 'zk/host@EXAMPLE.COM' }, true)).toBe(true);
    expect(isValidAclId({ scheme: 'sasl', id: 'a@b@c' }, true)).toBe(false);
    const ids = [{ scheme: 'ip', id: '127.0.0.1' }, { scheme: 'sasl', id: 'bob' }];
    expect(fixupAcl([{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }], ids, true)).toEqual([{ perms: Perms.ALL, id: { scheme: 'sasl', id: 'bob' } }]);
  });
  it('without the provider (ZooKeeper\'s default): sasl ids are invalid, auth does not expand to them', () => {
    expect(isValidAclId({ scheme: 'sasl', id: 'bob' })).toBe(false);
    expect(fixupAcl([sasl('bob')], [])).toBeNull();
    expect(fixupAcl([{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }], [{ scheme: 'sasl', id: 'bob' }])).toBeNull();
  });
});
