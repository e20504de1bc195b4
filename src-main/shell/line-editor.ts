/**
 * The line discipline of the interactive shell, independent of any terminal: it takes the
 * bytes a terminal sends (typed keys, escape sequences, pasted text) and answers with the text
 * to echo (ANSI/VT100 sequences) and with finished lines. The same editor runs behind
 * `zoolab shell` on a TTY and behind the app's xterm pane.
 *
 * Keys: printable text, Enter, Backspace, Delete, ←/→, Home/End, ↑/↓ (history), Tab
 * (completion), Ctrl-A/E/B/F/K/U/W/L/P/N, Ctrl-C (drop the line), Ctrl-D (end of input on an
 * empty line, else delete).
 */

export type EditorAction =
  | { kind: 'line'; line: string }
  | { kind: 'complete'; line: string; cursor: number }
  | { kind: 'interrupt' }
  | { kind: 'eof' };

/** A completion result: the new line and cursor, and candidates to list (when ambiguous). */
export interface CompletionResult {
  line: string;
  cursor: number;
  candidates: string[];
}

const ESC = '\x1b';
const historyMax = 500;

export class LineEditor {
  private buffer: string[] = [];
  private cursor = 0;
  private prompt = '';
  private pending = '';
  private readonly history: string[] = [];
  /** position while browsing history; equals history.length when editing a new line */
  private historyIndex = 0;
  private draft: string[] = [];
  /** the previous character was CR, so an LF right after it (CRLF) ends no second line */
  private lastCR = false;

  constructor(private readonly write: (text: string) => void) {}

  /** The text currently being edited. */
  get line(): string {
    return this.buffer.join('');
  }
  get cursorIndex(): number {
    return this.cursor;
  }

  setPrompt(prompt: string): void {
    this.prompt = prompt;
  }

  /** Start a fresh line: print the prompt. */
  begin(): void {
    this.buffer = [];
    this.cursor = 0;
    this.historyIndex = this.history.length;
    this.write(this.prompt);
  }

  /** Remember a submitted line for ↑/↓ (consecutive duplicates and blank lines are skipped). */
  addHistory(line: string): void {
    if (line.trim() === '' || this.history[this.history.length - 1] === line) return;
    this.history.push(line);
    if (this.history.length > historyMax) this.history.shift();
    this.historyIndex = this.history.length;
  }

  get historyLines(): readonly string[] {
    return this.history;
  }

  /** Erase the prompt and line (to print something above it); `redraw()` puts them back. */
  clear(): void {
    this.write('\r\x1b[K');
  }

