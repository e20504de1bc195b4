/**
 * ZooKeeper's quota bookkeeping format (StatsTrack) and paths (Quotas). The tree keeps
 * `/zookeeper/quota<path>/zookeeper_stats` up to date as `count=N,bytes=M` for every path that
 * has a `zookeeper_limits` node, exactly as upstream's DataTree does, so `listquota` works.
 * Quotas are tracked, not enforced (enforceQuota would need QUOTAEXCEEDED, -125, which older
 * clients cannot parse).
 */
export const QUOTA_ROOT = '/zookeeper/quota';
export const LIMIT_NODE = 'zookeeper_limits';
export const STAT_NODE = 'zookeeper_stats';

export function quotaStatPath(path: string): string {
  return `${QUOTA_ROOT}${path}/${STAT_NODE}`;
}

/** StatsTrack(String): `key=value` pairs split on `,` and `;`; an empty value reads as -1. */
export function parseStatsTrack(text: string): Map<string, number> {
  const stats = new Map<string, number>();
  if (text.length === 0) return stats;
  for (const pair of text.split(/[,;]+/)) {
    if (pair === '') continue;
    const kv = pair.split('=');
    const key = kv[0] ?? '';
    const raw = kv[1] ?? '';
    const value = raw === '' ? -1 : Number(raw);
    if (Number.isFinite(value)) stats.set(key, value);
  }
  return stats;
}

/** StatsTrack.toString: `count=N,bytes=M`, then `=;key=value` for extra keys, sorted. */
export function formatStatsTrack(stats: ReadonlyMap<string, number>): string {
  const count = stats.get('count') ?? -1;
  const bytes = stats.get('bytes') ?? -1;
  let out = `count=${count},bytes=${bytes}`;
  const extra = [...stats.keys()].filter((k) => k !== 'count' && k !== 'bytes').sort();
  if (extra.length > 0) {
    out += '=';
    for (const k of extra) out += `;${k}=${stats.get(k)}`;
  }
  return out;
}
