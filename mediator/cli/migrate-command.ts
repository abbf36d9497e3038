/**
 * `vfmed migrate`: live migration of a running guest to another host, through the source
 * guest runner's monitor socket (docs/live-migration.md) — what `virsh migrate --live` is
 * to a QEMU VM with an assigned VF.
 *
 *   vfmed migrate --guest MONITOR --to HOST:PORT [--downtime-limit MS] [--max-bandwidth RATE]
 *                 [--dirty-tracking MODE] [--max-rounds N] [--verify-ram] [--timeout MS] [--json]
 *   vfmed migrate --guest MONITOR --cancel
 *   vfmed migrate --guest MONITOR --status [--json]
 *
 * Starting one sends `migrate` and follows the events until `completed` (exit 0) or `failed`
 * (exit 1: the runner's error and whether the source still runs). Progress goes to stderr
 * (a bar on a terminal, a line per round otherwise); the final tables to stdout; with --json
 * stdout carries every event as a JSON line and the summary object last. Ctrl-C cancels the
 * migration (the source keeps running); a second Ctrl-C leaves at once. Anything wrong with
 * the arguments, the socket or what the runner says ends in one line on stderr.
 */
import type { Command } from 'commander';
import { MonitorClient, MonitorError, type ReceivedEvent } from '../guest/monitor-client.js';
import type { CompletedEvent, DirtyTracking, FailedEvent, MigrateArgs, ProgressEvent } from '../guest/monitor-protocol.js';
import { CommandFailed, oneLine as anyOneLine } from './failure.js';
import { chooseProgress, type MigrateProgress } from './migrate-progress.js';
import { completedSummary, failedSummary, fmtBytes, fmtMs, renderCompleted } from './migrate-report.js';
import { EXIT_FAILURE, EXIT_USAGE, bandwidthOption, dirtyTrackingOption, hostPortOption, intOption } from './options.js';

export const DEFAULT_DOWNTIME_LIMIT_MS = 300;

/** A monitor failure's own message says it all; anything else gets its code. */
function oneLine(e: unknown): string {
  return e instanceof MonitorError ? anyOneLine(new Error(e.message)) : anyOneLine(e);
}

interface MigrateFlags {
  guest: string;
  to?: string;
  cancel?: boolean;
  status?: boolean;
  downtimeLimit?: number;
  maxBandwidth?: number;
  dirtyTracking?: DirtyTracking;
  maxRounds?: number;
  verifyRam?: boolean;
  timeout?: number;
  json?: boolean;
}

const MIGRATE_ONLY = [
  ['downtimeLimit', '--downtime-limit'], ['maxBandwidth', '--max-bandwidth'], ['dirtyTracking', '--dirty-tracking'],
  ['maxRounds', '--max-rounds'], ['verifyRam', '--verify-ram'], ['timeout', '--timeout'],
] as const;

const usage = (msg: string) => new CommandFailed(`vfmed: error: ${msg}`, EXIT_USAGE);
const failed = (msg: string) => new CommandFailed(`vfmed migrate: ${msg}`, EXIT_FAILURE);

/** Exactly one action; the migration options only with --to. */
function action(f: MigrateFlags): 'migrate' | 'cancel' | 'status' {
  const chosen = (['to', 'cancel', 'status'] as const).filter((k) => f[k] !== undefined && f[k] !== false);
  if (chosen.length !== 1) {
    throw usage(chosen.length ? `--${chosen.join(', --')} are mutually exclusive` : 'vfmed migrate needs --to HOST:PORT, --cancel or --status');
  }
  if (chosen[0] !== 'to') {
    const extra = MIGRATE_ONLY.filter(([k]) => f[k] !== undefined).map(([, o]) => o);
    if (extra.length) throw usage(`${extra.join(', ')} only go${extra.length > 1 ? '' : 'es'} with --to`);
    if (chosen[0] === 'cancel' && f.json) throw usage('--json does not go with --cancel');
  }
  return chosen[0] === 'to' ? 'migrate' : chosen[0]!;
}

async function connect(path: string): Promise<MonitorClient> {
  try {
    return await MonitorClient.connect(path);
  } catch (e) {
    throw failed(oneLine(e));
  }
}

function argsOf(f: MigrateFlags): MigrateArgs {
  const a: MigrateArgs = { to: f.to!, downtime_limit_ms: f.downtimeLimit ?? DEFAULT_DOWNTIME_LIMIT_MS };
  if (f.maxBandwidth !== undefined) a.max_bandwidth = f.maxBandwidth;
  if (f.dirtyTracking !== undefined) a.dirty_tracking = f.dirtyTracking;
  if (f.maxRounds !== undefined) a.max_rounds = f.maxRounds;
  if (f.verifyRam) a.verify_ram = true;
  if (f.timeout !== undefined) a.timeout_ms = f.timeout;
  return a;
}

