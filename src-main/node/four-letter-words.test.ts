import { describe, expect, it } from 'vitest';
import { parseZooCfg } from './config';
import { answerFourLetterWord, javaDouble, NOT_SERVING, parseSrvr, ServerStats, VERSION_LINE } from './four-letter-words';
import type { FourLetterContext, ServerStatus } from './four-letter-words';

function ctx(cfgText: string, status: Partial<ServerStatus>, myid: number | null = null): FourLetterContext {
  const stats = new ServerStats();
  return {
    cfg: parseZooCfg(cfgText, { path: '/z/zoo.cfg', cwd: '/z' }),
    myid,
    stats,
    status: () => ({ mode: 'standalone', zxid: 0n, nodeCount: 5, outstanding: 0, watchCount: 0, ephemeralsCount: 0, approximateDataSize: 0, ...status }),
    connections: () => [{ remote: '127.0.0.1:50000', queued: 0, received: 3, sent: 2 }],
    resetConnectionStats: () => {},
    dirSizes: () => ({ dataDirBytes: 10, dataLogDirBytes: 20 }),
  };
}
const all = 'dataDir=/d\nclientPort=2181\n4lw.commands.whitelist=*\n';

describe('four-letter words', () => {
  it('srvr: ZooKeeper line format, zxid in hex', () => {
    const c = ctx(all, { zxid: 0x100000003n, nodeCount: 7, outstanding: 1 });
    c.stats.packetsReceived = 4;
    c.stats.packetsSent = 3;
    c.stats.recordLatency(1);
    c.stats.recordLatency(2);
    expect(answerFourLetterWord('srvr', c)).toBe(
      `${VERSION_LINE}\nLatency min/avg/max: 1/1.5/2\nReceived: 4\nSent: 3\nConnections: 1\nOutstanding: 1\nZxid: 0x100000003\nMode: standalone\nNode count: 7\n`,
    );
    expect(VERSION_LINE).toMatch(/^Zookeeper version: 3\.\d+\.\d+-\S+, built on /);
  });
  it('srvr: leader adds proposal sizes', () => {
    expect(answerFourLetterWord('srvr', ctx(all, { mode: 'leader' }))).toMatch(/Mode: leader\nNode count: 5\nProposal sizes last\/min\/max: -1\/-1\/-1\n$/);
  });
  it('srvr: not serving before the pipeline runs', () => {
    expect(answerFourLetterWord('srvr', ctx(all, { mode: null }))).toBe(`${NOT_SERVING}\n`);
  });
  it('ruok: imok without newline, even when not serving', () => {
    expect(answerFourLetterWord('ruok', ctx(all, { mode: null }))).toBe('imok');
  });
  it('default whitelist is srvr only, as ZooKeeper', () => {
    const c = ctx('dataDir=/d\nclientPort=2181\n', {});
    expect(answerFourLetterWord('ruok', c)).toBe('ruok is not executed because it is not in the whitelist.\n');
    expect(answerFourLetterWord('srvr', c)).toMatch(/^Zookeeper version/);
  });
  it('stat lists clients between version and latency', () => {
    expect(answerFourLetterWord('stat', ctx(all, {}))).toMatch(/^Zookeeper version: .*\nClients:\n \/127\.0\.0\.1:50000\[1\]\(queued=0,recved=3,sent=2\)\n\nLatency min\/avg\/max: 0\/0\.0\/0\n/);
  });
  it('mntr: zk_ keys tab separated', () => {
    const text = answerFourLetterWord('mntr', ctx(all, { mode: 'follower', nodeCount: 9 }));
    expect(text).toMatch(/^zk_version\t3\./);
    expect(text).toContain('zk_server_state\tfollower\n');
    expect(text).toContain('zk_znode_count\t9\n');
  });
  it('conf of a quorum member lists membership', () => {
    const cfg = 'dataDir=/d\ninitLimit=10\nsyncLimit=5\n4lw.commands.whitelist=*\nserver.1=127.0.0.1:1:2;127.0.0.1:3\nserver.2=127.0.0.1:4:5;127.0.0.1:6\n';
    const text = answerFourLetterWord('conf', ctx(cfg, {}, 1));
    expect(text).toContain('clientPort=3\n');
    expect(text).toContain('dataDir=/d/version-2\n');
    expect(text).toContain('serverId=1\ninitLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=2\nquorumPort=1\npeerType=0\nmembership: \nserver.1=127.0.0.1:1:2:participant;127.0.0.1:3\n');
  });
  it('isro: rw / null', () => {
    expect(answerFourLetterWord('isro', ctx(all, {}))).toBe('rw');
    expect(answerFourLetterWord('isro', ctx(all, { mode: null }))).toBe('null');
  });
  it('parseSrvr reads back what srvr writes', () => {
    const c = ctx(all, { zxid: 0x200000001n, mode: 'follower' });
    const r = parseSrvr(answerFourLetterWord('srvr', c));
    expect(r).toMatchObject({ serving: true, zxid: 0x200000001n, mode: 'follower', nodeCount: 5, connections: 1 });
    expect(parseSrvr(`${NOT_SERVING}\n`).serving).toBe(false);
  });
  it('javaDouble prints like Double.toString', () => {
    expect(javaDouble(0)).toBe('0.0');
    expect(javaDouble(1.5)).toBe('1.5');
    expect(javaDouble(0.0001)).toBe('1.0E-4');
  });
});

