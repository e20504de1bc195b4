/**
 * What zkCli does with configuration text on the client side: `config -c`
 * (ConfigUtils.getClientConfigStr) and `reconfig -file` (java.util.Properties.load, then
 * QuorumPeerConfig.parseDynamicConfig(...).toString()). Both walk a java.util.Properties, whose
 * iteration order (a ConcurrentHashMap's: by String.hashCode bucket) shows in the output, so
 * that order is reproduced here.
 */
import { DynamicConfigError, formatServerLine, parseServerLine, type ServerSpec } from '../client/dynamic-config';

/** java.lang.String.hashCode */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * Keys in the order a java.util.Properties (Java 9+: a ConcurrentHashMap of initial capacity 8,
 * i.e. a 16-bucket table) iterates them: by bucket, then insertion order within a bucket. Exact
 * below 12 keys (the first resize); larger tables are approximated by the grown bucket count.
 */
export function javaPropertiesOrder(keys: readonly string[]): string[] {
  let buckets = 16;
  while (keys.length >= buckets - (buckets >>> 2)) buckets *= 2;
  const bucketOf = (k: string): number => {
    const h = javaHash(k);
    return ((h ^ (h >>> 16)) & 0x7fffffff) & (buckets - 1);
  };
  return keys
    .map((k, i) => ({ k, i, b: bucketOf(k) }))
    .sort((x, y) => x.b - y.b || x.i - y.i)
    .map((e) => e.k);
}

/**
 * java.util.Properties.load: `key=value`, `key:value` or `key value` lines, `#`/`!` comments,
 * backslash escapes and line continuations. A repeated key keeps its first position, last value.
 */
export function loadJavaProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const rawLines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < rawLines.length; i++) {
    let line = (rawLines[i] ?? '').replace(/^[ \t\f]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    // a line ending in an odd number of backslashes continues on the next one
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < rawLines.length) {
      i += 1;
      line = line.slice(0, -1) + (rawLines[i] ?? '').replace(/^[ \t\f]+/, '');
    }
    let k = 0;
    let key = '';
    while (k < line.length) {
      const c = line[k] ?? '';
      if (c === '\\') {
        key += unescape(line[k + 1] ?? '');
        k += 2;
        continue;
      }
      if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break;
      key += c;
      k += 1;
    }
    while (k < line.length && /[ \t\f]/.test(line[k] ?? '')) k += 1;
    if (line[k] === '=' || line[k] === ':') k += 1;
    while (k < line.length && /[ \t\f]/.test(line[k] ?? '')) k += 1;
    let value = '';
    while (k < line.length) {
      const c = line[k] ?? '';
      if (c === '\\') {
        if (line[k + 1] === 'u' && /^[0-9a-fA-F]{4}$/.test(line.slice(k + 2, k + 6))) {
          value += String.fromCharCode(parseInt(line.slice(k + 2, k + 6), 16));
          k += 6;
          continue;
        }
        value += unescape(line[k + 1] ?? '');
        k += 2;
        continue;
      }
      value += c;
      k += 1;
    }
    out.set(key, value);
  }
  return out;
}

function unescape(c: string): string {
  switch (c) {
    case 't':
      return '\t';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 'f':
      return '\f';
    default:
      return c;
  }
}

/** `config -c`: `<version> host:port,…`, the client addresses in zkCli's (Properties) order. */
export function clientConfigString(config: string): string {
  const props = loadJavaProperties(config);
  let version = '';
  const addresses: string[] = [];
  for (const rawKey of javaPropertiesOrder([...props.keys()])) {
    const key = rawKey.trim();
    const value = (props.get(rawKey) ?? '').trim();
    if (key === 'version') version = value;
    if (!key.startsWith('server.')) continue;
    const semi = value.indexOf(';');
    if (semi < 0) continue;
    const client = value.slice(semi + 1);
    const colon = client.lastIndexOf(':');
    addresses.push(colon < 0 ? `0.0.0.0:${client}` : client);
  }
  return `${version} ${addresses.join(',')}`;
}

/**
 * `reconfig -file`: the membership text zkCli sends for a dynamic config file (QuorumMaj.toString:
 * `server.N=…` lines by id, then `version=<hex>`), or a DynamicConfigError worded as ZooKeeper's.
 */
export function membersFromConfigFile(text: string): string {
  const props = loadJavaProperties(text);
  let version = 0n;
  const servers: ServerSpec[] = [];
  for (const rawKey of javaPropertiesOrder([...props.keys()])) {
    const key = rawKey.trim();
    if (key.startsWith('group') || key.startsWith('weight')) {
      throw new DynamicConfigError(`${key}: hierarchical quorums (group/weight) are not supported`);
    }
    if (!key.startsWith('server.') && key !== 'version') throw new DynamicConfigError(`Unrecognised parameter: ${key}`);
  }
  for (const rawKey of javaPropertiesOrder([...props.keys()])) {
    const key = rawKey.trim();
    const value = (props.get(rawKey) ?? '').trim();
    if (key === 'version') {
      if (!/^[0-9a-fA-F]+$/.test(value)) throw new DynamicConfigError(`For input string: "${value}"`);
      version = BigInt(`0x${value}`);
    } else {
      const idText = key.slice(key.indexOf('.') + 1);
      if (!/^[+-]?\d+$/.test(idText)) throw new DynamicConfigError(`For input string: "${idText}"`);
      servers.push(parseServerLine(Number(idText), value));
    }
  }
  if (!servers.some((s) => s.role === 'participant') && servers.some((s) => s.role === 'observer')) {
    throw new DynamicConfigError('Observers w/o participants is an invalid configuration');
  }
  servers.sort((a, b) => a.id - b.id);
  return [...servers.map((s) => `${formatServerLine(s)}\n`), `version=${version.toString(16)}`].join('');
}
