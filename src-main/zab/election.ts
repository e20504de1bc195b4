/**
 * Fast Leader Election (ZooKeeper's FastLeaderElection, electionAlg=3) as a pure state machine.
 *
 * Inputs: `start` (begin LOOKING with the server's last logged zxid and current epoch), `message`
 * (a Notification from a peer arrived over the election port) and `timer` (a timer this core
 * asked for fired). Output: a list of effects to carry out IN ORDER: `send`, `setTimer`,
 * `cancelTimer`, `decided` (the server leaves LOOKING) and `trace`.
 *
 * The algorithm, as ZooKeeper runs it:
 * - a vote (leader, zxid, peerEpoch) beats another by peerEpoch, then zxid, then server id;
 *   observers never win (they are not voters);
 * - each LOOKING server bumps its logical clock (the election round), votes for itself and
 *   broadcasts; a notification from a higher round resets the received votes and adopts the
 *   better of (that vote, my own initial vote); one from a lower round is ignored (and answered
 *   with my proposal, so the lagging peer catches up); a better vote in my round is adopted
 *   and rebroadcast;
 * - when a quorum of the received votes equals my proposal, wait `finalizeWaitMs` for a better
 *   one; if none comes, decide: LEADING if I am the proposal, FOLLOWING (or OBSERVING) otherwise.
 *   ZooLab decides at once when no better vote can come: every other voter has voted for my
 *   proposal in this round, or is known unreachable (the shell's `reachability` input: its
 *   election port refused us). A voter that comes back later joins the established leader; the
 *   wait never guarded safety (ZAB's discovery does), only the choice of leader;
 * - a LOOKING peer in my round that votes for a worse leader than my proposal is answered with
 *   my proposal (ZooKeeper stays silent and the peer learns it only at its next resend, 200 ms
 *   later; on one host that silence was most of a re-election);
 * - a server that is already FOLLOWING/LEADING answers a LOOKING peer with its current vote,
 *   and a LOOKING server joins an established leader once a quorum reports following it and the
 *   leader itself reports LEADING (late joiners never start a new election round);
 * - with no notification for a while, resend, backing off from finalizeWaitMs to 60 s.
 *
 * Time never enters except as `nowMs` on inputs (used only to stamp trace events) and through
 * timers that the shell runs. No IO, no clock, no randomness.
 */
import { assert } from '../common/assert';
import { hex, type Zxid } from '../common/ids';
import type { TraceEvent, TraceKind } from '../common/trace';
import { Membership } from '../common/membership';
import { QuorumMaj, type Sid } from './quorum';
import { membershipOfQuorum } from './reconfig';

export const PeerState = { LOOKING: 0, FOLLOWING: 1, LEADING: 2, OBSERVING: 3 } as const;
export type PeerStateValue = (typeof PeerState)[keyof typeof PeerState];
export const peerStateName = ['LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING'] as const;

/** The notification version ZooLab sends (ZooKeeper 3.5+ sends 2). */
export const NOTIFICATION_VERSION = 2;

/** A proposed leader: compared by (peerEpoch, zxid, leader). */
export interface Vote {
  readonly leader: Sid;
  readonly zxid: Zxid;
  readonly peerEpoch: number;
}

/** What travels on the election port (ZooKeeper's notification, version 2). */
export interface Notification {
  /** the sender's state */
  readonly state: PeerStateValue;
  /** proposed leader */
  readonly leader: Sid;
  /** proposed leader's last zxid */
  readonly zxid: Zxid;
  /** the sender's logical clock (election round) */
  readonly electionEpoch: number;
  /** proposed leader's epoch */
  readonly peerEpoch: number;
  readonly version: number;
  /** the sender's membership text (/zookeeper/config), sent once it has a version */
  readonly config?: string;
}

export type ElectionTimer = 'finalize' | 'resend';

