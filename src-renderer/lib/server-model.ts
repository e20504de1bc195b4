/**
 * Pure view models for the cluster panel: what each server's card shows and which actions
 * make sense in which state. No Vue, no DOM: unit-tested directly.
 */
import type { EnsembleView, ServerRole, ServerState, ServerView } from '../../src-main/api/contract';

export type ServerAction = 'kill' | 'stop' | 'start' | 'restart' | 'pause' | 'resume';
export type Tone = 'ok' | 'busy' | 'idle' | 'bad' | 'warn';

export function isPaused(s: ServerView): boolean {
  return s.paused === true;
}

export function stateTone(s: ServerView): Tone {
  if (isPaused(s)) return 'warn';
  const tones: Record<ServerState, Tone> = { running: 'ok', starting: 'busy', stopping: 'busy', stopped: 'idle', crashed: 'bad' };
  return tones[s.state];
}

export function stateLabel(s: ServerView): string {
  return isPaused(s) ? 'paused' : s.state;
}

/** ZooKeeper's own words for a server's role, as `srvr` and the logs say them. */
export function roleLabel(role: ServerRole): string {
  const labels: Record<ServerRole, string> = {
    leader: 'LEADING',
    follower: 'FOLLOWING',
    observer: 'OBSERVING',
    looking: 'LOOKING',
    standalone: 'STANDALONE',
    unknown: '—',
  };
  return labels[role];
}

export function availableActions(s: ServerView): Record<ServerAction, boolean> {
  const alive = s.state === 'running' || s.state === 'starting';
  const paused = isPaused(s);
  const down = s.state === 'stopped' || s.state === 'crashed';
  return {
    kill: alive || s.state === 'stopping',
    stop: alive && !paused,
    start: down,
    restart: alive || down,
    pause: s.state === 'running' && !paused,
    resume: paused,
  };
}

/** "0x100000003" → { epoch: 1, counter: 3 }; null when absent or not a zxid. */
export function splitZxid(hexText: string | null): { epoch: number; counter: number } | null {
  if (hexText === null || !/^0x[0-9a-f]{1,16}$/i.test(hexText)) return null;
  const v = BigInt(hexText);
  return { epoch: Number(v >> 32n), counter: Number(v & 0xffffffffn) };
}

export interface EnsembleSummary {
  total: number;
  running: number;
  /** votes needed for a quorum (observers do not vote) */
  quorum: number;
  voters: number;
  votersUp: number;
  hasQuorum: boolean;
  leader: number | null;
}

export function summarize(e: EnsembleView): EnsembleSummary {
  const voters = e.servers.filter((s) => s.role !== 'observer');
  const up = (s: ServerView) => s.state === 'running' && !isPaused(s);
  const votersUp = voters.filter(up).length;
  const quorum = Math.floor(voters.length / 2) + 1;
  const leader = e.servers.find((s) => up(s) && (s.role === 'leader' || s.role === 'standalone'));
  return {
    total: e.servers.length,
    running: e.servers.filter(up).length,
    quorum,
    voters: voters.length,
    votersUp,
    hasQuorum: voters.length > 0 && votersUp >= quorum,
    leader: leader ? leader.id : null,
  };
}

/** Servers in id order, so cards never jump around when states change. */
export function sortedServers(e: EnsembleView | null): ServerView[] {
  return e ? [...e.servers].sort((a, b) => a.id - b.id) : [];
}

/** Past-tense words for an action's toast: "server 2 killed". */
export function actionDone(action: ServerAction): string {
  const words: Record<ServerAction, string> = {
    kill: 'killed (SIGKILL)',
    stop: 'stopped',
    start: 'started',
    restart: 'restarted',
    pause: 'paused (SIGSTOP)',
    resume: 'resumed (SIGCONT)',
  };
  return words[action];
}

/** The card's buttons, in order, with what each does in words. */
export const actionButtons: readonly { action: ServerAction; label: string; title: string; danger?: boolean }[] = [
  { action: 'kill', label: 'Kill', title: 'SIGKILL: the process dies at once, like a power cut', danger: true },
  { action: 'stop', label: 'Stop', title: 'SIGTERM, then SIGKILL if it does not exit in time' },
  { action: 'start', label: 'Start', title: 'Start this server from its zoo.cfg' },
  { action: 'restart', label: 'Restart', title: 'Stop (or clean up after a crash), then start again' },
  { action: 'pause', label: 'Pause', title: 'SIGSTOP: frozen, as in a long GC pause; its peers see it go silent' },
  { action: 'resume', label: 'Resume', title: 'SIGCONT: carry on where it stopped' },
];