  redraw(): void {
    const tail = this.buffer.length - this.cursor;
    this.write(`\r${this.prompt}${this.line}\x1b[K${tail > 0 ? `\x1b[${tail}D` : ''}`);
  }

  /** Apply a completion the interpreter computed for the `complete` action. */
  applyCompletion(result: CompletionResult): void {
    if (result.candidates.length > 1) {
      this.write(`\r\n${formatColumns(result.candidates)}`);
    }
    this.buffer = [...result.line];
    this.cursor = Math.min(Math.max(result.cursor, 0), this.buffer.length);
    this.redraw();
  }

  /**
   * Feed terminal input. Returns the actions it completes (lines, completion requests,
   * interrupts, end of input) in order; the caller stops feeding after a `complete` action
   * until it has applied the result, and passes the remaining text back through `feed`.
   */
  feed(data: string): { actions: EditorAction[]; rest: string } {
    const actions: EditorAction[] = [];
    let text = this.pending + data;
    this.pending = '';
    let i = 0;
    while (i < text.length) {
      const ch = text[i] ?? '';
      if (ch === ESC) {
        this.lastCR = false;
        const seq = matchEscape(text, i);
        if (seq === null) {
          // incomplete: wait for the rest of the sequence
          this.pending = text.slice(i);
          text = text.slice(0, i);
          break;
        }
        this.onEscape(seq);
        i += seq.length;
        continue;
      }
      i += 1;
      const afterCR = this.lastCR;
      this.lastCR = ch === '\r';
      switch (ch) {
        case '\r':
        case '\n': {
          if (ch === '\n' && afterCR) break; // CRLF counts once
          const line = this.line;
          this.write('\r\n');
          this.addHistory(line);
          this.buffer = [];
          this.cursor = 0;
          actions.push({ kind: 'line', line });
          break;
        }
        case '\t':
          actions.push({ kind: 'complete', line: this.line, cursor: this.cursor });
          return { actions, rest: text.slice(i) };
        case '\x7f':
        case '\b':
          if (this.cursor > 0) {
            this.buffer.splice(this.cursor - 1, 1);
            this.cursor -= 1;
            this.redraw();
          }
          break;
        case '\x01':
          this.moveTo(0);
          break;
        case '\x05':
          this.moveTo(this.buffer.length);
          break;
        case '\x02':
          this.moveTo(this.cursor - 1);
          break;
        case '\x06':
          this.moveTo(this.cursor + 1);
          break;
        case '\x0b':
          this.buffer.splice(this.cursor);
          this.redraw();
          break;
        case '\x15':
          this.buffer.splice(0, this.cursor);
          this.cursor = 0;
          this.redraw();
          break;
        case '\x17': {
          let j = this.cursor;
          while (j > 0 && this.buffer[j - 1] === ' ') j--;
          while (j > 0 && this.buffer[j - 1] !== ' ') j--;
          this.buffer.splice(j, this.cursor - j);
          this.cursor = j;
          this.redraw();
          break;
        }
        case '\x0c':
          this.write('\x1b[H\x1b[2J');
          this.redraw();
          break;
        case '\x10':
          this.historyStep(-1);
          break;
        case '\x0e':
          this.historyStep(1);
          break;
        case '\x03':
          this.write('^C\r\n');
          this.buffer = [];
          this.cursor = 0;
          actions.push({ kind: 'interrupt' });
          break;
        case '\x04':
          if (this.buffer.length === 0) {
            this.write('\r\n');
            actions.push({ kind: 'eof' });
            return { actions, rest: '' };
          }
          this.deleteForward();
          break;
        default:
          if (ch >= ' ') this.insert(ch);
      }
    }
    return { actions, rest: '' };
  }

  private insert(ch: string): void {
    this.buffer.splice(this.cursor, 0, ch);
    this.cursor += 1;
    if (this.cursor === this.buffer.length) this.write(ch);
    else this.redraw();
  }

  private deleteForward(): void {
    if (this.cursor < this.buffer.length) {
      this.buffer.splice(this.cursor, 1);
      this.redraw();
    }
  }

  private moveTo(pos: number): void {
    const p = Math.min(Math.max(pos, 0), this.buffer.length);
    if (p === this.cursor) return;
    const d = p - this.cursor;
    this.write(d > 0 ? `\x1b[${d}C` : `\x1b[${-d}D`);
    this.cursor = p;
  }

  private historyStep(delta: number): void {
    const next = this.historyIndex + delta;
    if (next < 0 || next > this.history.length) return;
    if (this.historyIndex === this.history.length) this.draft = this.buffer;
    this.historyIndex = next;
    this.buffer = next === this.history.length ? [...this.draft] : [...(this.history[next] ?? '')];
    this.cursor = this.buffer.length;
    this.redraw();
  }

  private onEscape(seq: string): void {
    switch (seq) {
      case '\x1b[A':
      case '\x1bOA':
        this.historyStep(-1);
        break;
      case '\x1b[B':
      case '\x1bOB':
        this.historyStep(1);
        break;
      case '\x1b[C':
      case '\x1bOC':
        this.moveTo(this.cursor + 1);
        break;
      case '\x1b[D':
      case '\x1bOD':
        this.moveTo(this.cursor - 1);
        break;
      case '\x1b[H':
      case '\x1bOH':
      case '\x1b[1~':
      case '\x1b[7~':
        this.moveTo(0);
        break;
      case '\x1b[F':
      case '\x1bOF':
      case '\x1b[4~':
      case '\x1b[8~':
        this.moveTo(this.buffer.length);
        break;
      case '\x1b[3~':
        this.deleteForward();
        break;
      default:
        // unknown sequences (F-keys, mouse, bracketed-paste markers) are ignored
        break;
    }
  }
}

/**
 * The escape sequence starting at `i`, or null when the text ends inside one. CSI sequences
 * run to a final byte in @–~; SS3 (`ESC O x`) is three bytes; a lone ESC followed by another
 * character is taken as a two-byte sequence (Alt+key).
 */
function matchEscape(text: string, i: number): string | null {
  if (i + 1 >= text.length) return null;
  const next = text[i + 1];
  if (next === '[') {
    for (let j = i + 2; j < text.length && j < i + 32; j++) {
      const c = text.charCodeAt(j);
      if (c >= 0x40 && c <= 0x7e) return text.slice(i, j + 1);
    }
    return text.length - i >= 32 ? text.slice(i, i + 2) : null;
  }
  if (next === 'O') return i + 2 < text.length ? text.slice(i, i + 3) : null;
  return text.slice(i, i + 2);
}

/** Candidates laid out in rows of up to `width` columns, as a completion listing. */
export function formatColumns(items: readonly string[], width = 80): string {
  const col = Math.max(...items.map((s) => s.length)) + 2;
  const perRow = Math.max(1, Math.floor(width / col));
  const rows: string[] = [];
  for (let i = 0; i < items.length; i += perRow) {
    rows.push(items.slice(i, i + perRow).map((s, k, row) => (k === row.length - 1 ? s : s.padEnd(col))).join(''));
  }
  return rows.join('\r\n') + '\r\n';
}
