/**
 * What every shell command shares: the error it raises, the context it runs in, its definition.
 */
import type { OptionSpec, ParsedOptions } from './args';
import type { ShellZk } from './zk-port';

/** A failed command: its message (printed on stderr) and zkCli's exit status for it. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * What zkCli does on a number it cannot parse: the JVM dies with the exception. The one-shot
 * shell does the same (status 1); the interactive one reports it and carries on.
 */
export class JavaCrash extends Error {
  override name = 'JavaCrash';
}

export interface CommandContext {
  zk: ShellZk;
  out(text: string): void;
  err(text: string): void;
  timeZone?: string;
  /**
   * reads a local file (reconfig -file); rejects with an Error worded as Java's
   * FileNotFoundException (`<path> (No such file or directory)`). Absent: no file access here.
   */
  readFile?(path: string): Promise<string>;
}

export interface CommandDef {
  name: string;
  /** the usage text after the name, as zkCli's help lists it */
  usage: string;
  options?: OptionSpec;
  run?(ctx: CommandContext, opts: ParsedOptions): Promise<void>;
}

