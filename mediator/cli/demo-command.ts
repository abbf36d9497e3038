/**
 * `vfmed demo [--frames N] [--size BYTES] [--json] [--log-level L]`: the README's main
 * command. Runs mediator/demo/runner-demo.ts — the embedded daemon (emulated PF, 2 VFs,
 * PF driver, vfio-user sockets) and two guest runner processes passing verified traffic
 * VF0 -> VF1 -> VF0 — and prints its summary, or its JSON with --json.
 *
 * `--in-process` runs the older single-process demo instead (mediator/demo/demo.ts: the
 * same device and PF driver driven by TypeScript poll-mode drivers, no sockets, no guest
 * processes; streams in both directions and broadcasts to the uplink).
 *
 * Exit status 0 only when every frame arrived intact where it should; 1 otherwise (the
 * report still shows what went wrong); 2 for usage errors.
 */
import type { Command } from 'commander';
import { runDemo, type DemoResult } from '../demo/demo.js';
import { demoJson, renderDemo } from '../demo/demo-report.js';
import { runRunnerDemo, type RunnerDemoResult } from '../demo/runner-demo.js';
import { renderRunnerDemo, runnerDemoJson } from '../demo/runner-demo-report.js';
import { CommandFailed, oneLine } from './failure.js';
import { createLogger, type LogLevel } from './log.js';
import { EXIT_USAGE, intOption, logLevelOption } from './options.js';

export const MAX_DEMO_FRAMES = 100_000_000;
export const MAX_INPROCESS_FRAMES = 1_000_000;
export const DEFAULT_DEMO_FRAMES = 100_000;
export const DEFAULT_INPROCESS_FRAMES = 256;

interface DemoFlags {
  frames?: number;
  size?: number;
  inProcess?: boolean;
  json?: boolean;
  logLevel: string;
}

export function addDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the embedded default: a PF with 2 VFs in the daemon, two guest runner processes passing verified traffic')
    .option('-n, --frames <n>', `frames guest A sends and must get back, 1..${MAX_DEMO_FRAMES} (default ${DEFAULT_DEMO_FRAMES}; `
      + `--in-process: frames per stream, at most ${MAX_INPROCESS_FRAMES}, default ${DEFAULT_INPROCESS_FRAMES})`,
    intOption(1, MAX_DEMO_FRAMES))
    .option('--size <bytes>', 'frame length without FCS, 60..1514 (default 60: 64-byte frames)', intOption(60, 1514))
    .option('--in-process', 'the single-process demo: TypeScript drivers instead of guest runners, no sockets')
    .option('--json', 'print the result as JSON instead of tables')
    .option('--log-level <level>', 'structured log level on stderr (fatal..trace, silent)', logLevelOption, 'warn')
    .action(async (flags: DemoFlags) => {
      const log = createLogger(flags.logLevel as LogLevel);
      if (flags.inProcess) {
        if (flags.size !== undefined) throw new CommandFailed('vfmed: error: --size applies to the guest runner demo, not --in-process', EXIT_USAGE);
        const frames = flags.frames ?? DEFAULT_INPROCESS_FRAMES;
        if (frames > MAX_INPROCESS_FRAMES) {
          throw new CommandFailed(`vfmed: error: --in-process takes at most ${MAX_INPROCESS_FRAMES} frames per stream`, EXIT_USAGE);
        }
        let result: DemoResult;
        try {
          result = runDemo({ frames, log });
        } catch (e) {
          log.debug({ err: e }, 'demo failed');
          throw new CommandFailed(`vfmed demo: ${oneLine(e)}`);
        }
        process.stdout.write(flags.json ? demoJson(result) : renderDemo(result));
        if (!result.ok) {
          throw new CommandFailed(`vfmed demo: verification failed (${result.problems[0] ?? 'frames missing'})`);
        }
        return;
      }
      let r: RunnerDemoResult;
      try {
        r = await runRunnerDemo({ frames: flags.frames ?? DEFAULT_DEMO_FRAMES, size: flags.size ?? 60, log });
      } catch (e) {
        log.debug({ err: e }, 'demo failed');
        throw new CommandFailed(`vfmed demo: ${oneLine(e)}`);
      }
      process.stdout.write(flags.json ? runnerDemoJson(r) : renderRunnerDemo(r));
      if (!r.ok) throw new CommandFailed(`vfmed demo: verification failed (${r.problems[0]})`);
    });
}