async function migrate(f: MigrateFlags): Promise<void> {
  const m = await connect(f.guest);
  const progress: MigrateProgress = chooseProgress(!!f.json);
  const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const limit = f.downtimeLimit ?? DEFAULT_DOWNTIME_LIMIT_MS;
  const to = f.to!;
  let interrupts = 0;
  const onSigint = (): void => {
    if (++interrupts > 1) {
      progress.end();
      process.stderr.write('vfmed migrate: interrupted again: leaving without waiting for the cancellation\n');
      process.exit(130);
    }
    process.stderr.write('vfmed migrate: cancelling the migration (Ctrl-C again to leave at once)\n');
    m.request({ cmd: 'migrate-cancel' }).catch(() => { /* the event loop below reports it */ });
  };
  process.on('SIGINT', onSigint);
  try {
    const reply = await m.request({ cmd: 'migrate', ...argsOf(f) }, 30_000);
    if (!reply.ok) throw failed(`the guest runner refused to migrate: ${reply.error}`);
    for (;;) {
      const { event, raw }: ReceivedEvent = await m.nextEvent();
      if (f.json) out(raw);
      switch (event.event) {
        case 'migration':
          progress.phase((event as { phase: string }).phase);
          break;
        case 'progress':
          progress.round(event as ProgressEvent);
          break;
        case 'completed': {
          progress.end();
          const e = event as CompletedEvent;
          const s = completedSummary(e, to, limit);
          if (f.json) out(s);
          else process.stdout.write(renderCompleted(e, s));
          return;
        }
        case 'failed': {
          progress.end();
          const e = event as FailedEvent;
          if (f.json) out(failedSummary(e, to, limit));
          throw failed(`migration failed at ${e.stage}: ${e.error}; `
            + (e.source_running ? 'source still running' : 'the source guest is NOT running'));
        }
        default:
          break; // an event this version does not know: shown with --json only
      }
    }
  } catch (e) {
    progress.end();
    if (e instanceof CommandFailed) throw e;
    if (e instanceof MonitorError) {
      throw failed(`${oneLine(e)}; the outcome of the migration is unknown (vfmed migrate --guest ${f.guest} --status)`);
    }
    throw failed(oneLine(e));
  } finally {
    process.off('SIGINT', onSigint);
    m.close();
  }
}

function lastLine(last: unknown): string {
  if (typeof last !== 'object' || last === null) return '';
  const l = last as Record<string, unknown>;
  switch (l['event']) {
    case 'progress': {
      const p = l as unknown as ProgressEvent;
      return `round ${p.round}, ${fmtBytes(p.ram_remaining_bytes)} of ${fmtBytes(p.ram_bytes)} RAM left, `
        + `expected downtime ${fmtMs(p.expected_downtime_ms)}`;
    }
    case 'completed':
      return `completed in ${fmtMs(Number(l['total_ms']))}, downtime ${fmtMs(Number(l['downtime_ms']))}`;
    case 'failed':
      return `failed at ${String(l['stage'])}: ${String(l['error'])}`;
    case 'migration':
      return `phase ${String(l['phase'])}`;
    default:
      return JSON.stringify(l).slice(0, 200);
  }
}

async function status(f: MigrateFlags): Promise<void> {
  const m = await connect(f.guest);
  try {
    const r = await m.request({ cmd: 'query-migrate' });
    if (!r.ok) throw failed(`query-migrate refused: ${r.error}`);
    const st = r['status'];
    if (st !== 'none' && st !== 'active' && st !== 'completed' && st !== 'failed') {
      throw failed(`malformed line from the monitor ${f.guest}: query-migrate status ${JSON.stringify(st)}`);
    }
    if (f.json) {
      process.stdout.write(`${JSON.stringify({ status: st, last: r['last'] ?? null })}\n`);
    } else {
      const detail = lastLine(r['last']);
      process.stdout.write(`migration: ${st}${detail ? ` (${detail})` : ''}\n`);
    }
  } catch (e) {
    if (e instanceof CommandFailed) throw e;
    throw failed(oneLine(e));
  } finally {
    m.close();
  }
}

async function cancel(f: MigrateFlags): Promise<void> {
  const m = await connect(f.guest);
  try {
    const r = await m.request({ cmd: 'migrate-cancel' });
    if (!r.ok) throw failed(`migrate-cancel refused: ${r.error}`);
    process.stdout.write('migration cancel requested: the migration fails back, the source keeps running\n');
  } catch (e) {
    if (e instanceof CommandFailed) throw e;
    throw failed(oneLine(e));
  } finally {
    m.close();
  }
}

export function addMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('live-migrate a running guest to another host through its runner\'s monitor socket')
    .requiredOption('--guest <socket>', 'the source guest runner\'s monitor socket (vfmed-guest --monitor PATH)')
    .option('--to <host:port>', 'the destination runner (vfmed-guest --incoming tcp:ADDR:PORT)', hostPortOption)
    .option('--cancel', 'cancel the running migration (the source keeps running)')
    .option('--status', 'show the state of the migration and its last event')
    .option('--downtime-limit <ms>', `switch over once the expected downtime is within this (default ${DEFAULT_DOWNTIME_LIMIT_MS})`, intOption(1, 3_600_000))
    .option('--max-bandwidth <rate>', 'bytes/s for the migration stream, binary suffixes: 100M, 1G (default unlimited)', bandwidthOption)
    .option('--dirty-tracking <mode>', 'device dirty tracker: tail-trap, device-log or all (default tail-trap)', dirtyTrackingOption)
    .option('--max-rounds <n>', 'switch over after at most this many pre-copy rounds (default 30)', intOption(1, 100_000))
    .option('--verify-ram', 'hash every page on both sides and compare (not counted in downtime)')
    .option('--timeout <ms>', 'how long the source waits for the destination\'s confirmation (default 30000)', intOption(1, 86_400_000))
    .option('--json', 'print the events as JSON lines and the summary object last')
    .action(async (f: MigrateFlags) => {
      switch (action(f)) {
        case 'migrate':
          return migrate(f);
        case 'status':
          return status(f);
        case 'cancel':
          return cancel(f);
      }
    });
}
