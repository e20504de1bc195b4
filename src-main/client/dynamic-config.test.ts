import { describe, expect, it } from 'vitest';
import { DynamicConfigError, configVersion, formatServerLine, parseDynamicConfig, parseServerLine } from './dynamic-config';

describe('dynamic config', () => {
  it('parses /zookeeper/config data: servers by id, roles, client addresses, version', () => {
    const c = parseDynamicConfig(
      'server.3=127.0.0.1:2893:3893:observer;127.0.0.1:2183\nserver.1=127.0.0.1:2891:3891:participant;0.0.0.0:2181\nserver.2=h:1:2\nversion=100000002',
    );
    expect(c.version).toBe('100000002');
    expect(configVersion(c)).toBe(0x100000002n);
    expect(c.servers.map((s) => [s.id, s.role, s.client?.host ?? null, s.client?.port ?? null])).toEqual([
      [1, 'participant', '0.0.0.0', 2181],
      [2, 'participant', null, null],
      [3, 'observer', '127.0.0.1', 2183],
    ]);
  });

  it('server line: a client part of only a port listens on 0.0.0.0; the role defaults to participant', () => {
    const s = parseServerLine(4, 'localhost:1:2;2184');
    expect(s).toEqual({ id: 4, host: 'localhost', quorumPort: 1, electionPort: 2, role: 'participant', client: { host: '0.0.0.0', port: 2184 } });
    expect(formatServerLine(s)).toBe('server.4=localhost:1:2:participant;0.0.0.0:2184');
  });

  it('server line: IPv6 hosts keep their brackets when written', () => {
    const s = parseServerLine(1, '[::1]:1:2:observer;[::1]:3');
    expect(s.host).toBe('::1');
    expect(formatServerLine(s)).toBe('server.1=[::1]:1:2:observer;[::1]:3');
  });

  it('server line: malformed values fail with ZooKeeper wording', () => {
    expect(() => parseServerLine(1, 'bad')).toThrow(/^bad does not have the form server_config or server_config;client_config/);
    expect(() => parseServerLine(1, 'h:x:2')).toThrow('Address unresolved: h:x');
    expect(() => parseServerLine(1, 'h:1:1')).toThrow('Client and election port must be different! Please update the configuration file on server.1');
    expect(() => parseServerLine(1, 'h:1:2:voter')).toThrow('Unrecognised peertype: voter');
    expect(() => parseServerLine(1, 'h:1:2;a:b:c')).toThrow(DynamicConfigError);
  });

  it('version absent or unreadable → -1', () => {
    expect(configVersion(parseDynamicConfig(''))).toBe(-1n);
    expect(configVersion({ servers: [], version: 'zz' })).toBe(-1n);
  });
});
