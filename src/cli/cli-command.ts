/** A command an area contributes to the CLI: its arguments, where to print; resolves to the exit code. */
export type CliCommand = (
  args: string[],
  out: { log: (s: string) => void; error: (s: string) => void },
) => Promise<number>;
