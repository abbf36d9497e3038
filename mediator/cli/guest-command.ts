/**
 * `vfmed guest <workload> [--vf N] [vfmed-guest options...]`: starts the guest runner
 * (build/Release/vfmed-guest, native/guest/README.md) with the terminal's stdio, forwards
 * SIGINT/SIGTERM to it and exits with its status. `--vf N` asks the running daemon for
 * VF N's vfio-user socket (control command `status`) and passes it as --socket; every
 * other argument goes to vfmed-guest unchanged (`vfmed guest --help` shows its options).
 *
 * `vfmed replay FILE` asks the daemon to replay a pcap file into the uplink.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { callDaemon } from '../daemon/control-client.js';
import type { DaemonStatus } from '../daemon/status.js';
import { nativeBuildDir } from '../native/addon.js';
import type { ReplayStats } from '../wire/pcap-replay.js';
import { addDaemonAddressOptions, controlPath, rateOption, type DaemonAddressFlags } from './daemon-options.js';
import { CommandFailed, oneLine } from './failure.js';
import { EXIT_USAGE, intOption } from './options.js';

export function guestBinary(): string {
  const bin = join(nativeBuildDir(), 'vfmed-guest');
  if (!existsSync(bin)) throw new CommandFailed(`vfmed guest: ${bin} is missing (run "npm install" to build it)`);
  return bin;
}

/** Pulls the vfmed-level options (--vf, --run-dir, --control) out of the guest's argv. */
export function splitGuestArgs(args: string[]): { vf: number | null; addr: DaemonAddressFlags; rest: string[] } {
  const rest: string[] = [];
  const addr: DaemonAddressFlags = {};
  let vf: number | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (name === '--vf' || name === '--run-dir' || name === '--control') {
      const v = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : args[++i];
      if (v === undefined || v === '') throw new CommandFailed(`vfmed: error: option '${name}' argument missing`, EXIT_USAGE);
      if (name === '--vf') {
        if (!/^[0-7]$/.test(v)) throw new CommandFailed(`vfmed: error: option '--vf' argument '${v}' is invalid. expected a VF number 0..7.`, EXIT_USAGE);
        vf = Number(v);
      } else if (name === '--run-dir') {
        addr.runDir = v;
      } else {
        addr.control = v;
      }
      continue;
    }
    rest.push(a);
  }
  return { vf, addr, rest };
}

export function addGuestCommands(program: Command): void {
  program
    .command('guest')
    .description('run the guest runner (vfmed-guest) on a VF; --vf N finds the socket through the daemon')
    .argument('[args...]', 'workload and vfmed-guest options (vfmed guest --help)')
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .action(async (args: string[]) => {
      const { vf, addr, rest } = splitGuestArgs(args);
      const bin = guestBinary();
      if (vf !== null) {
        if (rest.some((a) => a === '-s' || a === '--socket' || a.startsWith('--socket=') || a === '--uio' || a.startsWith('--uio='))) {
          throw new CommandFailed('vfmed: error: --vf and --socket/--uio are mutually exclusive', EXIT_USAGE);
        }
        let s: DaemonStatus;
        try {
          s = await callDaemon<DaemonStatus>(controlPath(addr), 'status');
        } catch (e) {
          throw new CommandFailed(`vfmed guest: ${oneLine(e)}`);
        }
        const v = s.vfs.find((x) => x.vf === vf);
        if (!v) {
          throw new CommandFailed(`vfmed guest: VF ${vf} is not bound (bound: ${s.vfs.map((x) => x.vf).join(', ') || 'none'}; vfmed bind --vfs N)`);
        }
        rest.push('--socket', v.socket);
      }
      const child = spawn(bin, rest, { stdio: 'inherit' });
      const fwd = (sig: NodeJS.Signals): void => {
        child.kill(sig);
      };
      process.on('SIGINT', fwd);
      process.on('SIGTERM', fwd);
      const code = await new Promise<number>((resolve) => {
        child.on('error', (e) => {
          process.stderr.write(`vfmed guest: cannot run ${bin}: ${e.message}\n`);
          resolve(1);
        });
        child.on('exit', (c, sig) => resolve(c ?? (sig === 'SIGINT' ? 130 : 128 + 15)));
      });
      process.off('SIGINT', fwd);
      process.off('SIGTERM', fwd);
      process.exitCode = code;
    });

  addDaemonAddressOptions(program
    .command('replay')
    .description('replay a pcap file into the uplink of the running daemon')
    .argument('<file>', 'pcap file (libpcap format, Ethernet)')
    .option('--rate <rate>', "'line' (default: wire time at the link speed), 'max', or frames per second (10k, 1.5M)", rateOption)
    .option('--loop <n>', 'passes over the file, 0 = forever (default 1)', intOption(0, 1e9))
    .option('--no-wait', 'return once the replay has started')
    .option('--json', 'print the replay statistics as JSON'))
    .action(async (file: string, flags: DaemonAddressFlags & { rate?: 'line' | 'max' | number; loop?: number; wait: boolean; json?: boolean }) => {
      const { resolve } = await import('node:path');
      let r: ReplayStats;
      try {
        r = await callDaemon<ReplayStats>(controlPath(flags), 'replay',
          { file: resolve(file), rate: flags.rate ?? 'line', loop: flags.loop ?? 1, wait: flags.wait },
          { timeoutMs: flags.wait && flags.loop !== 0 ? 24 * 3600_000 : 10_000 });
      } catch (e) {
        throw new CommandFailed(`vfmed replay: ${oneLine(e)}`);
      }
      process.stdout.write(flags.json ? `${JSON.stringify(r, null, 2)}\n`
        : `replay ${r.name}: ${r.state}, ${r.injected} frames injected, ${r.dropped} dropped (receive FIFOs full), `
          + `${r.passes} passes in ${r.elapsedMs.toFixed(1)} ms\n`);
      if (r.state === 'failed') throw new CommandFailed(`vfmed replay: ${r.error ?? 'failed'}`);
    });
}