export type ElectionInput =
  /** Begin (or begin again) LOOKING. lastZxid: the last zxid in the server's log (logged, not
   * necessarily committed); currentEpoch: the persisted currentEpoch. */
  | { readonly type: 'start'; readonly nowMs: number; readonly lastZxid: Zxid; readonly currentEpoch: number }
  | { readonly type: 'message'; readonly nowMs: number; readonly from: Sid; readonly msg: Notification }
  /** ZAB established `epoch` under `leader` (the `serving` effect): from now on this server
   * reports (leader, epoch) as its vote, so every member of one ensemble reports the same vote
   * and a late joiner finds its quorum even if members were elected in different rounds */
  | { readonly type: 'established'; readonly nowMs: number; readonly leader: Sid; readonly epoch: number }
  /** a reconfig activated a new membership: later elections count votes with its quorum */
  | { readonly type: 'reconfig'; readonly nowMs: number; readonly membership: Membership }
  /** a reconfig designated `leader`: leave LOOKING for it without an election (ZooKeeper's
   * reconfigFlag hand-off); `decided` follows as after an election */
  | { readonly type: 'designate'; readonly nowMs: number; readonly leader: Sid; readonly lastZxid: Zxid; readonly currentEpoch: number }
  /** `gen` must echo the generation of the setTimer effect; stale timers are ignored. */
  | { readonly type: 'timer'; readonly nowMs: number; readonly timer: ElectionTimer; readonly gen: number }
  /** the shell's view of a peer's election port: false when a dial to it was refused or failed,
   * true when a connection to it was made or a message came from it. Optional: without it the
   * core waits finalizeWait whenever a voter has not voted for its proposal */
  | { readonly type: 'reachability'; readonly nowMs: number; readonly peer: Sid; readonly reachable: boolean };

export type ElectionRole = 'leading' | 'following' | 'observing';

export type ElectionEffect =
  | { readonly type: 'send'; readonly to: Sid; readonly msg: Notification }
  /** Arm (or re-arm, replacing the previous one of that name) a one-shot timer. */
  | { readonly type: 'setTimer'; readonly timer: ElectionTimer; readonly delayMs: number; readonly gen: number }
  | { readonly type: 'cancelTimer'; readonly timer: ElectionTimer }
  /** The server leaves LOOKING. The shell now starts ZAB in that role (lead / follow). */
  | {
      readonly type: 'decided';
      readonly role: ElectionRole;
      readonly leader: Sid;
      /** the winning vote's peerEpoch (the epoch ZAB discovery starts from) */
      readonly peerEpoch: number;
      readonly zxid: Zxid;
      readonly electionEpoch: number;
    }
  /** a peer's notification carried a newer membership (this server missed a reconfig while
   * away): it counts votes with it now; the shell hands it to ZAB (`adopt`) */
  | { readonly type: 'membership'; readonly membership: Membership }
  | { readonly type: 'trace'; readonly event: TraceEvent };

export interface ElectionConfig {
  readonly myid: Sid;
  readonly quorum: QuorumMaj;
  /** the membership `quorum` comes from (default: made up from it, version 0) */
  readonly membership?: Membership;
  /** ZooKeeper's finalizeWait: 200 ms */
  readonly finalizeWaitMs?: number;
  /** ZooKeeper's maxNotificationInterval: 60 s */
  readonly maxNotificationIntervalMs?: number;
}

interface RecordedVote {
  readonly vote: Vote;
  readonly electionEpoch: number;
  readonly state: PeerStateValue;
  readonly version: number;
}

const NO_VOTE: Vote = { leader: -1, zxid: -1n, peerEpoch: -1 };

/** ZooKeeper's totalOrderPredicate: does `next` beat `cur`? Non-voters never win. */
export function voteBeats(quorum: QuorumMaj, next: Vote, cur: Vote): boolean {
  if (!quorum.isVoter(next.leader)) return false;
  if (next.peerEpoch !== cur.peerEpoch) return next.peerEpoch > cur.peerEpoch;
  if (next.zxid !== cur.zxid) return next.zxid > cur.zxid;
  return next.leader > cur.leader;
}

/** ZooKeeper's Vote.equals: LOOKING votes must match fully, votes of servers that are out of
 * the election (FOLLOWING/LEADING) match on (leader, peerEpoch) only. */
