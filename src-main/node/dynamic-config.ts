/**
 * The files ZooKeeper 3.5+ keeps for dynamic reconfiguration (reconfigEnabled=true): each
 * membership a server activates is written to `<zoo.cfg>.dynamic.<version hex>` (the server.N
 * lines; the version is in the name), and zoo.cfg is rewritten without its server.N lines and
 * with `dynamicConfigFile=<that file>`; the first rewrite keeps the original as `zoo.cfg.bak`.
 * A restart then reads the newest membership (config.ts).
 *
 * ZooKeeper writes the static keys back in hash order; ZooLab keeps the file's own lines and
 * order (comments too), which reads better and parses the same.
 */
import { existsSync, renameSync, writeFileSync, readFileSync, copyFileSync } from 'node:fs';
import type { Membership } from '../common/membership';

export function dynamicConfigPath(cfgPath: string, version: bigint): string {
  return `${cfgPath}.dynamic.${version.toString(16)}`;
}

/** The static zoo.cfg text with the server.N / dynamicConfigFile / version lines replaced by one dynamicConfigFile line. */
export function staticConfigText(original: string, dynamicFile: string): string {
  const kept: string[] = [];
  for (const line of original.split(/\r?\n/)) {
    const key = line.trim().split(/[=:\s]/, 1)[0] ?? '';
    if (/^server\.\d+$/.test(key) || key === 'dynamicConfigFile' || key === 'version' || /^(group|weight)\./.test(key)) continue;
    kept.push(line);
  }
  while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop();
  kept.push(`dynamicConfigFile=${dynamicFile}`);
  return `${kept.join('\n')}\n`;
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Write the membership's dynamic file and point zoo.cfg at it. Returns the dynamic file's path. */
export function writeDynamicConfig(cfgPath: string, membership: Membership): string {
  const dynamicFile = dynamicConfigPath(cfgPath, membership.version);
  writeAtomically(dynamicFile, membership.serverLines());
  const original = readFileSync(cfgPath, 'utf8');
  const bak = `${cfgPath}.bak`;
  if (!existsSync(bak) && !/^\s*dynamicConfigFile\s*=/m.test(original)) copyFileSync(cfgPath, bak);
  const next = staticConfigText(original, dynamicFile);
  if (next !== original) writeAtomically(cfgPath, next);
  return dynamicFile;
}
