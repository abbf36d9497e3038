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
