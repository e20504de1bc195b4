/**
 * Serves the built renderer from one folder. Paths are resolved inside that folder only
 * (no `..`, no absolute paths, no symlink escapes); unknown paths without an extension get
 * index.html so a reload on a client-side route still works.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** Maps a URL path to a file inside `root`, or null when it would leave it. */
export function resolveInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const rootAbs = resolve(root);
  const target = resolve(join(rootAbs, decoded));
  if (target !== rootAbs && !target.startsWith(rootAbs + sep)) return null;
  return target;
}

async function fileIfInside(rootReal: string, path: string): Promise<{ path: string; size: number } | null> {
  try {
    const real = await realpath(path);
    if (real !== rootReal && !real.startsWith(rootReal + sep)) return null;
    const s = await stat(real);
    return s.isFile() ? { path: real, size: s.size } : null;
  } catch {
    return null;
  }
}

export async function serveStatic(
  root: string,
  urlPath: string,
  headOnly: boolean,
  res: ServerResponse,
  headers: Record<string, string>,
): Promise<void> {
  const notFound = (text: string) => {
    res.writeHead(404, { ...headers, 'content-type': 'text/plain; charset=utf-8' });
    res.end(text);
  };
  let rootReal: string;
  try {
    rootReal = await realpath(root);
  } catch {
    return notFound(`The UI is not built (${root} is missing): run 'npm run build'.\n`);
  }
  const wanted = resolveInside(rootReal, urlPath === '/' ? '/index.html' : urlPath);
  if (wanted === null) return notFound('404 Not Found\n');
  let file = await fileIfInside(rootReal, wanted);
  if (file === null && extname(wanted) === '') file = await fileIfInside(rootReal, join(rootReal, 'index.html'));
  if (file === null) return notFound('404 Not Found\n');
  const type = contentTypes[extname(file.path).toLowerCase()] ?? 'application/octet-stream';
  // hashed assets can be cached; index.html must not be (it names the current hashes)
  const cache = file.path.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-store';
  res.writeHead(200, { ...headers, 'content-type': type, 'content-length': String(file.size), 'cache-control': cache });
  if (headOnly) {
    res.end();
    return;
  }
  const stream = createReadStream(file.path);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
