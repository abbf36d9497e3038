/**
 * `vfmed demo [--frames N] [--json] [--log-level L]`: runs mediator/demo/demo.ts (the
 * emulated PF with 2 VFs, the PF driver, two poll-mode drivers, verified traffic) and prints
 * its summary table, or its JSON with --json. Exit status 0 only when every frame arrived
 * intact where it should; 1 otherwise (the report still shows what went wrong).
 */
import type { Command } from 'commander';
import { runDemo, type DemoResult } from '../demo/demo.js';
import { demoJson, renderDemo } from '../demo/demo-report.js';
import { CommandFailed, oneLine } from './failure.js';
import { createLogger, type LogLevel } from './log.js';
import { intOption, logLevelOption } from './options.js';

export const MAX_DEMO_FRAMES = 1_000_000;

interface DemoFlags {
  frames: number;
  json?: boolean;
  logLevel: string;
}

export function addDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('bring up an emulated PF with 2 VFs through the PF driver and pass verified traffic between them')
    .option('-n, --frames <n>', `frames per stream, 1..${MAX_DEMO_FRAMES}`, intOption(1, MAX_DEMO_FRAMES), 256)
    .option('--json', 'print the result as JSON instead of tables')
    .option('--log-level <level>', 'structured log level on stderr (fatal..trace, silent)', logLevelOption, 'warn')
    .action((flags: DemoFlags) => {
      const log = createLogger(flags.logLevel as LogLevel);
      let result: DemoResult;
      try {
        result = runDemo({ frames: flags.frames, log });
      } catch (e) {
        log.debug({ err: e }, 'demo failed');
        throw new CommandFailed(`vfmed demo: ${oneLine(e)}`);
      }
      process.stdout.write(flags.json ? demoJson(result) : renderDemo(result));
      if (!result.ok) {
        throw new CommandFailed(`vfmed demo: verification failed (${result.problems[0] ?? 'frames missing'})`);
      }
    });
}
