import { describe, expect, it } from 'vitest';
import { isZooLabError } from '../common/errors';
import { parseJaas, saslServerSettings, saslUsersOf } from './jaas';

const SAMPLE = `
// the server's users
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_super="adminsecret"
  user_bob="bobsecret";
};
/* the client side,
   used by zkCli */
Client {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  username="bob"
  password="bobsecret";
};
`;

describe('JAAS file', () => {
  it('Server section: user_<name> options are the DIGEST-MD5 users', () => {
    const cfg = parseJaas(SAMPLE);
    expect([...cfg.keys()]).toEqual(['Server', 'Client']);
    expect(cfg.get('Server')![0]).toMatchObject({ loginModule: 'org.apache.zookeeper.server.auth.DigestLoginModule', flag: 'required' });
    expect(saslUsersOf(cfg, 'Server')).toEqual(new Map([['super', 'adminsecret'], ['bob', 'bobsecret']]));
    expect(cfg.get('Client')![0]!.options.get('username')).toBe('bob');
    expect(saslUsersOf(cfg, 'Missing')).toBeNull();
  });

  it('one line, unquoted values, escapes, ${property} expansion, several entries', () => {
    const cfg = parseJaas('Server{a.B Sufficient user_x=plain user_q="say \\"hi\\"";c.D optional user_p="${pw}";};', 'f', new Map([['pw', 'from-prop']]));
    expect(saslUsersOf(cfg, 'Server')).toEqual(new Map([['x', 'plain'], ['q', 'say "hi"'], ['p', 'from-prop']]));
    expect(cfg.get('Server')!.map((e) => e.flag)).toEqual(['sufficient', 'optional']);
  });

  it('syntax errors name file:line', () => {
    const bad = (t: string) => {
      try {
        parseJaas(t, '/x/jaas.conf');
      } catch (e) {
        expect(isZooLabError(e, 'CONFIG_INVALID')).toBe(true);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(bad('Server {\n  m required user_a="x"\n};')).toMatch(/^\/x\/jaas\.conf:3: .*'}'/);
    expect(bad('Server {\n  m mandatory;\n};')).toMatch(/:2: .*flag/);
    expect(bad('Server {\n m required user_a=;\n};')).toMatch(/:2: option user_a has no value/);
    expect(bad('Server {\n m required user_a="x;\n};')).toMatch(/:2: /);
    expect(bad('Server {\n m required;\n}')).toMatch(/expected ';'/);
    expect(bad('Server { m required user_a="${nope}"; };')).toMatch(/nope/);
  });

  it('settings: the file from java.security.auth.login.config (SERVER_JVMFLAGS) or the zoo.cfg key; superUser; superPassword', () => {
    const files = new Map([['/etc/zk/jaas.conf', SAMPLE]]);
    const read = (f: string) => {
      const t = files.get(f);
      if (t === undefined) throw new Error('ENOENT');
      return t;
    };
    expect(saslServerSettings(new Map(), read)).toEqual({ notes: [], saslAuthProvider: false });
    expect(saslServerSettings(new Map([['zookeeper.authProvider.1', 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider']]), read).saslAuthProvider).toBe(true);
    const a = saslServerSettings(new Map([['java.security.auth.login.config', '/etc/zk/jaas.conf'], ['zookeeper.superUser', 'super']]), read);
    expect(a.saslUsers?.get('bob')).toBe('bobsecret');
    expect(a.saslSuperUser).toBe('super');
    const b = saslServerSettings(new Map([['zookeeper.java.security.auth.login.config', '/etc/zk/jaas.conf'], ['zookeeper.SASLAuthenticationProvider.superPassword', 'override']]), read);
    expect(b.saslUsers?.get('super')).toBe('override');
    expect(() => saslServerSettings(new Map([['java.security.auth.login.config', '/nope']]), read)).toThrow(/cannot be read/);
    expect(() => saslServerSettings(new Map([['java.security.auth.login.config', '/etc/zk/jaas.conf'], ['zookeeper.sasl.serverconfig', 'Other']]), read)).toThrow(/no 'Other' section/);
  });
});
