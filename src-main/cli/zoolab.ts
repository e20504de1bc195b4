/**
 * `zoolab` — one command, several subcommands. Each subcommand lives in its own module and is
 * loaded on demand so that `zoolab server` starts fast.
 */
const USAGE = `usage: zoolab <command> [args]

commands:
  server <zoo.cfg>      run one ZooKeeper-compatible server
  up [-n 3] [options]   run a local ensemble in the foreground (Ctrl-C stops it)
  shell [-server h:p]   a zkCli-compatible shell
  app [--web]           the ZooLab app (Electron when it can run, else a browser UI)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'server':
      return (await import('../node/server-main')).serverMain(rest);
    case 'up':
    case 'status':
    case 'kill':
    case 'restart':
    case 'pause':
    case 'resume':
    case 'down':
    case 'add-server':
    case 'remove-server':
    case 'set-role':
      return (await import('../supervisor/cli')).supervisorCli(command, rest);
    case 'shell':
      return (await import('../shell/cli')).shellMain(rest);
    case 'app':
      return (await import('../web/app-main')).appMain(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`zoolab: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as { code?: string; message?: string };
    process.stderr.write(`zoolab: ${e.message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
