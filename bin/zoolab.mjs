#!/usr/bin/env node
// The `zoolab` command: runs the built CLI bundle.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
const cli = fileURLToPath(new URL('../out/main/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write(`zoolab: ${cli} is missing; run 'npm run build' in the ZooLab folder first.\n`);
  process.exit(1);
}
await import(pathToFileURL(cli).href);
