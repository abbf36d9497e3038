/**
 * Options shared by the commands that talk to a running daemon (status, stop, bind,
 * unbind, replay, guest --vf): where its control socket is. `--control PATH` names the
 * socket, `--run-dir DIR` the daemon's run directory (socket DIR/control.sock); without
 * either, the default run directory (config.ts: /run/vfmed for root, VFMED_RUN_DIR to
 * override). Also the option parsers for MACs, rates and sizes used by start.
 */
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { controlPathOf, defaultRunDir } from '../daemon/config.js';

export interface DaemonAddressFlags {
  runDir?: string;
  control?: string;
}

export function addDaemonAddressOptions(cmd: Command): Command {
  return cmd
    .option('--run-dir <dir>', "the daemon's run directory (default: VFMED_RUN_DIR, /run/vfmed for root)")
    .option('--control <path>', "the daemon's control socket (default: <run-dir>/control.sock)");
}

export function controlPath(flags: DaemonAddressFlags): string {
  if (flags.control) return resolve(flags.control);
  return controlPathOf(flags.runDir ? resolve(flags.runDir) : defaultRunDir());
}

export function macOption(value: string): string {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(value)) throw new InvalidArgumentError('expected a MAC address xx:xx:xx:xx:xx:xx.');
  if (parseInt(value.slice(0, 2), 16) & 1) throw new InvalidArgumentError('expected a unicast MAC (the first byte is odd).');
  return value.toLowerCase();
}

/** 'line', 'max' or a positive frame rate, with k/M suffixes (e.g. 10k, 1.5M). */
export function rateOption(value: string): 'line' | 'max' | number {
  if (value === 'line' || value === 'max') return value;
  const m = /^([0-9]+(?:\.[0-9]+)?)([kM]?)$/.exec(value);
  const n = m ? Number(m[1]) * (m[2] === 'k' ? 1e3 : m[2] === 'M' ? 1e6 : 1) : NaN;
  if (!(n > 0) || n > 1e9) throw new InvalidArgumentError("expected 'line', 'max' or frames per second (e.g. 10000, 10k, 1.5M).");
  return n;
}

/** A byte size with optional k/M suffix (binary). */
export function sizeOption(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const m = /^([0-9]+)([kKmM]?)$/.exec(value);
    const n = m ? Number(m[1]) * (m[2] === '' ? 1 : m[2]!.toLowerCase() === 'k' ? 1024 : 1024 * 1024) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a size in ${min}..${max} bytes (k/M suffixes allowed).`);
    return n;
  };
}
