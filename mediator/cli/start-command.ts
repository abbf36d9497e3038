/**
 * `vfmed start`: runs the daemon (mediator/daemon/daemon.ts), in the foreground by
 * default, until SIGINT/SIGTERM or `vfmed stop`. Settings come from the defaults, then
 * `--config FILE` (JSON, schema: `--print-config-schema`), then the flags. Logs are pino
 * JSON lines on stderr, or in --log-file.
 *
 * --background starts the same command detached (logs to --log-file, default
 * <run-dir>/vfmed.log), waits until its control socket answers and prints its pid; if it
 * fails to come up, the reason (the daemon's last log line) is printed instead.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CONFIG_SCHEMA, flagConfig, loadConfigFile, resolveConfig, type DaemonConfig, type PartialConfig } from '../daemon/config.js';
import { callDaemon } from '../daemon/control-client.js';
import { Daemon } from '../daemon/daemon.js';
import { CommandFailed, oneLine } from './failure.js';
import { createLogger, type LogLevel } from './log.js';
import { macOption, rateOption, sizeOption } from './daemon-options.js';
import { EXIT_USAGE, dirtyTrackingOption, intOption, logLevelOption } from './options.js';
import { packageVersion } from './version.js';

interface StartFlags {
  config?: string;
  runDir?: string;
  control?: string;
  vfs?: number;
  maxVfs?: number;
  baseMac?: string;
  pollMode?: string;
  rxFifo?: number;
  capture?: string;
  snaplen?: number;
  replay?: string;
  replayRate?: 'line' | 'max' | number;
  replayLoop?: number;
  replayStart?: string;
  tap?: string | boolean;
  linkSpeed?: number;
  dirtyTracking?: string;
  logLevel?: string;
  logFile?: string;
  background?: boolean;
  pidFile?: string;
  printConfig?: boolean;
  printConfigSchema?: boolean;
}

const BACKGROUND_WAIT_MS = 15_000;

function flagsToConfig(f: StartFlags): PartialConfig {
  const p: PartialConfig = {};
  if (f.runDir !== undefined) p.runDir = f.runDir;
  if (f.control !== undefined) p.control = f.control;
  if (f.vfs !== undefined) p.vfs = f.vfs;
  const nic: Record<string, unknown> = {};
  if (f.maxVfs !== undefined) nic['maxVfs'] = f.maxVfs;
  if (f.pollMode !== undefined) nic['pollMode'] = f.pollMode;
  if (f.rxFifo !== undefined) nic['rxFifoBytes'] = f.rxFifo;
  if (Object.keys(nic).length) p.nic = nic;
  if (f.baseMac !== undefined) p.baseMac = f.baseMac;
  const up: Record<string, unknown> = {};
  if (f.linkSpeed !== undefined) up['linkSpeedMbps'] = f.linkSpeed;
  if (f.capture !== undefined) up['capture'] = { file: f.capture, ...(f.snaplen !== undefined ? { snaplen: f.snaplen } : {}) };
  else if (f.snaplen !== undefined) throw new CommandFailed('vfmed: error: --snaplen needs --capture', EXIT_USAGE);
  if (f.replay !== undefined) {
    up['replay'] = {
      file: f.replay,
      ...(f.replayRate !== undefined ? { rate: f.replayRate } : {}),
      ...(f.replayLoop !== undefined ? { loop: f.replayLoop } : {}),
      ...(f.replayStart !== undefined ? { start: f.replayStart } : {}),
    };
  }
  if (f.tap !== undefined) up['tap'] = { name: typeof f.tap === 'string' ? f.tap : '' };
  if (Object.keys(up).length) p.uplink = up;
  if (f.dirtyTracking !== undefined) p.migration = { dirtyTracking: f.dirtyTracking };
  const log: Record<string, unknown> = {};
  if (f.logLevel !== undefined) log['level'] = f.logLevel;
  if (f.logFile !== undefined) log['file'] = f.logFile;
  if (Object.keys(log).length) p.log = log;
  return p;
}

function configOf(f: StartFlags): DaemonConfig {
  try {
    const layers: PartialConfig[] = [];
    if (f.config) layers.push(loadConfigFile(f.config));
    layers.push(flagConfig(flagsToConfig(f)));
    const c = resolveConfig(...layers);
    // Without --replay, the replay flags adjust the config file's replay.
    if (f.replay === undefined && (f.replayRate !== undefined || f.replayLoop !== undefined || f.replayStart !== undefined)) {
      if (!c.uplink.replay) {
        throw new CommandFailed('vfmed: error: --replay-rate/--replay-loop/--replay-start need a replay (--replay FILE, or uplink.replay in the config)', EXIT_USAGE);
      }
      if (f.replayRate !== undefined) c.uplink.replay.rate = f.replayRate;
      if (f.replayLoop !== undefined) c.uplink.replay.loop = f.replayLoop;
      if (f.replayStart !== undefined) {
        if (f.replayStart !== 'rx-ready' && f.replayStart !== 'now') {
          throw new CommandFailed(`vfmed: error: --replay-start must be rx-ready or now, got '${f.replayStart}'`, EXIT_USAGE);
        }
        c.uplink.replay.start = f.replayStart;
      }
    }
    return c;
  } catch (e) {
    if (e instanceof CommandFailed) throw e;
    throw new CommandFailed(`vfmed start: ${oneLine(e)}`, EXIT_USAGE);
  }
}

function lastLogLine(file: string): string | null {
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        const o = JSON.parse(lines[i]!) as { level?: number; msg?: string; err?: { message?: string } };
        if ((o.level ?? 0) >= 50) return o.err?.message ? `${o.msg}: ${o.err.message}` : o.msg ?? null;
      } catch {
        return lines[i] ?? null; // a plain line (e.g. the one-line error of the CLI itself)
      }
    }
  } catch { /* no log */ }
  return null;
}

