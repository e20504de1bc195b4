/**
 * Trace events → leader elections: who voted for whom with which (epoch, zxid, server id),
 * how each server changed its mind, who won and why, and the sync that followed
 * (DIFF / TRUNC / SNAP). An election is a burst of election and sync events; a quiet gap
 * ends it. Pure.
 */
import type { TraceEvent } from '../../src-main/common/trace';

export interface Vote {
  leader: number;
  zxid: string;
  epoch: number;
}

export interface VoterStory {
  server: number;
  /** what it voted for first (its own history unless it joined late) */
  first: Vote | null;
  /** each change of mind, in order: the leader it switched to and when */
  changes: { t: number; vote: Vote }[];
  votesReceived: number;
  decided: { t: number; role: string; leader: number } | null;
}

export interface SyncStep {
  t: number;
  leader: number;
  follower: number;
  how: string;
  zxid: string | null;
}

export interface Election {
  startT: number;
  endT: number;
  voters: VoterStory[];
  leader: number | null;
  /** one sentence: why the winner won, by ZooKeeper's vote order */
  why: string;
  syncs: SyncStep[];
}

const electionKinds = new Set(['election.started', 'election.vote.sent', 'election.vote.received', 'election.decided', 'zab.sync.sent', 'zab.sync.received']);

function zxidValue(z: string): bigint {
  return /^0x[0-9a-f]+$/i.test(z) ? BigInt(z) : -1n;
}

/** ZooKeeper's totalOrderPredicate: higher epoch, then higher zxid, then higher server id. */
export function compareVotes(a: Vote, b: Vote): number {
  if (a.epoch !== b.epoch) return a.epoch - b.epoch;
  const za = zxidValue(a.zxid);
  const zb = zxidValue(b.zxid);
  if (za !== zb) return za > zb ? 1 : -1;
  return a.leader - b.leader;
}

export function explainWinner(candidates: readonly Vote[], leader?: number): string {
  const sorted = [...candidates].sort((a, b) => compareVotes(b, a));
  const [win, next] = sorted;
  if (!win) return '';
  // the trace may miss a candidate's history (trimmed, or it started before we listened)
  if (leader !== undefined && win.leader !== leader) return `server ${leader} won: a majority voted for it`;
  const who = `server ${win.leader}`;
  if (!next) return `${who} is the only candidate`;
  if (win.epoch !== next.epoch) return `${who} wins: its epoch ${win.epoch} is the newest (server ${next.leader} has ${next.epoch})`;
  if (win.zxid !== next.zxid) return `${who} wins: same epoch, and its history is the longest (zxid ${win.zxid} > ${next.zxid} of server ${next.leader})`;
  return `${who} wins: every history is equal (zxid ${win.zxid}), so the highest server id wins the tie`;
}

function voteOf(e: TraceEvent): Vote | null {
  const leader = e.detail?.['leader'];
  if (typeof leader !== 'number') return null;
  return { leader, zxid: e.zxid ?? '0x0', epoch: e.epoch ?? 0 };
}

function sameVote(a: Vote | null, b: Vote): boolean {
  return a !== null && a.leader === b.leader && a.zxid === b.zxid && a.epoch === b.epoch;
}

/**
 * Elections found in `events`, oldest first. One opens when a server starts LOOKING while no
 * election is open, takes in every server that starts LOOKING meanwhile, and closes when all
 * of them have decided (or after `quietMs` × 5 without a word: a LOOKING server was killed).
 * Votes and syncs arriving within `quietMs` after the close still belong to it.
 */
export function buildElections(events: readonly TraceEvent[], quietMs = 2_000, electionsMax = 20): Election[] {
  const relevant = events.filter((e) => electionKinds.has(e.kind)).sort((a, b) => a.t - b.t);
  const bursts: TraceEvent[][] = [];
  let open: { events: TraceEvent[]; looking: Set<number>; lastT: number } | null = null;
  let closed: { events: TraceEvent[]; endT: number } | null = null;
  for (const e of relevant) {
    if (open && e.t - open.lastT > quietMs * 5) {
      closed = { events: open.events, endT: open.lastT };
      open = null;
    }
    const isElection = e.kind.startsWith('election.');
    if (!open && (e.kind === 'election.started' || (isElection && !(closed && e.t - closed.endT <= quietMs)))) {
      open = { events: [], looking: new Set(), lastT: e.t };
      bursts.push(open.events);
    }
    if (open) {
      open.events.push(e);
      open.lastT = e.t;
      if (e.kind === 'election.started') open.looking.add(e.server);
      if (e.kind === 'election.decided') {
        open.looking.delete(e.server);
        if (open.looking.size === 0) {
          closed = { events: open.events, endT: e.t };
          open = null;
        }
      }
    } else if (closed && e.t - closed.endT <= quietMs) {
      closed.events.push(e);
    }
  }
  return bursts.slice(-electionsMax).map(toElection);
}

function toElection(burst: TraceEvent[]): Election {
  const stories = new Map<number, VoterStory>();
  const story = (server: number): VoterStory => {
    let s = stories.get(server);
    if (!s) {
      s = { server, first: null, changes: [], votesReceived: 0, decided: null };
      stories.set(server, s);
    }
    return s;
  };
  const syncs: SyncStep[] = [];
  for (const e of burst) {
    if (e.kind === 'election.vote.sent') {
      const v = voteOf(e);
      const s = story(e.server);
      if (!v) continue;
      const current = s.changes.at(-1)?.vote ?? s.first;
      if (s.first === null) s.first = v;
      else if (!sameVote(current, v)) s.changes.push({ t: e.t, vote: v });
    } else if (e.kind === 'election.vote.received') {
      story(e.server).votesReceived++;
    } else if (e.kind === 'election.started') {
      story(e.server);
    } else if (e.kind === 'election.decided') {
      const leader = e.detail?.['leader'];
      story(e.server).decided = { t: e.t, role: String(e.detail?.['role'] ?? '?'), leader: typeof leader === 'number' ? leader : -1 };
    } else if (e.kind === 'zab.sync.sent' && e.peer !== undefined) {
      syncs.push({ t: e.t, leader: e.server, follower: e.peer, how: String(e.detail?.['how'] ?? '?'), zxid: e.zxid ?? null });
    }
  }
  const voters = [...stories.values()].sort((a, b) => a.server - b.server);
  const counts = new Map<number, number>();
  for (const v of voters) if (v.decided) counts.set(v.decided.leader, (counts.get(v.decided.leader) ?? 0) + 1);
  const leader = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  // the candidates: each server that started LOOKING, with its own (epoch, last zxid, id)
  const started = new Map<number, Vote>();
  for (const e of burst) if (e.kind === 'election.started') started.set(e.server, { leader: e.server, zxid: e.zxid ?? '0x0', epoch: e.epoch ?? 0 });
  const selfVotes = voters.flatMap((v) => (v.first !== null && v.first.leader === v.server ? [v.first] : []));
  const candidates = started.size > 0 ? [...started.values()] : selfVotes;
  return {
    startT: (burst[0] as TraceEvent).t,
    endT: (burst.at(-1) as TraceEvent).t,
    voters,
    leader,
    why:
      leader === null
        ? 'no leader yet: not enough votes agree'
        : candidates.some((c) => c.leader === leader)
          ? explainWinner(candidates, leader)
          : `server ${leader} already leads: ${voters.filter((v) => v.server !== leader).map((v) => `server ${v.server}`).join(', ')} joined it (a LOOKING server follows the leader its peers report)`,
    syncs,
  };
}
