/**
 * Runs the built app as a user would (`node out/main/cli.js app --web --no-open --dir D`),
 * reads the URL it prints, and stops it with SIGTERM, waiting for a clean exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/** the built CLI; ZOOLAB_CLI points elsewhere (a private build) */
export const cliPath = process.env['ZOOLAB_CLI'] ?? resolve(import.meta.dirname, '../../out/main/cli.js');

export interface AppProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then wait for the exit; SIGKILL if it does not come before the deadline */
  stop(deadlineMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startApp(args: string[], urlDeadlineMs = 30_000, env: NodeJS.ProcessEnv = process.env): Promise<AppProcess> {
  const child = spawn(process.execPath, [cliPath, 'app', '--web', '--no-open', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));

  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed within ${urlDeadlineMs} ms; output:\n${out}`)), urlDeadlineMs);
    const look = () => {
      const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[0]);
      }
    };
    child.stdout?.on('data', look);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`zoolab app exited (${code}) before printing a URL; output:\n${out}`));
    });
    look();
  });

  return {
    url,
    child,
    output: () => out,
    async stop(deadlineMs = 20_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
  };
}
