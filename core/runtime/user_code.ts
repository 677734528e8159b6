/**
 * Whether code that is not fanout's own (a user's plugin) was loaded into
 * this process. fanout's own code leaves nothing pending once main()
 * returns (cli_exit.test.ts), so cli.ts ends such a process at once with
 * process.exit, which skips the runtime's wind-down after an emptied event
 * loop (4–9 ms of a one-task run, docs/benchmarks.md). A plugin may have
 * left timers or sockets behind: a process that loaded one ends the usual
 * way, giving them a moment.
 */
let loaded = false;

/** Called before a user's module is imported. */
export function noteUserCode(): void {
  loaded = true;
}

/** Whether noteUserCode was called in this process. */
export function userCodeLoaded(): boolean {
  return loaded;
}
