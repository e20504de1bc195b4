import { describe, expect, it } from 'vitest';
import { LineEditor, formatColumns } from './line-editor';
import type { EditorAction } from './line-editor';

function editor(): { ed: LineEditor; echoed: () => string } {
  let out = '';
  const ed = new LineEditor((t) => (out += t));
  ed.setPrompt('> ');
  ed.begin();
  return { ed, echoed: () => out };
}

function lines(actions: EditorAction[]): string[] {
  return actions.flatMap((a) => (a.kind === 'line' ? [a.line] : []));
}

/**
 * A small VT100 screen (printable text with deferred wrap at the margin, CR, LF, cursor moves
 * A/B/C/D, erase J/K) to check what the editor's output looks like on a real terminal.
 */
class Screen {
  rows: string[][] = [[]];
  row = 0;
  col = 0;
  private wrapPending = false;
  constructor(readonly columns: number) {}
  private line(r: number): string[] {
    while (this.rows.length <= r) this.rows.push([]);
    return this.rows[r] as string[];
  }
  write(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i] as string;
      if (ch === '\x1b') {
        const m = /^\x1b\[(\d*)([A-DJK])/.exec(text.slice(i));
        if (!m) throw new Error(`unexpected sequence ${JSON.stringify(text.slice(i, i + 6))}`);
        const n = Number(m[1] || '1');
        const op = m[2];
        if (op === 'A') this.row = Math.max(0, this.row - n);
        else if (op === 'B') this.row += n;
        else if (op === 'C') this.col = Math.min(this.columns - 1, this.col + n);
        else if (op === 'D') this.col = Math.max(0, this.col - n);
        else if (op === 'K') this.line(this.row).splice(this.col);
        else if (op === 'J') {
          this.line(this.row).splice(this.col);
          this.rows.splice(this.row + 1);
        }
        this.wrapPending = false;
        i += m[0].length - 1;
      } else if (ch === '\r') {
        this.col = 0;
        this.wrapPending = false;
      } else if (ch === '\n') {
        this.row += 1;
        this.line(this.row);
        this.wrapPending = false;
      } else {
        if (this.wrapPending) {
          this.row += 1;
          this.col = 0;
          this.wrapPending = false;
        }
        const l = this.line(this.row);
        while (l.length < this.col) l.push(' ');
        l[this.col] = ch;
        if (this.col === this.columns - 1) this.wrapPending = true;
        else this.col += 1;
      }
    }
  }
  text(): string[] {
    return this.rows.map((r) => r.join(''));
  }
}

describe('LineEditor on a narrow terminal (lines that wrap)', () => {
  function narrow(): { ed: LineEditor; screen: Screen } {
    const screen = new Screen(10);
    const ed = new LineEditor((t) => screen.write(t));
    ed.setColumns(10);
    ed.setPrompt('> ');
    ed.begin();
    return { ed, screen };
  }

  it('typing past the margin continues on the next row; the cursor follows', () => {
    const { ed, screen } = narrow();
    ed.feed('get -s /abcdefgh');
    expect(screen.text()).toEqual(['> get -s /', 'abcdefgh']);
    expect([screen.row, screen.col]).toEqual([1, 8]);
    ed.feed('ij');
    expect(screen.text()).toEqual(['> get -s /', 'abcdefghij', '']);
    expect([screen.row, screen.col]).toEqual([2, 0]);
  });

  it('moving home and editing in the middle redraws every row in place', () => {
    const { ed, screen } = narrow();
    ed.feed('get -s /abcdefghij');
    ed.feed('\x01');
    expect([screen.row, screen.col]).toEqual([0, 2]);
    ed.feed('X');
    expect(screen.text()).toEqual(['> Xget -s ', '/abcdefghi', 'j']);
    expect([screen.row, screen.col]).toEqual([0, 3]);
    ed.feed('\x05\x7f\x7f\x7f');
    expect(screen.text()).toEqual(['> Xget -s ', '/abcdefg']);
    expect(ed.line).toBe('Xget -s /abcdefg');
  });

  it('history recall of a long line replaces all its rows; Enter leaves the cursor below it', () => {
    const { ed, screen } = narrow();
    ed.feed('create /a/very/long/path\r');
    ed.begin();
    ed.feed('ls');
    ed.feed('\x1b[A');
    expect(screen.text().slice(-3)).toEqual(['> create /', 'a/very/lon', 'g/path']);
    ed.feed('\x1b[B');
    expect(screen.text().slice(-1)).toEqual(['> ls']);
    ed.feed('\r');
    expect(screen.col).toBe(0);
  });

  it('clear() erases a wrapped line so a message can take its place', () => {
    const { ed, screen } = narrow();
    ed.feed('abcdefghijkl');
    ed.clear();
    screen.write('event\r\n');
    ed.redraw();
    expect(screen.text()).toEqual(['event', '> abcdefgh', 'ijkl']);
  });
});

