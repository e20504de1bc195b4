import { describe, expect, it } from 'vitest';
import { clientConfigString, javaPropertiesOrder, loadJavaProperties, membersFromConfigFile } from './java-config';

describe('zkCli config text', () => {
  it('config -c lists client addresses in java.util.Properties order (as zkCli 3.8 printed them)', () => {
    const text =
      'server.1=127.0.0.1:41211:41221:participant;127.0.0.1:41201\nserver.2=127.0.0.1:41212:41222:participant;127.0.0.1:41202\nserver.3=127.0.0.1:41213:41223:participant;127.0.0.1:41203\nversion=100000000';
    // observed from Apache zkCli 3.8 on this configuration
    expect(clientConfigString(text)).toBe('100000000 127.0.0.1:41202,127.0.0.1:41201,127.0.0.1:41203');
  });

  it('config -c: servers without a client part are left out; empty or null config → " "', () => {
    expect(clientConfigString('server.1=h:1:2\nversion=1')).toBe('1 ');
    expect(clientConfigString('')).toBe(' ');
    expect(clientConfigString('null')).toBe(' ');
  });

  it('Properties order: by String.hashCode bucket, insertion order within a bucket', () => {
    expect(javaPropertiesOrder(['server.1', 'server.2', 'server.3', 'version'])).toEqual(['server.2', 'server.1', 'server.3', 'version']);
  });

  it('Properties.load: separators, comments, continuations, escapes, repeated keys', () => {
    const p = loadJavaProperties('# c\n! c\n  a = 1\nb:2\nc 3\nd=x\\\n   y\ne=\\u0041\\t\na=9\n');
    expect([...p.entries()]).toEqual([
      ['a', '9'],
      ['b', '2'],
      ['c', '3'],
      ['d', 'xy'],
      ['e', 'A\t'],
    ]);
  });

  it('reconfig -file: the membership text zkCli sends (servers by id, role always, version hex)', () => {
    const file = 'server.2=127.0.0.1:2892:3892;2182\nserver.1=127.0.0.1:2891:3891:participant;127.0.0.1:2181\nversion=100000003\n';
    expect(membersFromConfigFile(file)).toBe(
      'server.1=127.0.0.1:2891:3891:participant;127.0.0.1:2181\nserver.2=127.0.0.1:2892:3892:participant;0.0.0.0:2182\nversion=100000003',
    );
    expect(membersFromConfigFile('server.1=h:1:2')).toBe('server.1=h:1:2:participant\nversion=0');
  });

  it('reconfig -file: unknown keys, bad ids, bad lines and observer-only memberships are refused', () => {
    expect(() => membersFromConfigFile('tickTime=2000\nserver.1=h:1:2')).toThrow('Unrecognised parameter: tickTime');
    expect(() => membersFromConfigFile('server.x=h:1:2')).toThrow('For input string: "x"');
    expect(() => membersFromConfigFile('server.1=h:1')).toThrow(/does not have the form/);
    expect(() => membersFromConfigFile('server.1=h:1:2:observer')).toThrow('Observers w/o participants is an invalid configuration');
  });
});