function sameVote(a: RecordedVote, b: RecordedVote): boolean {
  if (a.state === PeerState.LOOKING || b.state === PeerState.LOOKING) {
    return (
      a.vote.leader === b.vote.leader &&
      a.vote.zxid === b.vote.zxid &&
      a.electionEpoch === b.electionEpoch &&
      a.vote.peerEpoch === b.vote.peerEpoch
    );
  }
  return a.vote.leader === b.vote.leader && a.vote.peerEpoch === b.vote.peerEpoch;
}

export class FastLeaderElection {
  readonly myid: Sid;
  private quorum: QuorumMaj;
  private membership: Membership;
  private readonly ownVoter: boolean;
  private readonly finalizeWaitMs: number;
  private readonly maxNotificationIntervalMs: number;

  private state: PeerStateValue = PeerState.LOOKING;
  private started = false;
  /** the election round */
  private logicalClock = 0;
  private initialVote: Vote = NO_VOTE;
  private proposal: Vote = NO_VOTE;
  /** the vote we stand by once decided (answered to LOOKING peers) */
  private currentVote: Vote = NO_VOTE;
  private currentElectionEpoch = 0;
  private readonly recvSet = new Map<Sid, RecordedVote>();
  private readonly outOfElection = new Map<Sid, RecordedVote>();
  /** voters whose election port the shell reports unreachable */
  private readonly unreachable = new Set<Sid>();
  private notTimeoutMs: number;
  private finalizeGen = 0;
  private finalizeArmedFor: Vote | null = null;
  private resendGen = 0;
  private nowMs = 0;

  constructor(config: ElectionConfig) {
    this.myid = config.myid;
    this.quorum = config.quorum;
    assert(this.quorum.isMember(this.myid), `server ${this.myid} is not in the ensemble`);
    this.membership = config.membership ?? membershipOfQuorum(this.quorum);
    this.ownVoter = this.quorum.isVoter(this.myid);
    this.finalizeWaitMs = config.finalizeWaitMs ?? 200;
    this.maxNotificationIntervalMs = config.maxNotificationIntervalMs ?? 60_000;
    this.notTimeoutMs = this.finalizeWaitMs;
  }

  get peerState(): PeerStateValue {
    return this.state;
  }

  get round(): number {
    return this.logicalClock;
  }

  /** The vote this server proposes (LOOKING) or stands by (decided). */
  get vote(): Vote {
    return this.state === PeerState.LOOKING ? this.proposal : this.currentVote;
  }

  step(input: ElectionInput): ElectionEffect[] {
    this.nowMs = input.nowMs;
    const out: ElectionEffect[] = [];
    switch (input.type) {
      case 'start':
        this.startLooking(input.lastZxid, input.currentEpoch, out);
        break;
      case 'message':
        if (this.started) this.onNotification(input.from, input.msg, out);
        break;
      case 'timer':
        this.onTimer(input.timer, input.gen, out);
        break;
      case 'reconfig':
        this.setMembership(input.membership);
        // a learner made a participant (or observer) by the reconfig reports that from now on
        if (this.state === PeerState.FOLLOWING || this.state === PeerState.OBSERVING) {
          this.state = this.learningRole() === 'following' ? PeerState.FOLLOWING : PeerState.OBSERVING;
        }
        break;
      case 'designate': {
        this.started = true;
        const role: ElectionRole = this.roleFor(input.leader);
        this.decide(role, { leader: input.leader, zxid: input.lastZxid, peerEpoch: input.currentEpoch }, this.logicalClock, out);
        break;
      }
      case 'reachability':
        if (input.peer === this.myid || !this.quorum.isVoter(input.peer)) break;
        if (input.reachable) this.unreachable.delete(input.peer);
        else if (!this.unreachable.has(input.peer)) {
          this.unreachable.add(input.peer);
          // a finalize wait may be waiting for nobody now
          if (this.started && this.state === PeerState.LOOKING) this.checkProposalQuorum(out);
        }
        break;
      case 'established':
        if (this.state !== PeerState.LOOKING && this.currentVote.leader === input.leader) {
          this.currentVote = { ...this.currentVote, peerEpoch: input.epoch };
        }
        break;
    }
    return out;
  }

