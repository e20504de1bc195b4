import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** Integration and e2e tests spawn the built `zoolab` (out/main/cli.js): say so clearly if absent. */
export default function setup(): void {
  const cli = resolve(import.meta.dirname, '../../out/main/cli.js');
  if (!existsSync(cli)) {
    throw new Error(`${cli} is missing: run 'npm run build' first (npm test does it for you).`);
  }
}
