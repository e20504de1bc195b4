/**
 * Quorum maths for a static ensemble (ZooKeeper's QuorumMaj): a set of servers is a quorum
 * when it holds more than half of the voting members. Observers are members that never vote.
 * Pure.
 */
import { assert } from '../common/assert';

export type Sid = number;

export class QuorumMaj {
  readonly voters: ReadonlySet<Sid>;
  readonly observers: ReadonlySet<Sid>;

  constructor(voters: Iterable<Sid>, observers: Iterable<Sid> = []) {
    this.voters = new Set(voters);
    this.observers = new Set(observers);
    assert(this.voters.size > 0, 'an ensemble needs at least one voter');
    for (const o of this.observers) assert(!this.voters.has(o), `server ${o} cannot be both voter and observer`);
  }

  isVoter(sid: Sid): boolean {
    return this.voters.has(sid);
  }

  isMember(sid: Sid): boolean {
    return this.voters.has(sid) || this.observers.has(sid);
  }

  /** Every member, voters first, ascending. */
  members(): Sid[] {
    return [...[...this.voters].sort((a, b) => a - b), ...[...this.observers].sort((a, b) => a - b)];
  }

  /** Smallest number of voters that forms a quorum. */
  get quorumSize(): number {
    return Math.floor(this.voters.size / 2) + 1;
  }

  /** True when the given servers include a majority of the voters (non-voters are ignored). */
  containsQuorum(sids: Iterable<Sid>): boolean {
    let n = 0;
    if (sids instanceof Set) {
      // a set (a proposal's ackers, asked at every ACK) has no repeats to look for
      for (const s of sids as Set<Sid>) if (this.voters.has(s)) n++;
      return n >= this.quorumSize;
    }
    const seen = new Set<Sid>();
    for (const s of sids) {
      if (this.voters.has(s) && !seen.has(s)) {
        seen.add(s);
        n++;
      }
    }
    return n >= this.quorumSize;
  }
}
