/**
 * `vfmed bench`: the command-line face of the benchmark harness.
 *
 *   vfmed bench [scenario...] [--quick] [--out DIR] [--no-progress]
 *   vfmed bench --compare A.json B.json [--out DIR]
 *   vfmed bench --list | --print-schema
 *
 * Mounting (mediator/cli/main.ts): `addBenchCommand(program)` next to addDemoCommand; the
 * program's error policy applies unchanged. `runBenchCli(argv)` runs the same command on
 * its own (bench/main.ts, tests) with that policy built in. Exit status: 0 done; 1 the
 * command ran and failed (a trial failed, a pending scenario was asked for, a result file
 * is invalid); 2 usage error; 130 interrupted. Every error is one line on stderr; stdout
 * carries only tables (or the schema / listing).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { CommandFailed, oneLine } from '../mediator/cli/failure.js';
import { EXIT_FAILURE, EXIT_USAGE } from '../mediator/cli/options.js';
import { joinTitles, missingComponents } from './components.js';
import { BenchRefused, prepareOutDir, runBench } from './harness/run-bench.js';
import { BenchAborted, sizeOf } from './harness/runner.js';
import { chooseProgress } from './progress.js';
import { comparisonMarkdown, compareResults, renderComparison } from './report/compare.js';
import { RESULT_SCHEMA } from './report/result-schema.js';
import { renderTerminal } from './report/terminal.js';
import { readResultFile } from './report/validate.js';
import type { ScenarioTable } from './scenario-types.js';
import { SCENARIOS } from './scenarios/index.js';

export const EXIT_INTERRUPTED = 130;

interface BenchFlags {
  quick?: boolean;
  out?: string;
  compare?: string[];
  list?: boolean;
  printSchema?: boolean;
  progress: boolean;
}

export interface BenchCommandDeps {
  tables?: readonly ScenarioTable[];
  stdout?: (s: string) => void;
  stderr?: NodeJS.WriteStream;
}

function listing(tables: readonly ScenarioTable[]): string {
  const out: string[] = [];
  for (const s of tables) {
    const status = s.pending
      ? `pending: needs ${joinTitles(missingComponents(s.pending.needs)) || 'its trial entry point'}`
      : 'ready';
    out.push(`${s.name} (${status})`, `  ${s.title}`);
    for (const t of s.trials) {
      const full = sizeOf(t, false), q = sizeOf(t, true);
      const st = t.pending && !s.pending ? ` [pending: needs ${joinTitles(missingComponents(t.pending.needs))}]` : '';
      out.push(`  - ${t.name} (${t.path}, entry ${t.entry}) ${JSON.stringify(t.params)}`
        + ` warm-up ${full.warmup}, ${full.samples} samples x ${full.repetitions} processes; quick ${q.samples} x ${q.repetitions}${st}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** Registers `bench` on a commander program (the vfmed CLI or runBenchCli's own). */
