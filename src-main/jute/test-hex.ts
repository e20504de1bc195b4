/** Test helpers: hex <-> bytes, so byte vectors read like a protocol dump. */
export function hexBytes(text: string): Uint8Array {
  const clean = text.replace(/[^0-9a-fA-F]/g, '');
  if (clean.length % 2 !== 0) throw new Error(`odd hex length in ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** hex of an ASCII string */
export function asciiHex(s: string): string {
  return Array.from(s, (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
}
