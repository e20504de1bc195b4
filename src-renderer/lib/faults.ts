/**
 * Pure models for link faults and health charts: which servers a fault table cuts off, the
 * sides of a split, a fault table in words, and a sparkline's SVG points. Unit-tested.
 */
import type { LinkFaultView } from '../../src-main/api/contract';

function dropped(rules: readonly LinkFaultView[], from: number, to: number): boolean {
  return rules.some((r) => r.drop === true && (r.from === '*' || r.from === from) && (r.to === '*' || r.to === to));
}

/** Servers that can neither send to nor hear from any other server. */
export function isolatedIds(rules: readonly LinkFaultView[], ids: readonly number[]): Set<number> {
  const out = new Set<number>();
  if (ids.length < 2) return out;
  for (const a of ids) {
    const others = ids.filter((b) => b !== a);
    if (others.every((b) => dropped(rules, a, b) && dropped(rules, b, a))) out.add(a);
  }
  return out;
}

/** The groups of servers that still reach each other both ways (connected components). */
export function sidesOf(rules: readonly LinkFaultView[], ids: readonly number[]): number[][] {
  const sorted = [...ids].sort((a, b) => a - b);
  const seen = new Set<number>();
  const sides: number[][] = [];
  for (const start of sorted) {
    if (seen.has(start)) continue;
    const side: number[] = [];
    const queue = [start];
    seen.add(start);
    while (queue.length > 0) {
      const a = queue.shift() as number;
      side.push(a);
      for (const b of sorted) {
        if (!seen.has(b) && !dropped(rules, a, b) && !dropped(rules, b, a)) {
          seen.add(b);
          queue.push(b);
        }
      }
    }
    sides.push(side.sort((x, y) => x - y));
  }
  return sides;
}

const end = (e: number | '*'): string => (e === '*' ? 'any' : String(e));

/** The fault table in a person's words: "server 2 isolated", "split 1 | 2 3", "1→3 delayed 300 ms". */
export function describeFaults(rules: readonly LinkFaultView[], ids: readonly number[]): string[] {
  if (rules.length === 0) return [];
  const out: string[] = [];
  const iso = isolatedIds(rules, ids);
  for (const id of iso) out.push(`server ${id} isolated`);
  const sides = sidesOf(rules, ids).filter((s) => !(s.length === 1 && iso.has(s[0] as number)));
  if (sides.length > 1) out.push(`split ${sides.map((s) => s.join(' ')).join(' | ')}`);
  else if (iso.size === 0) {
    for (const r of rules) {
      if (r.drop) out.push(`${end(r.from)}→${end(r.to)} dropped`);
      else if (r.delayMs !== undefined) out.push(`${end(r.from)}→${end(r.to)} delayed ${r.delayMs} ms`);
    }
  }
  for (const r of rules) if (!r.drop && r.delayMs !== undefined && (iso.size > 0 || sides.length > 1)) out.push(`${end(r.from)}→${end(r.to)} delayed ${r.delayMs} ms`);
  return out;
}

/** The trace's fault.set detail (JSON of the rules) in words, or the raw text when it is not JSON. */
export function describeFaultDetail(detail: unknown, ids: readonly number[]): string {
  if (typeof detail !== 'string') return 'link faults changed';
  try {
    const rules = JSON.parse(detail) as LinkFaultView[];
    if (!Array.isArray(rules)) return detail;
    const all = ids.length > 0 ? ids : [...new Set(rules.flatMap((r) => [r.from, r.to]).filter((x): x is number => typeof x === 'number'))];
    const words = describeFaults(rules, all);
    return words.length > 0 ? words.join('; ') : 'no link faults';
  } catch {
    return detail;
  }
}

/** SVG polyline points for a sparkline of `values` (nulls skipped) in a w×h box; '' when fewer than 2. */
export function sparkPoints(values: readonly (number | null)[], w: number, h: number): string {
  const pts = values.map((v, i) => ({ v, i })).filter((p): p is { v: number; i: number } => p.v !== null && Number.isFinite(p.v));
  if (pts.length < 2 || values.length < 2) return '';
  const max = Math.max(...pts.map((p) => p.v), 1e-9);
  const x = (i: number) => (i / (values.length - 1)) * w;
  const y = (v: number) => h - 1 - (v / max) * (h - 2);
  return pts.map((p) => `${x(p.i).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
}
