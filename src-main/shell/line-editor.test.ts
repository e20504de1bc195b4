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

describe('LineEditor', () => {
  it('typed text is echoed; Enter ends the line', () => {
    const { ed, echoed } = editor();
    const r = ed.feed('ls /\r');
    expect(lines(r.actions)).toEqual(['ls /']);
    expect(echoed()).toBe('> ls /\r\n');
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
