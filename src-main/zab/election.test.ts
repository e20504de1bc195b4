import { describe, expect, it } from 'vitest';
import { makeZxid, type Zxid } from '../common/ids';
import { FastLeaderElection, PeerState, voteBeats, type ElectionEffect, type Notification } from './election';
import { QuorumMaj, type Sid } from './quorum';

const q5 = new QuorumMaj([1, 2, 3, 4, 5]);

describe('election: vote order', () => {
  it('vote order: peerEpoch first, then zxid, then server id', () => {
    expect(voteBeats(q5, { leader: 1, zxid: 0n, peerEpoch: 2 }, { leader: 5, zxid: makeZxid(1, 99), peerEpoch: 1 })).toBe(true);
    expect(voteBeats(q5, { leader: 1, zxid: makeZxid(1, 5), peerEpoch: 1 }, { leader: 5, zxid: makeZxid(1, 4), peerEpoch: 1 })).toBe(true);
    expect(voteBeats(q5, { leader: 5, zxid: 7n, peerEpoch: 1 }, { leader: 4, zxid: 7n, peerEpoch: 1 })).toBe(true);
    expect(voteBeats(q5, { leader: 4, zxid: 7n, peerEpoch: 1 }, { leader: 5, zxid: 7n, peerEpoch: 1 })).toBe(false);
  });

  it('vote order: an observer never wins', () => {
    const q = new QuorumMaj([1, 2, 3], [9]);
    expect(voteBeats(q, { leader: 9, zxid: makeZxid(9, 9), peerEpoch: 9 }, { leader: 1, zxid: 0n, peerEpoch: 0 })).toBe(false);
  });
});

/** A tiny synchronous network: FIFO delivery, timers fired on demand. */
class Net {
  readonly nodes = new Map<Sid, FastLeaderElection>();
  readonly queue: { from: Sid; to: Sid; msg: Notification }[] = [];
  readonly timers = new Map<string, number>();
  readonly decided = new Map<Sid, { role: string; leader: Sid }>();
  up = new Set<Sid>();
  constructor(readonly quorum: QuorumMaj) {
    for (const id of quorum.members()) this.nodes.set(id, new FastLeaderElection({ myid: id, quorum }));
  }
  apply(from: Sid, effects: ElectionEffect[]): void {
    for (const e of effects) {
      if (e.type === 'send') this.queue.push({ from, to: e.to, msg: e.msg });
      else if (e.type === 'setTimer') this.timers.set(`${from}:${e.timer}`, e.gen);
      else if (e.type === 'decided') this.decided.set(from, { role: e.role, leader: e.leader });
    }
  }
  start(id: Sid, lastZxid: Zxid = 0n, currentEpoch = 0): void {
    this.up.add(id);
    this.apply(id, (this.nodes.get(id) as FastLeaderElection).step({ type: 'start', nowMs: 0, lastZxid, currentEpoch }));
  }
  deliverAll(): void {
    for (let i = 0; i < 10_000 && this.queue.length > 0; i++) {
      const m = this.queue.shift() as { from: Sid; to: Sid; msg: Notification };
      if (!this.up.has(m.to)) continue;
      this.apply(m.to, (this.nodes.get(m.to) as FastLeaderElection).step({ type: 'message', nowMs: 0, from: m.from, msg: m.msg }));
    }
  }
  unreachable(id: Sid, peer: Sid): void {
    this.apply(id, (this.nodes.get(id) as FastLeaderElection).step({ type: 'reachability', nowMs: 0, peer, reachable: false }));
  }
  fireFinalize(): void {
    for (const [key, gen] of [...this.timers]) {
      const [id, timer] = key.split(':') as [string, 'finalize' | 'resend'];
      if (timer !== 'finalize') continue;
      this.timers.delete(key);
      this.apply(Number(id), (this.nodes.get(Number(id)) as FastLeaderElection).step({ type: 'timer', nowMs: 0, timer, gen }));
    }
    this.deliverAll();
  }
}