export function addBenchCommand(program: Command, deps: BenchCommandDeps = {}): Command {
  const tables = deps.tables ?? SCENARIOS;
  const stdout = deps.stdout ?? ((s: string) => void process.stdout.write(s));
  const stderr = deps.stderr ?? process.stderr;
  return program
    .command('bench')
    .description('measure trapped vs passthrough cost, dirty tracking and migration; write JSON, charts and a report')
    .argument('[scenario...]', `scenarios to run (${tables.map((s) => s.name).join(', ')}); default: every ready one`)
    .option('--quick', 'every scenario at a small size (a couple of minutes); checks the harness, not for quoting')
    .option('--out <dir>', 'output directory (default: bench/results/<run id>)')
    .option('--compare <files...>', 'show two result files side by side: --compare A.json B.json')
    .option('--list', 'list the scenarios, their trials and which are pending')
    .option('--print-schema', 'print the JSON schema of result.json')
    .option('--no-progress', 'no progress output on stderr')
    // Every error is one line: no "(Did you mean ...?)" second line, even when the program
    // that mounts this command asks for suggestions.
    .showSuggestionAfterError(false)
    .action(async function action(this: Command, names: string[], flags: BenchFlags) {
      const usage = (msg: string): never => this.error(`error: ${msg}`, { exitCode: EXIT_USAGE, code: 'vfmed.bench.usage' });
      if (flags.out !== undefined && flags.out.trim() === '') usage('--out needs a directory');
      const modes = [flags.compare !== undefined, !!flags.list, !!flags.printSchema].filter(Boolean).length;
      if (modes > 1) usage('--compare, --list and --print-schema are exclusive');
      if (flags.list || flags.printSchema) {
        if (names.length || flags.quick || flags.out) usage(`${flags.list ? '--list' : '--print-schema'} takes no scenario or other option`);
        stdout(flags.list ? listing(tables) : `${JSON.stringify(RESULT_SCHEMA, null, 2)}\n`);
        return;
      }
      if (flags.compare !== undefined) {
        if (flags.compare.length !== 2) usage(`--compare needs exactly two result files (got ${flags.compare.length})`);
        if (names.length || flags.quick) usage('--compare takes no scenario and no --quick');
        let a, b;
        try {
          a = readResultFile(flags.compare[0]!);
          b = readResultFile(flags.compare[1]!);
        } catch (e) {
          throw new CommandFailed(`vfmed bench: ${oneLine(e)}`);
        }
        const c = compareResults(a, b);
        stdout(renderComparison(c, process.stdout.isTTY === true));
        if (flags.out) {
          let dir: string;
          try {
            dir = prepareOutDir(flags.out);
          } catch (e) {
            throw new CommandFailed(`vfmed bench: ${oneLine(e)}`, e instanceof BenchRefused && e.usage ? EXIT_USAGE : EXIT_FAILURE);
          }
          writeFileSync(join(dir, 'compare.md'), comparisonMarkdown(c));
        }
        return;
      }
      const abort = new AbortController();
      const onSigint = (): void => abort.abort();
      process.once('SIGINT', onSigint);
      try {
        const argv = ['bench', ...names, ...(flags.quick ? ['--quick'] : []), ...(flags.out ? ['--out', flags.out] : [])];
        const run = await runBench({
          scenarios: names, quick: !!flags.quick, outDir: flags.out ?? null, argv,
          progress: chooseProgress(flags.progress, stderr), tables, signal: abort.signal,
        });
        stdout(renderTerminal(run.result, { color: process.stdout.isTTY === true, width: process.stdout.columns ?? 120 }));
        stdout(`\nresult: ${run.files.json}\nreport: ${run.files.html}\nsummary: ${run.files.markdown}\n`);
        if (run.failed) {
          const bad = run.result.scenarios.flatMap((s) => s.trials.filter((t) => t.status === 'failed').map((t) => `${s.name}/${t.name}`));
          throw new CommandFailed(`vfmed bench: ${bad.length} trial(s) failed: ${bad.join(', ')} (see ${run.files.json})`);
        }
      } catch (e) {
        if (e instanceof CommandFailed || e instanceof CommanderError) throw e;
        if (e instanceof BenchAborted) throw new CommandFailed('vfmed bench: interrupted', EXIT_INTERRUPTED);
        if (e instanceof BenchRefused && e.usage) usage(e.message);
        throw new CommandFailed(`vfmed bench: ${oneLine(e)}`);
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
}

/**
 * Runs `vfmed bench <argv...>` with the vfmed error policy; returns the exit status.
 * `argv` are the arguments after "bench".
 */
export async function runBenchCli(argv: string[], deps: BenchCommandDeps = {}): Promise<number> {
  const program = new Command('vfmed')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => (deps.stdout ?? ((x: string) => void process.stdout.write(x)))(s),
      outputError: (str, write) => write(`vfmed: ${str.trimEnd()}\n`),
    });
  addBenchCommand(program, deps);
  try {
    await program.parseAsync(['bench', ...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    if (e instanceof CommandFailed) {
      process.stderr.write(`${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`vfmed bench: ${oneLine(e)}\n`);
    return EXIT_FAILURE;
  }
}