describe('four-letter words from the pipeline\'s details', () => {
  const details = {
    connections: () => [
      {
        connId: 7, remoteAddress: '127.0.0.1', sessionId: 0x1000abcn, queued: 0, received: 4, sent: 4, lastOp: 'getData', establishedMs: 1000,
        sessionTimeoutMs: 30000, lastCxid: 3, lastZxid: 0x5n, lastResponseMs: 2000, lastLatencyMs: 1, latency: { minMs: 0, avgMs: 0.5, maxMs: 1, count: 2 },
      },
    ],
    watchSummary: () => ({ connections: 1, paths: 1, total: 2 }),
    watchesBySession: () => new Map([[0x1000abcn, ['/flw', '/flw']]]),
    watchesByPath: () => new Map([['/flw', [0x1000abcn, 0x1000abcn]]]),
    dump: () => ({
      sessions: [{ id: 0x1000abcn, timeoutMs: 30000, expiresAtMs: 1_700_000_000_100, connId: 7, closing: false }],
      ephemerals: new Map([[0x1000abcn, ['/flw/e']]]),
    }),
    digestLog: () => [
      { zxid: 0x80n, digest: 1371985504n },
      { zxid: 0x100000a00n, digest: -5n },
    ],
    globalSessions: 1,
    tickTimeMs: 2000,
  };
  const withDetails = (): FourLetterContext => {
    const c = ctx(all, {});
    return { ...c, details: () => details, connections: () => [{ id: 7, remote: '127.0.0.1:5000', queued: 0, received: 4, sent: 4 }, { id: 8, remote: '127.0.0.1:5001', queued: 0, received: 1, sent: 0 }] };
  };
  it('cons: sessionless connections short, session connections with every field', () => {
    expect(answerFourLetterWord('cons', withDetails())).toBe(
      ' /127.0.0.1:5001[0](queued=0,recved=1,sent=0)\n' +
        ' /127.0.0.1:5000[1](queued=0,recved=4,sent=4,sid=0x1000abc,lop=GETD,est=1000,to=30000,lcxid=0x3,lzxid=0x5,lresp=2000,llat=1,minlat=0,avglat=0.5,maxlat=1)\n\n',
    );
  });
  it('wchs / wchc / wchp', () => {
    expect(answerFourLetterWord('wchs', withDetails())).toBe('1 connections watching 1 paths\nTotal watches:2\n');
    expect(answerFourLetterWord('wchc', withDetails())).toBe('0x1000abc\n\t/flw\n\n');
    expect(answerFourLetterWord('wchp', withDetails())).toBe('/flw\n\t0x1000abc\n\n');
  });
  it('dump: sessions by expiry (rounded up to the tick), ephemerals, connections', () => {
    const text = answerFourLetterWord('dump', withDetails());
    expect(text).toMatch(/^SessionTracker dump:\nSession Sets \(1\)\/\(1\):\n1 expire at \w{3} \w{3} \d\d \d\d:\d\d:\d\d UTC \d{4}:\n\t0x1000abc\n/);
    expect(text).toContain('ephemeral nodes dump:\nSessions with Ephemerals (1):\n0x1000abc:\n\t/flw/e\n');
    expect(text).toMatch(/Connections dump:\nConnections Sets \(1\)\/\(1\):\n1 expire at .*:\n\tip: \/127\.0\.0\.1:5000 sessionId: 0x1000abc\n$/);
  });
  it('mntr carries the 3.6+ general keys', () => {
    const text = answerFourLetterWord('mntr', withDetails());
    for (const k of ['zk_uptime', 'zk_global_sessions\t1', 'zk_local_sessions\t0', 'zk_auth_failed_count\t0']) expect(text).toContain(k);
  });
  it('hash: one `<zxid hex>: <digest signed decimal>` line per history entry; 0s with zookeeper.digest.enabled=false', () => {
    expect(answerFourLetterWord('hash', withDetails())).toBe('80: 1371985504\n100000a00: -5\n');
    // Boolean.parseBoolean: only "true" (any case) enables it
    for (const flag of ['False', 'yes']) {
      const off = { ...ctx(all, {}), details: () => details };
      off.cfg = parseZooCfg(all, { path: '/z/zoo.cfg', cwd: '/z', jvmFlags: `-Dzookeeper.digest.enabled=${flag}` });
      expect(answerFourLetterWord('hash', off)).toBe('80: 0\n100000a00: 0\n');
    }
    expect(answerFourLetterWord('hash', ctx(all, { mode: null }))).toBe(NOT_SERVING);
    expect(answerFourLetterWord('hash', ctx(all, {}))).toBe('');
  });
  it('envi and gtmk', () => {
    expect(answerFourLetterWord('envi', withDetails())).toMatch(/^Environment:\nzookeeper\.version=3\.8\.4-zoolab/);
    expect(answerFourLetterWord('gtmk', withDetails())).toBe('306\n');
  });
});
