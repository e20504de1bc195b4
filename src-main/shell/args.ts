/**
 * Command-line handling the way zkCli does it: a typed line is split on blanks with '…' and "…"
 * grouping (quotes stripped), and each command's options are read like Apache commons-cli's
 * DefaultParser (options anywhere, `-sw` clusters, `-v1` and `-v 1`, `--` ends options).
 */

/**
 * Split one typed line into words. A word starting with a quote runs to the matching quote;
 * any other word runs to the next blank (quotes inside it are kept). An unmatched quote is
 * skipped over, as zkCli's pattern does. A line of blanks only yields the word `' '` (the
 * pattern backtracks onto the last blank), which zkCli then reports as a command not found.
 */
export function tokenizeLine(line: string): string[] {
  const re = /\s*([^"']\S*|"[^"]*"|'[^']*')\s*/g;
  const words: string[] = [];
  let m: RegExpExecArray | null;
  let guard = line.length + 1;
  while ((m = re.exec(line)) !== null && guard-- > 0) {
    let w = m[1] ?? '';
    const q = /^(['"])(.*)\1$/s.exec(w);
    if (q) w = q[2] ?? '';
    words.push(w);
    if (m[0].length === 0) re.lastIndex++;
  }
  return words;
}

export interface OptionSpec {
  /** option letter → description, for options that take no value */
  flags?: Record<string, string>;
  /** option letter → description, for options that take one value */
  values?: Record<string, string>;
}

export interface ParsedOptions {
  flags: Set<string>;
  values: Map<string, string>;
  /** the non-option words, the command name first */
  args: string[];
  /** option letters in the order they were given */
  order: string[];
}

/** A commons-cli ParseException, worded as zkCli prints it (class name, colon, message). */
export class OptionParseError extends Error {
  override name = 'OptionParseError';
}

function unrecognized(token: string): OptionParseError {
  return new OptionParseError(`org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: ${token}`);
}
function missing(short: string): OptionParseError {
  return new OptionParseError(`org.apache.commons.cli.MissingArgumentException: Missing argument for option: ${short}`);
}

function isNumber(token: string): boolean {
  return /^-?\d+(\.\d+)?$/.test(token);
}

/** Parse `words` (the command name first) against `spec`; throws OptionParseError. */
export function parseOptions(words: readonly string[], spec: OptionSpec): ParsedOptions {
  const flags = spec.flags ?? {};
  const values = spec.values ?? {};
  const out: ParsedOptions = { flags: new Set(), values: new Map(), args: [], order: [] };
  let pending: string | null = null;
  let onlyArgs = false;

  const takeShort = (s: string): void => {
    out.order.push(s);
    if (s in values) pending = s;
    else out.flags.add(s);
  };

  for (const [i, token] of words.entries()) {
    if (i === 0) {
      out.args.push(token);
      continue;
    }
    if (pending !== null) {
      if (!token.startsWith('-') || token === '-' || isNumber(token)) {
        out.values.set(pending, token);
        pending = null;
        continue;
      }
      throw missing(pending);
    }
    if (onlyArgs || token === '-' || !token.startsWith('-')) {
      out.args.push(token);
      continue;
    }
    if (token === '--') {
      onlyArgs = true;
      continue;
    }
    // zkCli's options carry only a description, no long name: every --word is unknown
    if (token.startsWith('--')) throw unrecognized(token);
    const body = token.slice(1);
    if (body in flags || body in values) {
      takeShort(body);
      continue;
    }
    const first = body[0] ?? '';
    if (first in values) {
      // -v1: the rest is the value
      out.order.push(first);
      out.values.set(first, body.slice(1));
      continue;
    }
    if (first in flags) {
      // a cluster -sw; a value-taking option inside it takes the rest of the cluster
      let j = 0;
      for (; j < body.length; j++) {
        const c = body[j] ?? '';
        if (c in flags || c in values) out.order.push(c);
        if (c in flags) out.flags.add(c);
        else if (c in values) {
          const rest = body.slice(j + 1);
          if (rest.length > 0) out.values.set(c, rest);
          else pending = c;
          break;
        } else throw unrecognized(`-${c}`);
      }
      continue;
    }
    throw unrecognized(token);
  }
  if (pending !== null) throw missing(pending);
  return out;
}

/** Java's Integer.parseInt: decimal, optional sign, 32-bit range; null when it would throw. */
export function parseJavaInt(text: string): number | null {
  if (!/^[+-]?\d+$/.test(text)) return null;
  const n = Number(text);
  return n >= -2147483648 && n <= 2147483647 ? n : null;
}

/** Java's Long.parseLong; null when it would throw. */
export function parseJavaLong(text: string, radix: 10 | 16 = 10): bigint | null {
  const m = (radix === 16 ? /^([+-]?)([0-9a-fA-F]+)$/ : /^([+-]?)(\d+)$/).exec(text);
  if (!m) return null;
  const magnitude = BigInt(radix === 16 ? `0x${m[2] ?? ''}` : (m[2] ?? ''));
  const n = m[1] === '-' ? -magnitude : magnitude;
  return n >= -(2n ** 63n) && n < 2n ** 63n ? n : null;
}

/** Java's Integer.decode (redo's argument): decimal, 0x hex, # hex, 0 octal. */
export function decodeJavaInt(text: string): number | null {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|#[0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.exec(text);
  if (!m) return null;
  const body = m[2] ?? '';
  let n: number;
  if (/^0[xX]/.test(body)) n = parseInt(body.slice(2), 16);
  else if (body.startsWith('#')) n = parseInt(body.slice(1), 16);
  else if (body.length > 1 && body.startsWith('0')) n = parseInt(body, 8);
  else n = parseInt(body, 10);
  if (m[1] === '-') n = -n;
  return n >= -2147483648 && n <= 2147483647 ? n : null;
}