async function startBackground(argv: string[], c: DaemonConfig): Promise<void> {
  const logFile = c.log.file ?? join(c.runDir, 'vfmed.log');
  const args = argv.filter((a) => a !== '--background');
  if (!c.log.file) args.push('--log-file', logFile);
  // The run directory must exist (0700) for the log; the daemon checks its ownership.
  const { mkdirSync } = await import('node:fs');
  mkdirSync(c.runDir, { recursive: true, mode: 0o700 });
  const fd = openSync(logFile, 'a', 0o600);
  const child = spawn(process.execPath, [process.argv[1]!, ...args], { detached: true, stdio: ['ignore', 'ignore', fd] });
  closeSync(fd);
  let exited: number | null = null;
  child.on('exit', (code) => {
    exited = code ?? 1;
  });
  const deadline = Date.now() + BACKGROUND_WAIT_MS;
  for (;;) {
    if (exited !== null) {
      throw new CommandFailed(`vfmed start: the daemon exited during start-up (${lastLogLine(logFile) ?? `status ${exited}`}; log: ${logFile})`);
    }
    try {
      await callDaemon(c.control, 'hello', {}, { timeoutMs: 1000 });
      break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new CommandFailed(`vfmed start: the daemon did not come up within ${BACKGROUND_WAIT_MS / 1000} s (log: ${logFile})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.unref();
  process.stdout.write(`vfmed daemon started: pid ${child.pid}, control ${c.control}, log ${logFile}\n`);
}

export function addStartCommand(program: Command): void {
  program
    .command('start')
    .description('run the daemon: emulated PF + VFs, PF driver, vfio-user sockets, uplink backends, control socket')
    .option('-c, --config <file>', 'JSON config file (see --print-config-schema)')
    .option('--run-dir <dir>', 'directory of the sockets (default /run/vfmed for root; VFMED_RUN_DIR)')
    .option('--control <path>', 'control socket (default <run-dir>/control.sock)')
    .option('--vfs <n>', 'VFs to bind (enable and serve) at start, 0..8', intOption(0, 8))
    .option('--max-vfs <n>', 'VFs the PF offers, 1..8 (default 8)', intOption(1, 8))
    .option('--base-mac <mac>', 'MAC of VF 0; VF n gets the last byte + n (default 02:76:66:6d:01:00)', macOption)
    .option('--poll-mode <mode>', 'device thread: adaptive (default) or busy')
    .option('--rx-fifo <bytes>', 'per-VF RX FIFO size (default 64k)', sizeOption(9728, 64 << 20))
    .option('--capture <file>', 'write every frame leaving the uplink to this pcap file')
    .option('--snaplen <bytes>', 'capture snap length (default 65535)', intOption(14, 262144))
    .option('--replay <file>', 'replay this pcap file into the uplink')
    .option('--replay-rate <rate>', "'line' (default), 'max' or frames per second (10k, 1.5M)", rateOption)
    .option('--replay-loop <n>', 'passes over the file, 0 = forever (default 1)', intOption(0, 1e9))
    .option('--replay-start <when>', 'rx-ready (default: once a VF has RX enabled) or now')
    .option('--tap [name]', 'bridge the uplink to a TAP interface (default name vfmed0)')
    .option('--link-speed <mbps>', 'link speed for line-rate replay (default 1000)', intOption(1, 400000))
    .option('--dirty-tracking <mode>', 'default dirty tracker of every VF open: tail-trap (default), device-log or all', dirtyTrackingOption)
    .option('--log-level <level>', 'fatal..trace, silent (default info)', logLevelOption)
    .option('--log-file <file>', 'JSON log lines go to this file instead of stderr')
    .option('--background', 'start detached, wait until the daemon answers, print its pid')
    .option('--pid-file <file>', 'write the daemon pid here')
    .option('--print-config', 'print the resolved configuration as JSON and exit')
    .option('--print-config-schema', 'print the JSON schema of the config file and exit')
    .action(async (flags: StartFlags) => {
      if (flags.printConfigSchema) {
        process.stdout.write(`${JSON.stringify(CONFIG_SCHEMA, null, 2)}\n`);
        return;
      }
      if (flags.tap === true) flags.tap = 'vfmed0';
      const c = configOf(flags);
      if (flags.printConfig) {
        process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
        return;
      }
      if (flags.background) {
        await startBackground(process.argv.slice(2), c);
        return;
      }
      const log = createLogger(c.log.level as LogLevel, c.log.file);
      let d: Daemon;
      try {
        d = await Daemon.start({ config: c, log, version: packageVersion() });
      } catch (e) {
        log.error({ err: e }, 'daemon start failed');
        throw new CommandFailed(`vfmed start: ${oneLine(e)}`);
      }
      if (flags.pidFile) writeFileSync(resolve(flags.pidFile), `${process.pid}\n`);
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals): void => {
        if (++signals > 1) {
          log.warn({ sig }, 'second signal: exiting without cleanup');
          process.exit(130);
        }
        log.info({ sig }, 'signal received');
        void d.stop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      process.on('SIGHUP', () => log.info('SIGHUP ignored (no reload; restart to change the configuration)'));
      await d.stopped;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (flags.pidFile && existsSync(flags.pidFile)) {
        try {
          (await import('node:fs')).unlinkSync(flags.pidFile);
        } catch { /* gone */ }
      }
    });
}