  private startLooking(lastZxid: Zxid, currentEpoch: number, out: ElectionEffect[]): void {
    this.started = true;
    this.state = PeerState.LOOKING;
    this.logicalClock++;
    this.recvSet.clear();
    this.outOfElection.clear();
    this.initialVote = this.quorum.isVoter(this.myid)
      ? { leader: this.myid, zxid: lastZxid, peerEpoch: currentEpoch }
      : NO_VOTE;
    this.proposal = this.initialVote;
    this.finalizeArmedFor = null;
    this.notTimeoutMs = this.finalizeWaitMs;
    this.trace(out, 'election.started', { round: this.logicalClock, zxid: hex(lastZxid), epoch: currentEpoch });
    this.sendNotifications(out);
    this.armResend(out);
    this.checkProposalQuorum(out); // an ensemble of one voter agrees with itself
  }

  private myNotification(): Notification {
    const v = this.vote;
    return {
      state: this.state,
      leader: v.leader,
      zxid: v.zxid,
      electionEpoch: this.state === PeerState.LOOKING ? this.logicalClock : this.currentElectionEpoch,
      peerEpoch: v.peerEpoch,
      version: NOTIFICATION_VERSION,
      ...(this.membership.version > 0n ? { config: this.membership.toText() } : {}),
    };
  }

  private setMembership(m: Membership): void {
    if (m.voters.length === 0) return;
    this.membership = m;
    this.quorum = new QuorumMaj(m.voters, m.observers);
  }

  private send(out: ElectionEffect[], to: Sid, msg: Notification): void {
    out.push({ type: 'send', to, msg });
    out.push({
      type: 'trace',
      event: {
        t: this.nowMs,
        kind: 'election.vote.sent',
        server: this.myid,
        epoch: msg.peerEpoch,
        zxid: hex(msg.zxid),
        peer: to,
        detail: { leader: msg.leader, round: msg.electionEpoch, state: peerStateName[msg.state] },
      },
    });
  }

  /** Broadcast my proposal to every voter (ZooKeeper: getCurrentAndNextConfigVoters), and
   * record it as my own received vote (ZooKeeper loops it back through its own queue). */
  private sendNotifications(out: ElectionEffect[]): void {
    const msg = this.myNotification();
    if (this.quorum.isVoter(this.myid)) {
      this.recvSet.set(this.myid, { vote: this.proposal, electionEpoch: this.logicalClock, state: PeerState.LOOKING, version: NOTIFICATION_VERSION });
    }
    for (const sid of this.quorum.members()) {
      if (sid === this.myid || !this.quorum.isVoter(sid)) continue;
      this.send(out, sid, msg);
    }
  }

  private armResend(out: ElectionEffect[]): void {
    this.resendGen++;
    out.push({ type: 'setTimer', timer: 'resend', delayMs: this.notTimeoutMs, gen: this.resendGen });
  }

  private onTimer(timer: ElectionTimer, gen: number, out: ElectionEffect[]): void {
    if (this.state !== PeerState.LOOKING) return;
    if (timer === 'resend') {
      if (gen !== this.resendGen) return;
      // nothing heard for notTimeout: resend and back off (ZooKeeper doubles up to 60 s)
      this.sendNotifications(out);
      this.notTimeoutMs = Math.min(this.notTimeoutMs * 2, this.maxNotificationIntervalMs);
      this.armResend(out);
      return;
    }
    if (gen !== this.finalizeGen || this.finalizeArmedFor === null) return;
    const target: RecordedVote = { vote: this.proposal, electionEpoch: this.logicalClock, state: PeerState.LOOKING, version: NOTIFICATION_VERSION };
    this.finalizeArmedFor = null;
    if (this.hasQuorumFor(this.recvSet, target)) {
      const role: ElectionRole = this.proposal.leader === this.myid ? 'leading' : this.learningRole();
      this.decide(role, this.proposal, this.logicalClock, out);
    }
  }

  private learningRole(): ElectionRole {
    // a server outside the membership (a joiner) learns in the role it started with, as ZAB does
    if (!this.quorum.isMember(this.myid)) return this.ownVoter ? 'following' : 'observing';
    return this.quorum.isVoter(this.myid) ? 'following' : 'observing';
  }

