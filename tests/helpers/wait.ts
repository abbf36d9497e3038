/**
 * Bounded polling for tests: wait for a condition the device thread will make true, with a
 * generous deadline that only exists so a broken device fails the test instead of hanging
 * it. Never used to measure time: a test asserts on the condition, not on how long it took.
 * Between tries the thread sleeps (Atomics.wait), so a waiting test does not spin a core.
 */
import { sleepUs } from '../../mediator/demo/bounded-wait.js';

export const DEFAULT_WAIT_MS = 10_000;

export interface WaitOptions {
  timeoutMs?: number;
  /** Called between tries (e.g. the PF driver's service, a PMD's rx()). */
  step?: () => void;
  /** Sleep between tries, microseconds. */
  intervalUs?: number;
}

/** Polls `cond` until it is true; throws naming `what` (and `detail()`) on the deadline. */
export function waitUntil(cond: () => boolean, what: string, opts: WaitOptions & { detail?: () => string } = {}): void {
  const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_WAIT_MS);
  for (;;) {
    if (cond()) return;
    opts.step?.();
    if (cond()) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${opts.detail ? `: ${opts.detail()}` : ''}`);
    }
    sleepUs(opts.intervalUs ?? 200);
  }
}

/**
 * Repeatedly calls `collect` (which returns newly arrived items) until `n` items arrived
 * in total; returns them. Fails with the count seen so far on the deadline.
 */
export function collectN<T>(n: number, collect: () => T[], what: string, opts: WaitOptions = {}): T[] {
  const got: T[] = [];
  waitUntil(() => {
    got.push(...collect());
    return got.length >= n;
  }, `${n} ${what}`, { ...opts, detail: () => `got ${got.length}` });
  return got;
}

/**
 * Like collectN but for "nothing more arrives": polls `collect` until the device reports
 * idle (`idle()`), then once more, and returns everything collected. Used to prove a frame
 * was NOT delivered without sleeping and hoping.
 */
export function drainUntilIdle<T>(collect: () => T[], idle: () => boolean, what: string, opts: WaitOptions = {}): T[] {
  const got: T[] = [];
  waitUntil(() => {
    got.push(...collect());
    return idle();
  }, `${what} to go idle`, opts);
  got.push(...collect());
  return got;
}
