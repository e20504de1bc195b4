import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isZooLabError } from '../common/errors';
import { loadZooCfg, parseZooCfg, preallocBytesFrom } from './config';
import { parseJvmFlags } from './jvm-flags';
import { clientEndpoint, readMyid } from './server-identity';
import { parseProperties } from './properties';

const P = { path: '/etc/zoo.cfg', cwd: '/work' };

function expectConfigError(text: string, pattern: RegExp, code = 'CONFIG_INVALID'): void {
  try {
    parseZooCfg(text, P);
  } catch (e) {
    expect(isZooLabError(e)).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error(`expected a config error matching ${pattern}`);
}

const ensemble = `# sample
tickTime=2000
initLimit=10
syncLimit=5
dataDir=/var/zk/1
clientPort=2181
server.1=127.0.0.1:2888:3888
server.2=127.0.0.1:2889:3889;2182
server.3=localhost:2890:3890:observer;127.0.0.1:2183
`;

describe('properties syntax', () => {
  it('comments, separators, whitespace and escapes follow java.util.Properties', () => {
    const e = parseProperties('# c\n! c2\n  a = 1\nb:2\nc 3\nd\\ e=x\\ty\nlong=one \\\n    two\nu=\\u0041\\q\n\nempty=\n');
    expect(e.map((x) => [x.key, x.value, x.line])).toEqual([
      ['a', '1', 3],
      ['b', '2', 4],
      ['c', '3', 5],
      ['d e', 'x\ty', 6],
      ['long', 'one two', 7],
      ['u', 'Aq', 9],
      ['empty', '', 11],
    ]);
  });
  it('a comment line ending in a backslash does not continue', () => {
    expect(parseProperties('# x \\\na=1').map((x) => x.key)).toEqual(['a']);
  });
});

describe('zoo.cfg: good files', () => {
  it('ensemble config: limits, servers, client ports and types', () => {
    const c = parseZooCfg(ensemble, P);
    expect(c.tickTimeMs).toBe(2000);
    expect(c.initLimitTicks).toBe(10);
    expect(c.syncLimitTicks).toBe(5);
    expect(c.dataDir).toBe('/var/zk/1');
    expect(c.dataLogDir).toBe('/var/zk/1');
    expect(c.clientPort).toBe(2181);
    expect(c.distributed).toBe(true);
    expect(c.servers.get(1)).toMatchObject({ host: '127.0.0.1', quorumPort: 2888, electionPort: 3888, type: 'participant', clientPort: null, line: 7 });
    expect(c.servers.get(2)).toMatchObject({ clientHost: '0.0.0.0', clientPort: 2182 });
    expect(c.servers.get(3)).toMatchObject({ host: 'localhost', type: 'observer', clientHost: '127.0.0.1', clientPort: 2183 });
  });
  it('defaults as ZooKeeper: session bounds 2x/20x tick, 60 cnxns, only srvr whitelisted, forceSync on', () => {
    const c = parseZooCfg('dataDir=data\nclientPort=2181\n', P);
    expect(c.tickTimeMs).toBe(3000);
    expect(c.minSessionTimeoutMs).toBe(6000);
    expect(c.maxSessionTimeoutMs).toBe(60000);
    expect(c.maxClientCnxns).toBe(60);
    expect(c.fourLetterWords).toEqual(new Set(['srvr']));
    expect(c.forceSync).toBe(true);
    expect(c.dataDir).toBe('/work/data');
    expect(c.distributed).toBe(false);
    expect(c.reconfigEnabled).toBe(false);
    expect(c.packetBytesMax).toBe(0xfffff);
  });
  it('unknown keys become zookeeper.<key> system properties and drive 4lw, forceSync, extended types', () => {
    const c = parseZooCfg('dataDir=/d\nclientPort=1\n4lw.commands.whitelist=ruok, srvr ,mntr\nforceSync=no\nextendedTypesEnabled=true\nskipACL=yes\n', P);
    expect(c.fourLetterWords).toEqual(new Set(['ruok', 'srvr', 'mntr']));
    expect(c.forceSync).toBe(false);
    expect(c.extendedTypesEnabled).toBe(true);
    expect(c.systemProperties.get('zookeeper.skipACL')).toBe('yes');
    expect(parseZooCfg('dataDir=/d\nclientPort=1\n4lw.commands.whitelist=*\n', P).fourLetterWords).toBe('*');
  });
  it('SERVER_JVMFLAGS -D flags are system properties; zoo.cfg keys override them', () => {
    const c = parseZooCfg('dataDir=/d\nclientPort=1\nforceSync=yes\n', {
      ...P,
      jvmFlags: `-Xmx1g -Dzookeeper.DigestAuthenticationProvider.superDigest=super:abc= "-Djava.security.auth.login.config=/a b/jaas.conf" -Dzookeeper.forceSync=no -Djute.maxbuffer=4096`,
    });
    expect(c.systemProperties.get('zookeeper.DigestAuthenticationProvider.superDigest')).toBe('super:abc=');
    expect(c.systemProperties.get('java.security.auth.login.config')).toBe('/a b/jaas.conf');
    expect(c.forceSync).toBe(true);
    expect(c.packetBytesMax).toBe(4096);
    expect(c.notes.join('\n')).toMatch(/-Xmx1g/);
  });
  it('one participant with standaloneEnabled is standalone; standaloneEnabled=false makes it distributed', () => {
    expect(parseZooCfg('dataDir=/d\nserver.1=127.0.0.1:1:2;3\n', P).distributed).toBe(false);
    expect(parseZooCfg('dataDir=/d\ninitLimit=5\nsyncLimit=2\nstandaloneEnabled=false\nserver.1=127.0.0.1:1:2;3\n', P).distributed).toBe(true);
  });
  it('ipv6 hosts in brackets', () => {
    const c = parseZooCfg('dataDir=/d\ninitLimit=5\nsyncLimit=2\nserver.1=[::1]:1:2;[::1]:3\nserver.2=[::1]:4:5;6\n', P);
    expect(c.servers.get(1)).toMatchObject({ host: '::1', quorumPort: 1, electionPort: 2, clientHost: '::1', clientPort: 3 });
  });
  it('clientEndpoint: 127.0.0.1 by default, clientPortAddress or the server line address when given', () => {
    const c = parseZooCfg(ensemble, P);
    expect(clientEndpoint(c, 1)).toEqual({ host: '127.0.0.1', port: 2181 });
    expect(() => clientEndpoint(c, 2)).toThrow(/differs/);
    const d = parseZooCfg(ensemble.replace('clientPort=2181\n', ''), P);
    expect(clientEndpoint(d, 3)).toEqual({ host: '127.0.0.1', port: 2183 });
    expect(clientEndpoint(d, 2)).toEqual({ host: '127.0.0.1', port: 2182 });
    expect(() => clientEndpoint(d, 1)).toThrow(/no client port/);
  });
});

describe('zoo.cfg: bad files name file:line and what to do', () => {
  it('server line with too few parts', () => expectConfigError('dataDir=/d\nclientPort=1\nserver.1=127.0.0.1:2888\n', /\/etc\/zoo\.cfg:3: server\.1=127\.0\.0\.1:2888: expected server\.N=host/));
  it('server id not a number', () => expectConfigError('dataDir=/d\nclientPort=1\nserver.a=h:1:2\n', /zoo\.cfg:3: server\.a: the server id/));
  it('bad peer type', () => expectConfigError('dataDir=/d\nclientPort=1\nserver.1=h:1:2:leader\n', /:3: server\.1: unrecognised peer type 'leader'/));
  it('port out of range', () => expectConfigError('dataDir=/d\nclientPort=70000\n', /:2: clientPort 70000 is out of range/));
  it('tickTime not a number', () => expectConfigError('tickTime=2s\ndataDir=/d\nclientPort=1\n', /:1: tickTime=2s: not a whole number; write e\.g\. tickTime=2000/));
  it('missing dataDir', () => expectConfigError('clientPort=1\n', /dataDir is not set/));
  it('missing client port', () => expectConfigError('dataDir=/d\n', /clientPort is not set/));
  it('quorum without initLimit', () => expectConfigError('dataDir=/d\nclientPort=1\nsyncLimit=2\nserver.1=h:1:2\nserver.2=h:3:4\n', /initLimit is not set/));
  it('secureClientPort is refused clearly', () => expectConfigError('dataDir=/d\nclientPort=1\nsecureClientPort=2281\n', /:3: secureClientPort: TLS client connections are not supported/));
  it('group/weight lines are refused clearly', () => expectConfigError('dataDir=/d\nclientPort=1\ngroup.1=1:2:3\n', /:3: group\.1: hierarchical quorums/));
  it('min session timeout above max', () => expectConfigError('dataDir=/d\nclientPort=1\nminSessionTimeout=9000\nmaxSessionTimeout=4000\n', /must not be larger/));
  it('standaloneEnabled must be true or false', () => expectConfigError('dataDir=/d\nclientPort=1\nstandaloneEnabled=yes\n', /:3: standaloneEnabled=yes: choose 'true' or 'false'/));
  it('duplicate server id', () => expectConfigError('dataDir=/d\nclientPort=1\nserver.1=h:1:2\nserver.1=h:3:4\n', /:4: server\.1 appears twice \(first at line 3\)/));
  it('same quorum and election port', () => expectConfigError('dataDir=/d\nclientPort=1\nserver.1=h:5:5\n', /:3: server\.1: quorum port and election port are both 5/));
  it('malformed unicode escape', () => expectConfigError('dataDir=/d\nclientPort=1\nx=\\u00zz\n', /:3: malformed/));
  it('only observers', () => expectConfigError('dataDir=/d\nclientPort=1\nserver.1=h:1:2:observer\n', /at least one must be a participant/));
});

describe('myid', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  function setup(cfgText: string, myid?: string): string {
    dir = mkdtempSync(join(tmpdir(), 'zoolab-cfg-'));
    mkdirSync(join(dir, 'data'));
    const path = join(dir, 'zoo.cfg');
    writeFileSync(path, cfgText.replace('DATADIR', join(dir, 'data')));
    if (myid !== undefined) writeFileSync(join(dir, 'data', 'myid'), myid);
    return path;
  }
  const quorum = 'dataDir=DATADIR\ninitLimit=5\nsyncLimit=2\nserver.1=127.0.0.1:1:2;3\nserver.2=127.0.0.1:4:5;6\n';
  it('read from dataDir/myid', () => {
    const cfg = loadZooCfg(setup(quorum, '2\n'), {});
    expect(readMyid(cfg).myid).toBe(2);
  });
  it('missing in a quorum: names the file', () => {
    const cfg = loadZooCfg(setup(quorum), {});
    expect(() => readMyid(cfg)).toThrow(/data\/myid is missing: write this server's id/);
  });
  it('not a number: names the file', () => {
    const cfg = loadZooCfg(setup(quorum, 'two'), {});
    expect(() => readMyid(cfg)).toThrow(/data\/myid: 'two' is not a number/);
  });
  it('not in the server list', () => {
    const cfg = loadZooCfg(setup(quorum, '7'), {});
    expect(() => readMyid(cfg)).toThrow(/id 7 is not in the server\.N lines/);
  });
  it('standalone without myid is fine', () => {
    const cfg = loadZooCfg(setup('dataDir=DATADIR\nclientPort=2181\n'), {});
    expect(readMyid(cfg).myid).toBe(null);
  });
  it('missing config file → CONFIG_NOT_FOUND', () => {
    expect(() => loadZooCfg('/nonexistent/zoo.cfg', {})).toThrow(/cannot read the config file/);
  });
  it('jvm flags parser keeps only -D', () => {
    expect([...parseJvmFlags('-Da=1 -server -Db').properties]).toEqual([
      ['a', '1'],
      ['b', ''],
    ]);
  });
});

describe('preAllocSize', () => {
  const base = 'tickTime=2000\ndataDir=/tmp/d\nclientPort=2181\n';
  it('zoo.cfg preAllocSize (KiB) reaches the txn log as bytes; unset → the default block', () => {
    expect(preallocBytesFrom(parseZooCfg(`${base}preAllocSize=1024\n`, P).systemProperties, 7)).toBe(1024 * 1024);
    expect(preallocBytesFrom(parseZooCfg(base, P).systemProperties, 7)).toBe(7);
    expect(preallocBytesFrom(new Map([['zookeeper.preAllocSize', '0']]), 7)).toBe(0);
  });
  it('a size that is not a KiB count names the property and where to fix it', () => {
    expect(() => preallocBytesFrom(new Map([['zookeeper.preAllocSize', '64MB']]), 7)).toThrow(/zookeeper.preAllocSize=64MB .*zoo.cfg/);
  });
});

describe('zoo.cfg: dynamicConfigFile (ZooKeeper 3.5+)', () => {
  const base = 'tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/d\nreconfigEnabled=true\nstandaloneEnabled=false\n';
  const files = new Map<string, string>([
    ['/etc/zoo.cfg.dynamic.100000000', 'server.1=127.0.0.1:2881:3881:participant;127.0.0.1:2181\nserver.2=127.0.0.1:2882:3882:observer;0.0.0.0:2182'],
    ['/etc/zoo.cfg.dynamic.3', 'server.1=h:1:2;3\nversion=3'],
    ['/etc/plain', 'server.1=h:1:2;3\nserver.2=h:4:5;6'],
  ]);
  const read = (p: string): string => {
    const t = files.get(p);
    if (t === undefined) throw new Error('ENOENT');
    return t;
  };

  it('reads the server lines from the file and the version from its name', () => {
    const cfg = parseZooCfg(`${base}dynamicConfigFile=/etc/zoo.cfg.dynamic.100000000\n`, { ...P, readFile: read });
    expect(cfg.dynamicConfigFile).toBe('/etc/zoo.cfg.dynamic.100000000');
    expect(cfg.membership.version).toBe(0x100000000n);
    expect(cfg.membership.voters).toEqual([1]);
    expect(cfg.membership.observers).toEqual([2]);
    expect(cfg.servers.get(2)?.line).toBe(2);
    expect(cfg.distributed).toBe(true);
  });

  it('a file name without a hex suffix: version 0', () => {
    expect(parseZooCfg(`${base}dynamicConfigFile=/etc/plain\n`, { ...P, readFile: read }).membership.version).toBe(0n);
  });

  it('a version line inside, a missing file, or server lines in both places are errors naming the line', () => {
    expect(() => parseZooCfg(`${base}dynamicConfigFile=/etc/zoo.cfg.dynamic.3\n`, { ...P, readFile: read })).toThrow(/zoo\.cfg\.dynamic\.3:2: a dynamic config file must not hold a version line/);
    expect(() => parseZooCfg(`${base}dynamicConfigFile=/etc/none\n`, { ...P, readFile: read })).toThrow(/zoo\.cfg:7: dynamicConfigFile=\/etc\/none cannot be read/);
    expect(() => parseZooCfg(`${base}dynamicConfigFile=/etc/plain\nserver.1=h:1:2;3\n`, { ...P, readFile: read })).toThrow(/zoo\.cfg:8: server\.1 is given here and dynamicConfigFile \(line 7\)/);
  });

  it('without one, the membership is the server lines at version 0', () => {
    const cfg = parseZooCfg(ensemble, P);
    expect(cfg.membership.version).toBe(0n);
    expect(cfg.membership.toText()).toMatch(/^server\.1=127\.0\.0\.1:2888:3888:participant\nserver\.2=127\.0\.0\.1:2889:3889:participant;0\.0\.0\.0:2182\n/);
  });
});
