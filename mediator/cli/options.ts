/**
 * Option parsers shared by the vfmed subcommands. Each one turns a command-line string into
 * a checked value or throws commander's InvalidArgumentError, which the program reports as
 * one line ("vfmed: error: option '--frames <n>' argument 'x' is invalid. ...") with exit
 * status 2. No value is silently clamped or rounded.
 */
import { InvalidArgumentError } from 'commander';
import type { Level } from 'pino';

/** pino's levels, here rather than in log.ts so that parsing options does not load pino. */
export const LOG_LEVELS: readonly Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

/** Exit status of a usage error (wrong command, option or argument). */
export const EXIT_USAGE = 2;
/** Exit status of a command that ran and failed. */
export const EXIT_FAILURE = 1;

/** A decimal integer in [min, max]; rejects signs, fractions, exponents and junk. */
export function intOption(min: number, max: number): (value: string) => number {
  return (value: string) => {
    if (!/^[0-9]+$/.test(value)) {
      throw new InvalidArgumentError(`expected an integer in ${min}..${max}.`);
    }
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer in ${min}..${max}.`);
    }
    return n;
  };
}

export function logLevelOption(value: string): string {
  if (value !== 'silent' && !(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${[...LOG_LEVELS, 'silent'].join(', ')}.`);
  }
  return value;
}

/** The VF mediate driver's dirty trackers (kept here so option parsing loads nothing). */
export const DIRTY_TRACKING_MODES = ['tail-trap', 'device-log', 'all'] as const;
export type DirtyTrackingMode = (typeof DIRTY_TRACKING_MODES)[number];

export function dirtyTrackingOption(value: string): DirtyTrackingMode {
  if (!(DIRTY_TRACKING_MODES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${DIRTY_TRACKING_MODES.join(', ')}.`);
  }
  return value as DirtyTrackingMode;
}

/** HOST:PORT of a TCP destination: a name or IPv4 address, or [IPv6]; port 1..65535. */
export function hostPortOption(value: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):([0-9]{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new InvalidArgumentError('expected HOST:PORT (e.g. 10.0.0.2:4444 or [fd00::2]:4444), port 1..65535.');
  return value;
}

/**
 * Bytes per second with an optional binary suffix, as QEMU's max-bandwidth takes them:
 * 100M = 100 MiB/s, 1G, 512k; a trailing "B", "iB" or "/s" is accepted (100MiB/s). 0 is
 * "unlimited".
 */
export function bandwidthOption(value: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)([kKmMgGtT]?)(?:i?B)?(?:\/s)?$/.exec(value);
  const mult = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[(m?.[2] ?? '').toLowerCase()] ?? NaN;
  const n = m ? Math.round(Number(m[1]) * mult) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected bytes per second, e.g. 125000000, 100M, 1G (binary suffixes k/M/G/T; 0 = unlimited).');
  return n;
}