  private hasQuorumFor(votes: ReadonlyMap<Sid, RecordedVote>, target: RecordedVote): boolean {
    const agreeing: Sid[] = [];
    for (const [sid, v] of votes) if (sameVote(v, target)) agreeing.push(sid);
    return this.quorum.containsQuorum(agreeing);
  }

  /** ZooKeeper's checkLeader: the leader we are about to follow must itself claim LEADING (or,
   * if it is me, the round must be mine). */
  private checkLeader(votes: ReadonlyMap<Sid, RecordedVote>, leader: Sid, electionEpoch: number): boolean {
    if (leader === this.myid) return this.logicalClock === electionEpoch;
    const v = votes.get(leader);
    return v !== undefined && v.state === PeerState.LEADING;
  }

  private onNotification(from: Sid, n: Notification, out: ElectionEffect[]): void {
    if (from === this.myid) return;
    if (n.config !== undefined) {
      // FastLeaderElection: a notification with a newer config makes this server take it
      const m = Membership.parse(n.config);
      if (typeof m !== 'string' && m.version > this.membership.version && m.voters.length > 0) {
        this.setMembership(m);
        out.push({ type: 'membership', membership: m });
      }
    }
    this.unreachable.delete(from);
    out.push({
      type: 'trace',
      event: {
        t: this.nowMs,
        kind: 'election.vote.received',
        server: this.myid,
        epoch: n.peerEpoch,
        zxid: hex(n.zxid),
        peer: from,
        detail: { leader: n.leader, round: n.electionEpoch, state: peerStateName[n.state] ?? String(n.state) },
      },
    });
    if (!this.quorum.isVoter(from)) {
      // only a LOOKING one needs the answer: two decided non-voters would answer each other forever
      if (n.state !== PeerState.LOOKING) return;
      // an observer, or a server outside the membership (a joiner), asking: answer with what I
      // stand by (ZooKeeper's WorkerReceiver answers non-voters the same way)
      this.send(out, from, this.myNotification());
      return;
    }
    if (this.state !== PeerState.LOOKING) {
      if (n.state === PeerState.LOOKING) this.send(out, from, this.myNotification());
      return;
    }
    if (n.state === PeerState.LOOKING && n.electionEpoch < this.logicalClock) {
      // a peer in an older round: tell it where we are
      this.send(out, from, this.myNotification());
    }
    const recorded: RecordedVote = {
      vote: { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch },
      electionEpoch: n.electionEpoch,
      state: n.state,
      version: n.version,
    };
    switch (n.state) {
      case PeerState.LOOKING:
        this.onLookingVote(from, recorded, out);
        break;
      case PeerState.FOLLOWING:
      case PeerState.LEADING:
        this.onEstablishedVote(from, recorded, out);
        break;
      case PeerState.OBSERVING:
        break; // observers' votes do not count
      default:
        break; // unknown state from a newer peer: ignore
    }
    if (this.state === PeerState.LOOKING) this.armResend(out);
  }

  private onLookingVote(from: Sid, n: RecordedVote, out: ElectionEffect[]): void {
    if (!this.quorum.isVoter(n.vote.leader)) return;
    if (n.electionEpoch > this.logicalClock) {
      this.logicalClock = n.electionEpoch;
      this.recvSet.clear();
      this.proposal = voteBeats(this.quorum, n.vote, this.initialVote) ? n.vote : this.initialVote;
      this.sendNotifications(out);
    } else if (n.electionEpoch < this.logicalClock) {
      return;
    } else if (voteBeats(this.quorum, n.vote, this.proposal)) {
      this.proposal = n.vote;
      this.sendNotifications(out);
    } else if (voteBeats(this.quorum, this.proposal, n.vote)) {
      // it has not heard my better vote (it was still following, or our first notifications
      // crossed): tell it now rather than at its next resend
      this.send(out, from, this.myNotification());
    }
    this.recvSet.set(from, n);
    this.checkProposalQuorum(out);
  }

