/**
 * The system calls KernelPf makes on /dev/vfpf — open(2), ioctl(2), close(2) — behind a
 * small injectable interface, and its one real implementation: libc through koffi.
 *
 * Every call returns a result or -errno (never throws, never leaves errno to be read
 * later), like the C side of the project. Tests give KernelPf a fake port to check what it
 * sends and how it handles each errno without a kernel; the real port is exercised by the
 * kernel test inside a QEMU guest.
 */
import koffi from 'koffi';

export interface CdevPort {
  /** open(path, O_RDWR | O_CLOEXEC): fd >= 0 or -errno. */
  open(path: string): number;
  /** ioctl(fd, request, arg): >= 0 or -errno. `arg` is passed as the `void *` argument. */
  ioctl(fd: number, request: number, arg: Buffer | null): number;
  /** close(fd): 0 or -errno. */
  close(fd: number): number;
}

// Linux values (asm-generic and x86 agree; these are the ones glibc and musl use there).
const O_RDWR = 0o2;
const O_CLOEXEC = 0o2000000;

interface Libc {
  open: (path: string, flags: number) => number;
  ioctl: (fd: number, request: number, ...va: unknown[]) => number;
  close: (fd: number) => number;
}

let libc: Libc | undefined;

function loadLibc(): Libc {
  if (libc) return libc;
  const lib = koffi.load(process.platform === 'linux' ? 'libc.so.6' : null);
  // open(2) and ioctl(2) are variadic in libc: declared so, the call follows the variadic
  // calling convention of the ABI rather than relying on it matching a fixed prototype.
  libc = {
    open: lib.func('int open(const char *path, int flags, ...)'),
    ioctl: lib.func('int ioctl(int fd, unsigned long request, ...)'),
    close: lib.func('int close(int fd)'),
  };
  return libc;
}

/**
 * libc's open/ioctl/close; -errno on failure. errno is read with koffi.errno() right after
 * the call returns, before any other native call of this thread can change it.
 */
export function libcCdevPort(): CdevPort {
  const c = loadLibc();
  const rc = (r: number): number => (r < 0 ? -(koffi.errno() || 5 /* EIO: errno lost */) : r);
  return {
    open: (path) => rc(c.open(path, O_RDWR | O_CLOEXEC)),
    ioctl: (fd, request, arg) => rc(c.ioctl(fd, request, 'void *', arg)),
    close: (fd) => rc(c.close(fd)),
  };
}
