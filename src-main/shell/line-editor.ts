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
  /** terminal width, for lines that wrap */
  private columns = 80;
  /** the row (from the prompt's first row) where the terminal cursor is now */
  private cursorRow = 0;

  constructor(private readonly write: (text: string) => void) {}

  /** The terminal's width changed (xterm fit, SIGWINCH). */
  setColumns(columns: number): void {
    if (Number.isInteger(columns) && columns > 0) this.columns = columns;
  }

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

  /** Start a fresh line (the terminal cursor is at the start of an empty row): print the prompt. */
  begin(): void {
    this.buffer = [];
    this.cursor = 0;
    this.historyIndex = this.history.length;
    this.cursorRow = 0;
    this.render();
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

  /** Erase the prompt and line (to print something in their place); `redraw()` puts them back below it. */
  clear(): void {
    this.write(`${this.cursorRow > 0 ? `\x1b[${this.cursorRow}A` : ''}\r\x1b[J`);
    this.cursorRow = 0;
  }

  /** Draw the prompt and line again where they are (after an edit), cursor in place. */
  redraw(): void {
    this.render();
  }

  /** Apply a completion the interpreter computed for the `complete` action. */
  applyCompletion(result: CompletionResult): void {
    if (result.candidates.length > 1) {
      this.moveToEnd();
      this.write(`\r\n${formatColumns(result.candidates, this.columns)}`);
      this.cursorRow = 0;
    }
    this.buffer = [...result.line];
    this.cursor = Math.min(Math.max(result.cursor, 0), this.buffer.length);
    this.render();
  }

  /** row and column of a position in prompt+line, counting every character as one cell */
  private cell(index: number): { row: number; col: number } {
    const pos = this.prompt.length + index;
    return { row: Math.floor(pos / this.columns), col: pos % this.columns };
  }

  /**
   * Redraw from the prompt's first row: clear below, write prompt and line, then put the cursor
   * back. When the text ends exactly at the right margin the terminal holds the cursor there
   * (deferred wrap), so a line break is written to make the next row real.
   */
  private render(): void {
    let out = `${this.cursorRow > 0 ? `\x1b[${this.cursorRow}A` : ''}\r\x1b[J${this.prompt}${this.line}`;
    const total = this.prompt.length + this.buffer.length;
    let endRow = Math.floor(total / this.columns);
    if (total > 0 && total % this.columns === 0) {
      out += '\r\n';
    } else if (total % this.columns === 0) {
      endRow = 0;
    }
    const target = this.cell(this.cursor);
    const atEnd = this.cursor === this.buffer.length && total % this.columns !== 0;
    if (!atEnd) {
      if (endRow > target.row) out += `\x1b[${endRow - target.row}A`;
      out += '\r';
      if (target.col > 0) out += `\x1b[${target.col}C`;
    }
    this.write(out);
    this.cursorRow = target.row;
  }

  /** Put the terminal cursor after the last character (before Enter or a listing). */
  private moveToEnd(): void {
    this.moveTo(this.buffer.length);
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
          this.moveToEnd();
          this.write('\r\n');
          this.cursorRow = 0;
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
          this.cursorRow = 0;
          this.render();
          break;
        case '\x10':
          this.historyStep(-1);
          break;
        case '\x0e':
          this.historyStep(1);
          break;
        case '\x03':
          this.moveToEnd();
          this.write('^C\r\n');
          this.cursorRow = 0;
          this.buffer = [];
          this.cursor = 0;
          actions.push({ kind: 'interrupt' });
          break;
        case '\x04':
          if (this.buffer.length === 0) {
            this.write('\r\n');
            this.cursorRow = 0;
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
    const at = this.cell(this.cursor);
    if (this.cursor === this.buffer.length && at.col !== 0) {
      // typing at the end of the line, not at the margin: plain echo
      this.write(ch);
      this.cursorRow = at.row;
    } else {
      this.render();
    }
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
    const from = this.cell(this.cursor);
    const to = this.cell(p);
    let out = '';
    if (to.row < this.cursorRow) out += `\x1b[${this.cursorRow - to.row}A`;
    else if (to.row > this.cursorRow) out += `\x1b[${to.row - this.cursorRow}B`;
    if (to.row === from.row && to.row === this.cursorRow) {
      const d = to.col - from.col;
      out += d > 0 ? `\x1b[${d}C` : `\x1b[${-d}D`;
    } else {
      out += `\r${to.col > 0 ? `\x1b[${to.col}C` : ''}`;
    }
    this.write(out);
    this.cursor = p;
    this.cursorRow = to.row;
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
