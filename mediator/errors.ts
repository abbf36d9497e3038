/**
 * Error types of vfmed, after Node core's lib/internal/errors.js: a stable `code` separate
 * from the message, and system errors that carry `errno` and `syscall`.
 *
 * - C returns -errno everywhere; the addon glue and the koffi bindings turn it into a
 *   VfmedSystemError (code = the errno name, e.g. 'EINVAL').
 * - Protocol, state-machine and stream errors are VfmedError with a VFMED_ERR_* code.
 * - Misuse at the TS edge (wrong types/ranges of arguments) is a plain TypeError/RangeError.
 */
import { constants } from 'node:os';

// Node's errno table has aliases for some numbers (EWOULDBLOCK/EAGAIN, ENOTSUP/EOPNOTSUPP,
// EDEADLOCK/EDEADLK); the first name listed here wins, as in glibc's strerror naming.
const PREFERRED = ['EAGAIN', 'EOPNOTSUPP', 'EDEADLK'];
const errnoNames: Map<number, string> = new Map();
for (const name of PREFERRED) errnoNames.set((constants.errno as Record<string, number>)[name]!, name);
for (const [name, num] of Object.entries(constants.errno)) if (!errnoNames.has(num as number)) errnoNames.set(num as number, name);

export function errnoName(errno: number): string {
  return errnoNames.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

export function errnoValue(name: string): number {
  const v = (constants.errno as Record<string, number>)[name];
  if (v === undefined) throw new RangeError(`unknown errno name ${name}`);
  return v;
}

/** A failed system or device call: `errno` is positive, `code` its name. */
export class VfmedSystemError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  constructor(syscall: string, errno: number, detail?: string) {
    const e = Math.abs(errno);
    const code = errnoName(e);
    super(`${syscall}: ${code}${detail ? ` (${detail})` : ''}`);
    this.name = 'VfmedSystemError';
    this.code = code;
    this.errno = e;
    this.syscall = syscall;
  }
}

/** Turns a C return value into a number or throws: `rc < 0` is -errno. */
export function checkRc(syscall: string, rc: number, detail?: string): number {
  if (rc < 0) throw new VfmedSystemError(syscall, -rc, detail);
  return rc;
}

/** A vfmed-level error with a stable VFMED_ERR_* code and, where one fits, an errno for
 * the wire (vfio-user replies carry errno). */
export class VfmedError extends Error {
  readonly code: string;
  readonly errno: number;
  constructor(code: string, message: string, errno = constants.errno.EINVAL) {
    super(message);
    this.name = 'VfmedError';
    this.code = code;
    this.errno = errno;
  }
}
