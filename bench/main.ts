#!/usr/bin/env node
/**
 * Stand-alone entry of the benchmark harness: `node dist/bench/main.js [bench arguments]`
 * behaves exactly like `vfmed bench [bench arguments]` (same options, output and exit
 * status). Used by the tests and usable before or without the vfmed CLI.
 */
import { runBenchCli } from './cli.js';

runBenchCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`vfmed bench: internal error: ${String((e as Error)?.message ?? e).split('\n')[0]}\n`);
    process.exitCode = 1;
  },
);
