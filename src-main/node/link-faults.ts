/** The fault table every peer link obeys (see peer-network.ts): drop / delay per direction. */
import type { Sid } from '../zab/quorum';

/** One rule: messages from `from` to `to` ('*' = any server) are dropped, or delayed. */
export interface LinkRule {
  from: Sid | '*';
  to: Sid | '*';
  drop?: boolean;
  delayMs?: number;
}

export class FaultTable {
  private rules: LinkRule[] = [];
  private readonly listeners = new Set<() => void>();

  set(rules: readonly LinkRule[]): void {
    this.rules = rules.slice(0, 1000).map((r) => ({ ...r }));
    for (const l of [...this.listeners]) l();
  }

  /** Called after every set(); returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get all(): readonly LinkRule[] {
    return this.rules;
  }

  private matching(from: Sid, to: Sid): LinkRule[] {
    return this.rules.filter((r) => (r.from === '*' || r.from === from) && (r.to === '*' || r.to === to));
  }

  blocked(from: Sid, to: Sid): boolean {
    // asked for every message sent: no rules (the usual case) costs no array
    if (this.rules.length === 0) return false;
    return this.matching(from, to).some((r) => r.drop === true);
  }

  /** a link is cut for TCP purposes when either direction is blocked */
  cut(a: Sid, b: Sid): boolean {
    return this.blocked(a, b) || this.blocked(b, a);
  }

  delayMs(from: Sid, to: Sid): number {
    if (this.rules.length === 0) return 0;
    return this.matching(from, to).reduce((m, r) => Math.max(m, r.delayMs ?? 0), 0);
  }
}
