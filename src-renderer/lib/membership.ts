/**
 * The dynamic membership as the cluster view shows it (pure): the config version as
 * ZooKeeper writes it, who is in the configuration and in which role, and which membership
 * actions make sense for a server.
 */
import type { MembershipView, ServerView } from '../../src-main/api/contract';

/** `0x100000002 (epoch 1, #2)`: the version is the zxid of the reconfig that made the config */
export function versionLabel(m: MembershipView): string {
  if (m.version === null) return 'not read yet';
  const v = BigInt(`0x${m.version}`);
  return `0x${m.version} (epoch ${v >> 32n}, #${v & 0xffffffffn})`;
}

/** `1 · 2 · 3 · 4 observer` */
export function membersLabel(m: MembershipView): string {
  if (m.members.length === 0) return '—';
  return m.members.map((x) => (x.role === 'observer' ? `${x.id} observer` : String(x.id))).join(' · ');
}

export interface MemberActions {
  /** make it an observer (a voter now), or a voter (an observer now); null when not in the config */
  flipTo: 'observer' | 'participant' | null;
  /** can be reconfigured out (and its process removed) */
  remove: boolean;
  /** why remove is refused, when it is */
  removeWhy: string | null;
}

/** What a person may do to `server` given the membership: the last voter cannot go or stop voting. */
export function memberActions(m: MembershipView, server: ServerView): MemberActions {
  const me = m.members.find((x) => x.id === server.id);
  const voters = m.members.filter((x) => x.role === 'participant');
  const lastVoter = me?.role === 'participant' && voters.length <= 1;
  const flipTo = me === undefined || lastVoter ? null : me.role === 'participant' ? 'observer' : 'participant';
  return { flipTo, remove: !lastVoter, removeWhy: lastVoter ? 'the last voter cannot be removed' : null };
}