  /** a quorum agrees with my proposal: wait finalizeWait for a better vote, then decide (at
   * once when no better vote can come) */
  private checkProposalQuorum(out: ElectionEffect[]): void {
    const target: RecordedVote = { vote: this.proposal, electionEpoch: this.logicalClock, state: PeerState.LOOKING, version: NOTIFICATION_VERSION };
    if (this.hasQuorumFor(this.recvSet, target)) {
      if (this.nobodyElseToHear(target)) {
        this.decide(this.proposal.leader === this.myid ? 'leading' : this.learningRole(), this.proposal, this.logicalClock, out);
        return;
      }
      const armed = this.finalizeArmedFor;
      if (armed === null || armed.leader !== this.proposal.leader || armed.zxid !== this.proposal.zxid || armed.peerEpoch !== this.proposal.peerEpoch) {
        // quorum reached: wait finalizeWait for a better vote before deciding
        this.finalizeArmedFor = this.proposal;
        this.finalizeGen++;
        out.push({ type: 'setTimer', timer: 'finalize', delayMs: this.finalizeWaitMs, gen: this.finalizeGen });
      }
    } else if (this.finalizeArmedFor !== null) {
      this.finalizeArmedFor = null;
      this.finalizeGen++;
      out.push({ type: 'cancelTimer', timer: 'finalize' });
    }
  }

  /** every voter but me has voted for `target` in this round or is unreachable */
  private nobodyElseToHear(target: RecordedVote): boolean {
    for (const sid of this.quorum.members()) {
      if (sid === this.myid || !this.quorum.isVoter(sid) || this.unreachable.has(sid)) continue;
      const v = this.recvSet.get(sid);
      if (v === undefined || !sameVote(v, target)) return false;
    }
    return true;
  }

  private onEstablishedVote(from: Sid, n: RecordedVote, out: ElectionEffect[]): void {
    if (n.electionEpoch === this.logicalClock) {
      this.recvSet.set(from, n);
      if (this.hasQuorumFor(this.recvSet, n) && this.checkLeader(this.recvSet, n.vote.leader, n.electionEpoch)) {
        this.decide(this.roleFor(n.vote.leader), n.vote, n.electionEpoch, out);
        return;
      }
    }
    // votes of servers already out of the election, from any round: a late joiner follows the
    // established leader once a quorum follows it and it claims LEADING
    this.outOfElection.set(from, n);
    if (this.hasQuorumFor(this.outOfElection, n) && this.checkLeader(this.outOfElection, n.vote.leader, n.electionEpoch)) {
      this.logicalClock = n.electionEpoch;
      this.decide(this.roleFor(n.vote.leader), n.vote, n.electionEpoch, out);
    }
  }

  private roleFor(leader: Sid): ElectionRole {
    return leader === this.myid ? 'leading' : this.learningRole();
  }

  private decide(role: ElectionRole, vote: Vote, electionEpoch: number, out: ElectionEffect[]): void {
    this.state = role === 'leading' ? PeerState.LEADING : role === 'following' ? PeerState.FOLLOWING : PeerState.OBSERVING;
    this.currentVote = vote;
    this.currentElectionEpoch = electionEpoch;
    this.proposal = vote;
    this.finalizeArmedFor = null;
    this.finalizeGen++;
    this.resendGen++;
    this.recvSet.clear();
    this.outOfElection.clear();
    out.push({ type: 'cancelTimer', timer: 'finalize' });
    out.push({ type: 'cancelTimer', timer: 'resend' });
    out.push({ type: 'decided', role, leader: vote.leader, peerEpoch: vote.peerEpoch, zxid: vote.zxid, electionEpoch });
    this.trace(out, 'election.decided', { role, leader: vote.leader, round: electionEpoch, zxid: hex(vote.zxid), epoch: vote.peerEpoch });
  }

  private trace(out: ElectionEffect[], kind: TraceKind, detail: Record<string, string | number>): void {
    const { epoch, zxid, ...rest } = detail;
    out.push({
      type: 'trace',
      event: {
        t: this.nowMs,
        kind,
        server: this.myid,
        ...(typeof epoch === 'number' ? { epoch } : {}),
        ...(typeof zxid === 'string' ? { zxid } : {}),
        detail: rest,
      },
    });
  }
}
