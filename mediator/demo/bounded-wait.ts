/**
 * Bounded, synchronous polling for the poll-mode driver: the userspace equivalent of the
 * kernel's "N tries, udelay between, then -ETIMEDOUT" loops. The driver's waits (reset
 * done, mailbox PFACK/PFSTS, lock) call a `service` hook between tries, so a PF driver that
 * lives in the same thread (libvfpf through koffi) gets to answer the mailbox while we wait.
 *
 * Sleeping is done with Atomics.wait on a private SharedArrayBuffer: it really blocks the
 * thread for the given time instead of spinning, so a wait never burns a core.
 */
import { constants } from 'node:os';
import { VfmedError } from '../errors.js';

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the calling thread for about `us` microseconds (no busy loop). */
export function sleepUs(us: number): void {
  if (us <= 0) return;
  Atomics.wait(sleepCell, 0, 0, us / 1000);
}

export interface PollBudget {
  /** Number of tries (igbvf: 2000 for the mailbox). */
  tries: number;
  /** Sleep between tries, microseconds (igbvf: 500). */
  delayUs: number;
}

/**
 * Calls `cond` until it returns true, at most `budget.tries` times; between tries it runs
 * `service` (if any) and, when `cond` is still false afterwards, sleeps `delayUs`.
 * Throws VfmedError(code, ETIMEDOUT) naming `what` when the budget is exhausted.
 */
export function pollUntil(
  cond: () => boolean,
  what: string,
  budget: PollBudget,
  service?: () => void,
  code = 'VFMED_ERR_TIMEOUT',
): void {
  for (let i = 0; i < budget.tries; i++) {
    if (cond()) return;
    if (service) {
      service();
      if (cond()) return;
    }
    sleepUs(budget.delayUs);
  }
  if (cond()) return;
  const ms = (budget.tries * budget.delayUs) / 1000;
  throw new VfmedError(
    code,
    `timed out after ${budget.tries} tries (~${ms} ms) waiting for ${what}`,
    constants.errno.ETIMEDOUT,
  );
}
