/**
 * java.util.Properties text syntax, as ZooKeeper reads zoo.cfg with `Properties.load`:
 * `#`/`!` comment lines, key and value separated by `=`, `:` or whitespace, a trailing odd
 * number of backslashes continues the logical line (leading whitespace of the continuation
 * is dropped), `\t \n \r \f \uXXXX` escapes, any other `\x` is `x`. Unlike Properties we keep
 * the line number each entry started on, so a bad entry can be named as file:line.
 */
export interface PropertyEntry {
  key: string;
  value: string;
  /** 1-based line number where the logical line starts */
  line: number;
}

export class PropertiesSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

const WS = new Set([' ', '\t', '\f']);

export function parseProperties(text: string): PropertyEntry[] {
  const natural = text.split(/\r\n|\r|\n/);
  const entries: PropertyEntry[] = [];
  let i = 0;
  while (i < natural.length) {
    const startLine = i + 1;
    let line = stripLeadingWs(natural[i] ?? '');
    i += 1;
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    // join continuation lines
    let guard = 0;
    while (endsWithOddBackslashes(line) && i < natural.length) {
      guard += 1;
      if (guard > natural.length) break;
      line = line.slice(0, -1) + stripLeadingWs(natural[i] ?? '');
      i += 1;
    }
    if (endsWithOddBackslashes(line)) line = line.slice(0, -1); // continuation at end of file
    entries.push(splitEntry(line, startLine));
  }
  return entries;
}

function stripLeadingWs(s: string): string {
  let k = 0;
  while (k < s.length && WS.has(s[k] as string)) k += 1;
  return s.slice(k);
}

function endsWithOddBackslashes(s: string): boolean {
  let n = 0;
  for (let k = s.length - 1; k >= 0 && s[k] === '\\'; k -= 1) n += 1;
  return n % 2 === 1;
}

function splitEntry(line: string, lineNo: number): PropertyEntry {
  let k = 0;
  let keyEnd = line.length;
  let valueStart = line.length;
  while (k < line.length) {
    const c = line[k] as string;
    if (c === '\\') {
      k += 2;
      continue;
    }
    if (c === '=' || c === ':') {
      keyEnd = k;
      valueStart = k + 1;
      break;
    }
    if (WS.has(c)) {
      keyEnd = k;
      let m = k;
      while (m < line.length && WS.has(line[m] as string)) m += 1;
      if (line[m] === '=' || line[m] === ':') m += 1;
      valueStart = m;
      break;
    }
    k += 1;
  }
  const rawValue = stripLeadingWs(line.slice(Math.min(valueStart, line.length)));
  return {
    key: unescape(line.slice(0, keyEnd), lineNo),
    value: unescape(rawValue, lineNo),
    line: lineNo,
  };
}

function unescape(s: string, lineNo: number): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let k = 0; k < s.length; k += 1) {
    const c = s[k] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    k += 1;
    const e = s[k];
    if (e === undefined) break;
    switch (e) {
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u': {
        const h = s.slice(k + 1, k + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(h)) {
          throw new PropertiesSyntaxError(lineNo, `malformed \\uxxxx escape '\\u${h}'`);
        }
        out += String.fromCharCode(parseInt(h, 16));
        k += 4;
        break;
      }
      default:
        out += e;
    }
  }
  return out;
}
