/**
 * The simulator's agenda: events ordered by time, then by the time they were first due, then
 * by insertion order, so that two events at the same simulated millisecond always run in the
 * order they were scheduled, and postponed events (a paused server's) keep their order among
 * themselves and ahead of events first due later. Bounded.
 */
interface Entry<T> {
  at: number;
  firstAt: number;
  seq: number;
  item: T;
}

export interface Popped<T> {
  readonly at: number;
  readonly firstAt: number;
  readonly seq: number;
  readonly item: T;
}

export class EventQueue<T> {
  private heap: Entry<T>[] = [];
  private seq = 0;

  constructor(private readonly sizeMax = 5_000_000) {}

  get size(): number {
    return this.heap.length;
  }

  push(at: number, item: T): void {
    this.insert({ at, firstAt: at, seq: this.seq++, item });
  }

  /** run a popped event later, keeping its place among events postponed the same way */
  postpone(e: Popped<T>, at: number): void {
    this.insert({ at, firstAt: e.firstAt, seq: e.seq, item: e.item });
  }

  peekTime(): number | undefined {
    return this.heap[0]?.at;
  }

  pop(): Popped<T> | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(l, m)) m = l;
        if (r < h.length && this.less(r, m)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  private insert(e: Entry<T>): void {
    if (this.heap.length >= this.sizeMax) throw new Error(`event queue over ${this.sizeMax} events`);
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    if (a.at !== b.at) return a.at < b.at;
    if (a.firstAt !== b.firstAt) return a.firstAt < b.firstAt;
    return a.seq < b.seq;
  }
}
