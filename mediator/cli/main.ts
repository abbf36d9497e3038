#!/usr/bin/env node
/**
 * `vfmed` command-line entry point (package.json "bin"). Builds the commander program and
 * owns the process-level error policy of every subcommand:
 *
 *   usage error (unknown command/option, bad option value, extra argument)
 *       -> one line "vfmed: error: ..." on stderr, exit status 2;
 *   a command that ran and failed (device error, verification failure)
 *       -> one line "vfmed <cmd>: <what failed>" on stderr, exit status 1;
 *   --help / --version -> stdout, exit status 0.
 *
 * No stack trace reaches the terminal; with --log-level debug the stack goes to the
 * structured log instead.
 */
import { Command, CommanderError } from 'commander';
import { packageVersion } from './version.js';
import { CommandFailed, oneLine } from './failure.js';
import { EXIT_FAILURE, EXIT_USAGE } from './options.js';

type AddCommands = (program: Command) => void;

/**
 * Every subcommand's module, in `vfmed --help` order, imported on demand: a command line
 * that names a command loads only that command's module; help, --version and unknown
 * commands load them all (for the listing and the "did you mean" suggestion). Loading all
 * costs ~0.4 s natively but ~9 s on a slow CPU — the kernel test runs `vfmed bind` in a TCG
 * guest — mostly for bench's charting libraries and the daemon, which bind never touches.
 */
const COMMAND_MODULES: { names: string[]; load: () => Promise<AddCommands> }[] = [
  { names: ['demo'], load: async () => (await import('./demo-command.js')).addDemoCommand },
  { names: ['start'], load: async () => (await import('./start-command.js')).addStartCommand },
  { names: ['status', 'stop'], load: async () => (await import('./status-command.js')).addStatusCommands },
  { names: ['bind', 'unbind'], load: async () => (await import('./bind-command.js')).addBindCommands },
  { names: ['guest', 'replay'], load: async () => (await import('./guest-command.js')).addGuestCommands },
  { names: ['migrate'], load: async () => (await import('./migrate-command.js')).addMigrateCommand },
  { names: ['bench'], load: async () => (await import('../../bench/cli.js')).addBenchCommand },
];

async function buildProgram(command: string | undefined): Promise<Command> {
  const program = new Command('vfmed')
    .description('Userspace SR-IOV NIC emulator (82576 VF / igbvf) and mediate-ops mediator for VF live migration')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({
      // commander's messages already start with "error: "; a suggestion ("(Did you mean
      // demo?)") comes on a line of its own: keep the whole report on one line.
      outputError: (str, write) => write(`vfmed: ${str.trim().replace(/\s*\n\s*/g, ' ')}\n`),
    })
    .showSuggestionAfterError(true);
  const named = COMMAND_MODULES.find((m) => command !== undefined && m.names.includes(command));
  for (const m of named ? [named] : COMMAND_MODULES) (await m.load())(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv[2]);
  if (argv.length <= 2) {
    process.stderr.write("vfmed: error: missing command (try 'vfmed --help')\n");
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; everything else commander reports is a usage error it
      // has already printed as one line.
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (e instanceof CommandFailed) {
      process.stderr.write(`${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`vfmed: ${oneLine(e)}\n`);
    return EXIT_FAILURE;
  }
}

process.on('uncaughtException', (e) => {
  process.stderr.write(`vfmed: internal error: ${oneLine(e)}\n`);
  process.exit(EXIT_FAILURE);
});

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`vfmed: internal error: ${oneLine(e)}\n`);
    process.exitCode = EXIT_FAILURE;
  },
);
