/**
 * Table-driven error assertions: a call must throw a VfmedSystemError whose code (errno
 * name) is one of the expected ones, or a VfmedError with one of the expected VFMED_ERR_*
 * codes. Returns the error for further checks.
 */
import { expect } from 'vitest';
import { VfmedError, VfmedSystemError } from '../../mediator/errors.js';

export function expectErrno(fn: () => unknown, codes: string | string[], what = ''): VfmedSystemError | VfmedError {
  const want = Array.isArray(codes) ? codes : [codes];
  let err: unknown;
  let threw = false;
  try {
    fn();
  } catch (e) {
    err = e;
    threw = true;
  }
  if (!threw) throw new Error(`${what}: expected ${want.join('|')}, but the call succeeded`);
  if (!(err instanceof VfmedSystemError) && !(err instanceof VfmedError)) {
    throw new Error(`${what}: expected a VfmedSystemError/VfmedError, got ${String(err)}`);
  }
  expect(want, `${what}: ${err.message}`).toContain(err.code);
  return err;
}
