/**
 * Searching a server's log: plain text matches case-insensitively; `/re/` (optionally with
 * flags, e.g. `/leader|follow/i`) is a regular expression. A bad expression is reported, not thrown.
 */
export interface LogFilterResult {
  lines: string[];
  total: number;
  error: string | null;
}

export function filterLog(text: string, query: string): LogFilterResult {
  const all = text.length === 0 ? [] : text.replace(/\n$/, '').split('\n');
  const q = query.trim();
  if (q === '') return { lines: all, total: all.length, error: null };
  const re = /^\/(.+)\/([a-z]*)$/.exec(q);
  if (re) {
    let rx: RegExp;
    try {
      rx = new RegExp(re[1] as string, (re[2] as string).replace('g', ''));
    } catch (e) {
      return { lines: [], total: all.length, error: `not a regular expression: ${e instanceof Error ? e.message : String(e)}` };
    }
    return { lines: all.filter((l) => rx.test(l)), total: all.length, error: null };
  }
  const needle = q.toLowerCase();
  return { lines: all.filter((l) => l.toLowerCase().includes(needle)), total: all.length, error: null };
}