describe('LineEditor', () => {
  it('typed text is echoed; Enter ends the line', () => {
    const { ed, echoed } = editor();
    const r = ed.feed('ls /\r');
    expect(lines(r.actions)).toEqual(['ls /']);
    expect(echoed()).toBe('\r\x1b[J> ls /\r\n');
  });

  it('CRLF and a CR split across two chunks end one line, not two', () => {
    const { ed } = editor();
    expect(lines(ed.feed('a\r\nb\r').actions)).toEqual(['a', 'b']);
    expect(lines(ed.feed('\nc\n').actions)).toEqual(['c']);
  });

  it('backspace, left arrow and insertion in the middle', () => {
    const { ed } = editor();
    ed.feed('lx\x7fs/');
    ed.feed('\x1b[D \r');
    expect(ed.historyLines).toEqual(['ls /']);
  });

  it('an escape sequence split across chunks is kept until complete', () => {
    const { ed } = editor();
    ed.feed('ab');
    ed.feed('\x1b');
    ed.feed('[');
    ed.feed('D');
    expect(ed.cursorIndex).toBe(1);
    ed.feed('X');
    expect(ed.line).toBe('aXb');
  });

  it('Home/End, Ctrl-A/E, Ctrl-K, Ctrl-U, Ctrl-W', () => {
    const { ed } = editor();
    ed.feed('get -s /a');
    ed.feed('\x17');
    expect(ed.line).toBe('get -s ');
    ed.feed('\x01\x1b[3~');
    expect(ed.line).toBe('et -s ');
    ed.feed('\x1b[F\x1b[D\x1b[D\x0b');
    expect(ed.line).toBe('et -');
    ed.feed('\x1b[D\x15');
    expect(ed.line).toBe('-');
    ed.feed('\x1b[H');
    expect(ed.cursorIndex).toBe(0);
  });

  it('up/down walk the history and bring back the draft', () => {
    const { ed } = editor();
    ed.feed('ls /\rget /a\r');
    ed.feed('sta');
    ed.feed('\x1b[A');
    expect(ed.line).toBe('get /a');
    ed.feed('\x1b[A\x1b[A');
    expect(ed.line).toBe('ls /');
    ed.feed('\x1b[B\x1b[B');
    expect(ed.line).toBe('sta');
  });

  it('history skips blank lines and consecutive duplicates', () => {
    const { ed } = editor();
    ed.feed('ls /\r\rls /\r  \rget /\r');
    expect(ed.historyLines).toEqual(['ls /', 'get /']);
  });

  it('Tab stops feeding and asks for a completion; the rest comes back', () => {
    const { ed } = editor();
    const r = ed.feed('ls /zo\tmore');
    expect(r.actions).toEqual([{ kind: 'complete', line: 'ls /zo', cursor: 6 }]);
    expect(r.rest).toBe('more');
    ed.applyCompletion({ line: 'ls /zookeeper', cursor: 13, candidates: [] });
    expect(ed.line).toBe('ls /zookeeper');
  });

  it('Ctrl-C drops the line; Ctrl-D on an empty line is end of input, else delete', () => {
    const { ed } = editor();
    expect(ed.feed('abc\x03').actions).toEqual([{ kind: 'interrupt' }]);
    expect(ed.line).toBe('');
    ed.feed('ab\x01\x04');
    expect(ed.line).toBe('b');
    ed.feed('\x05\x15');
    expect(ed.feed('\x04').actions).toEqual([{ kind: 'eof' }]);
  });

  it('candidates are listed in columns', () => {
    expect(formatColumns(['a', 'bb', 'ccc'], 10)).toBe('a    bb\r\nccc\r\n');
  });
});
