/** Split SERVER_JVMFLAGS into words (honouring simple '…' and "…" quoting) and keep -Dk=v. */
export function parseJvmFlags(flags: string | undefined): { properties: Map<string, string>; ignored: string[] } {
  const properties = new Map<string, string>();
  const ignored: string[] = [];
  if (!flags) return { properties, ignored };
  const words: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let inWord = false;
  for (const c of flags) {
    if (quote) {
      if (c === quote) quote = null;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  for (const w of words) {
    if (w.startsWith('-D') && w.length > 2) {
      const eq = w.indexOf('=');
      if (eq === -1) properties.set(w.slice(2), '');
      else properties.set(w.slice(2, eq), w.slice(eq + 1));
    } else {
      ignored.push(w);
    }
  }
  return { properties, ignored };
}