describe('election: fast leader election', () => {
  it('election: the newest zxid wins among servers with the same epoch', () => {
    const net = new Net(new QuorumMaj([1, 2, 3]));
    net.start(1, makeZxid(1, 5), 1);
    net.start(2, makeZxid(1, 7), 1);
    net.start(3, makeZxid(1, 6), 1);
    net.deliverAll();
    net.fireFinalize();
    expect([...net.decided]).toEqual(expect.arrayContaining([[1, { role: 'following', leader: 2 }], [2, { role: 'leading', leader: 2 }], [3, { role: 'following', leader: 2 }]]));
  });

  it('election: a higher currentEpoch beats a higher zxid from an older epoch', () => {
    const net = new Net(new QuorumMaj([1, 2, 3]));
    net.start(1, makeZxid(1, 9), 1);
    net.start(2, makeZxid(1, 3), 2);
    net.start(3, makeZxid(1, 2), 1);
    net.deliverAll();
    net.fireFinalize();
    expect(net.decided.get(2)).toEqual({ role: 'leading', leader: 2 });
    expect(net.decided.get(1)).toEqual({ role: 'following', leader: 2 });
  });

  it('election: no decision before the finalize wait, and a better late vote restarts it', () => {
    const net = new Net(new QuorumMaj([1, 2, 3]));
    net.start(1);
    net.start(2);
    net.deliverAll();
    expect(net.decided.size).toBe(0); // 1 and 2 agree on 2, waiting finalizeWait
    net.start(3);
    net.deliverAll();
    net.fireFinalize();
    expect(net.decided.get(3)).toEqual({ role: 'leading', leader: 3 });
    expect(net.decided.get(1)).toEqual({ role: 'following', leader: 3 });
  });

  it('election: a late joiner follows the established leader without a new round', () => {
    const net = new Net(new QuorumMaj([1, 2, 3, 4, 5]));
    for (const id of [1, 2, 3]) net.start(id);
    net.deliverAll();
    net.fireFinalize();
    expect(net.decided.get(3)?.role).toBe('leading');
    net.start(5, makeZxid(0, 0), 0);
    net.deliverAll();
    expect(net.decided.get(5)).toEqual({ role: 'following', leader: 3 });
    expect((net.nodes.get(5) as FastLeaderElection).peerState).toBe(PeerState.FOLLOWING);
  });

  it('election: an observer learns the leader and decides OBSERVING', () => {
    const net = new Net(new QuorumMaj([1, 2, 3], [4]));
    for (const id of [1, 2, 3]) net.start(id);
    net.deliverAll();
    net.fireFinalize();
    net.start(4);
    net.deliverAll();
    expect(net.decided.get(4)).toEqual({ role: 'observing', leader: 3 });
  });

  it('election: with every voter agreeing there is nobody to wait for: decided without a finalize wait', () => {
    const net = new Net(new QuorumMaj([1, 2, 3]));
    for (const id of [1, 2, 3]) net.start(id, makeZxid(1, 4), 1);
    net.deliverAll();
    expect(net.decided.get(3)).toEqual({ role: 'leading', leader: 3 });
    expect(net.decided.get(1)).toEqual({ role: 'following', leader: 3 });
    expect(net.decided.get(2)).toEqual({ role: 'following', leader: 3 });
  });

  it('election: a voter reported unreachable is not waited for; one merely unheard still is', () => {
    const net = new Net(new QuorumMaj([1, 2, 3]));
    net.start(1);
    net.start(2);
    net.deliverAll();
    expect(net.decided.size).toBe(0); // 3 might still vote: finalizeWait
    net.unreachable(2, 3);
    expect(net.decided.get(2)).toEqual({ role: 'leading', leader: 2 });
    expect(net.decided.get(1)).toBeUndefined(); // 1 has not heard that 3 is down
    net.unreachable(1, 3);
    net.deliverAll();
    expect(net.decided.get(1)).toEqual({ role: 'following', leader: 2 });
  });

  it('election: a vote from my round for a worse leader is answered with my proposal at once', () => {
    const q = new QuorumMaj([1, 2, 3]);
    const two = new FastLeaderElection({ myid: 2, quorum: q });
    two.step({ type: 'start', nowMs: 0, lastZxid: makeZxid(1, 5), currentEpoch: 1 });
    const worse: Notification = { state: PeerState.LOOKING, leader: 1, zxid: makeZxid(1, 5), electionEpoch: 1, peerEpoch: 1, version: 2 };
    const effects = two.step({ type: 'message', nowMs: 0, from: 1, msg: worse });
    const sent = effects.filter((e) => e.type === 'send');
    expect(sent).toEqual([{ type: 'send', to: 1, msg: expect.objectContaining({ leader: 2, electionEpoch: 1, state: PeerState.LOOKING }) }]);
    // the same vote as mine needs no answer
    const same = two.step({ type: 'message', nowMs: 0, from: 1, msg: { ...worse, leader: 2 } });
    expect(same.filter((e) => e.type === 'send')).toEqual([]);
  });
});
