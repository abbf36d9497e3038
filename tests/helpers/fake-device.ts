/**
 * A stand-in for the device when a test exercises only the poll-mode driver's own logic
 * (descriptor parsing, reassembly, error drops, statistics folding): guest memory on a
 * plain ArrayBuffer and a register file in a Map, no addon, no device thread. The test
 * plays the device by writing descriptors itself.
 */
import type { NativeOs } from '../../mediator/native/addon.js';
import { GuestMemory } from '../../mediator/demo/guest-memory.js';
import type { RegPort } from '../../mediator/demo/vf-reg-port.js';

export const fakeOs: NativeOs = {
  memfdCreate: () => -1,
  mmapShared: (_fd, length) => new ArrayBuffer(length),
  munmap: () => {},
  close: () => {},
  eventfdCreate: () => -1,
  eventfdRead: () => null,
  eventfdWrite: () => {},
  constants: { EFD_CLOEXEC: 0, EFD_NONBLOCK: 0, EFD_SEMAPHORE: 0 },
};

export function fakeMemory(size = 1 << 20, iovaBase = 0x10000n): GuestMemory {
  return new GuestMemory(fakeOs, { size, iovaBase });
}

/** A register file: reads return the last value written (0 initially); writes are logged. */
export function fakePort(): RegPort & { regs: Map<number, number>; writes: Array<[number, number]> } {
  const regs = new Map<number, number>();
  const writes: Array<[number, number]> = [];
  return {
    kind: 'trapped',
    regs,
    writes,
    read32: (off) => regs.get(off) ?? 0,
    write32: (off, val) => {
      regs.set(off, val >>> 0);
      writes.push([off, val >>> 0]);
    },
  };
}
