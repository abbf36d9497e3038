/**
 * Scenario `access`: what one trapped register access costs compared with a passthrough
 * one, on the same VF in the same run.
 *
 * Every row drives a real emulated NIC (device thread running) with a real VF brought up
 * through the PF driver (libvfpf) and the igbvf-style driver's reset handshake; TX queue 0
 * is programmed with a real ring in guest RAM (a memfd DMA-mapped into the VF).
 *
 *   passthrough: Atomics store/load on an mmap of the VF BAR (nic.vfBarFd, MAP_SHARED);
 *                the device learns of a doorbell by polling the tail in shared memory.
 *   trapped:     nic.vfRegWrite / vfRegRead: the device side of a trap (argument checks,
 *                NIC lock, register semantics, synchronous queue processing), which is
 *                what the vfio-user server calls when a REGION_WRITE/READ arrives.
 *
 *   guest-trapped: `trap-roundtrip` and `trap-roundtrip-doorbell`: the full trapped path
 *                of a guest — store -> SIGSEGV in a vfmed-guest process -> vfio-user
 *                REGION_WRITE over the socket -> the daemon embedded in the trial process ->
 *                device -> reply -> resume — timed by the guest itself
 *                (bench/trials/guest/guest-access.ts). The guest traps the page itself
 *                (--trap-all); the mediator's tail-trap tracker is not in that path yet.
 */
import type { ScenarioTable, TrialRow } from '../scenario-types.js';

const LATENCY = {
  name: 'latency', unit: 'ns', better: 'lower',
  description: 'wall-clock time of one access (monotonic clock, ns)',
} as const;

const DEVICE = 'a NIC whose device thread busy-polls (poll mode "busy"), 1 VF up through the PF driver';

/** Per-access sizes. A latency sample is one access; batched rows average 1000 accesses. */
const SINGLE = { full: { warmup: 5000, samples: 20000, repetitions: 6 }, quick: { warmup: 500, samples: 2000, repetitions: 2 } };
const BATCHED = { full: { warmup: 200, samples: 2000, repetitions: 6 }, quick: { warmup: 20, samples: 200, repetitions: 2 } };
/** Guest round trips: tens of microseconds each, timed by the guest runner itself. */
const GUEST = { full: { warmup: 2000, samples: 20000, repetitions: 6 }, quick: { warmup: 200, samples: 2000, repetitions: 2 } };

const row = (r: Omit<TrialRow, 'size' | 'quick' | 'metrics' | 'entry'>, sz: typeof SINGLE): TrialRow => ({
  entry: 'access', size: sz.full, quick: sz.quick, metrics: [LATENCY], ...r,
});

export const accessScenario: ScenarioTable = {
  name: 'access',
  title: 'Cost of one register access: trapped vs passthrough',
  description:
    'One BAR0 queue-register access of a VF, through the device (the trapped path a vfio-user '
    + 'REGION_WRITE/READ ends in) versus a plain store/load into the shared BAR mapping '
    + '(passthrough). The doorbell rows carry one 64-byte frame each, so both sides include the '
    + 'same device work and differ only by how the device learns of the doorbell.',
  trials: [
    row({
      name: 'pt-doorbell', label: 'passthrough doorbell → device done', path: 'passthrough',
      params: { op: 'doorbell', via: 'passthrough', frameBytes: 64, opsPerSample: 1, pollMode: 'busy' },
      measures: 'TDT store into the mapped BAR until the device has sent the frame and written DD back',
      includes: [DEVICE, 'the device thread noticing the new tail by polling shared memory',
        'TX of one 64-byte frame (descriptor DMA read, buffer read, L2 switch to the uplink queue, DD write-back)',
        'the driver spinning on DD in guest RAM', 'one clock read pair (~timer overhead, not subtracted)'],
      excludes: ['descriptor writing (done before the clock starts)', 'uplink draining and ring reclaim (between samples)'],
    }, SINGLE),
    row({
      name: 'trap-doorbell', label: 'trapped doorbell → device done', path: 'trapped',
      params: { op: 'doorbell', via: 'trapped', frameBytes: 64, opsPerSample: 1, pollMode: 'busy' },
      measures: 'nic.vfRegWrite(TDT) until the device has sent the frame and written DD back',
      includes: [DEVICE, 'the N-API call and its argument checks', 'taking the NIC lock (contended by the polling device thread)',
        'the same TX work as pt-doorbell, done synchronously inside the call', 'one clock read pair (not subtracted)'],
      excludes: ['the SIGSEGV / MMIO exit of a guest store', 'the vfio-user socket round trip (REGION_WRITE and its reply)',
        'the mediator: tail-trap tracker reading the posted descriptors', 'descriptor writing and reclaim (outside the clock)'],
    }, SINGLE),
    row({
      name: 'pt-store', label: 'passthrough TDT store', path: 'passthrough',
      params: { op: 'store', via: 'passthrough', opsPerSample: 1000, pollMode: 'busy' },
      measures: 'one store of the unchanged TDT value into the mapped BAR (mean of 1000 back-to-back stores)',
      includes: ['a sequentially consistent 32-bit store (Atomics.store: the wmb()+writel of a driver)',
        'whatever cache-line traffic with the polling device thread falls inside the loop'],
      excludes: ['any device work (the tail does not move)', 'clock overhead (amortised over 1000 stores)',
        'most of the cost of taking the line back from the polling device thread: back-to-back stores usually find '
          + 'it still owned, an isolated doorbell store pays it (pt-doorbell bounds that from above)'],
    }, BATCHED),
    row({
      name: 'trap-write', label: 'trapped TDT write', path: 'trapped',
      params: { op: 'store', via: 'trapped', opsPerSample: 1, pollMode: 'busy' },
      measures: 'nic.vfRegWrite of the unchanged TDT value: the device side of one trapped write with no queue work',
      includes: ['the N-API call and its argument checks', 'taking the NIC lock (contended by the polling device thread)',
        'register semantics and the synchronous queue-sync pass', 'one clock read pair (not subtracted)'],
      excludes: ['the SIGSEGV / MMIO exit', 'the vfio-user socket round trip', 'the mediator'],
    }, SINGLE),
    row({
      name: 'pt-load', label: 'passthrough TDH load', path: 'passthrough',
      params: { op: 'load', via: 'passthrough', opsPerSample: 1000, pollMode: 'busy' },
      measures: 'one load of TDH from the mapped BAR (mean of 1000 back-to-back loads)',
      includes: ['a sequentially consistent 32-bit load (Atomics.load)', 'cache-line traffic with the polling device thread'],
      excludes: ['clock overhead (amortised over 1000 loads)'],
    }, BATCHED),
    row({
      name: 'trap-read', label: 'trapped TDH read', path: 'trapped',
      params: { op: 'load', via: 'trapped', opsPerSample: 1, pollMode: 'busy' },
      measures: 'nic.vfRegRead of TDH: the device side of one trapped read',
      includes: ['the N-API call (bigint result)', 'taking the NIC lock (contended by the polling device thread)',
        'one clock read pair (not subtracted)'],
      excludes: ['the SIGSEGV / MMIO exit', 'the vfio-user socket round trip', 'the mediator'],
    }, SINGLE),
    row({
      name: 'trap-roundtrip', label: 'guest trapped TDT write (full round trip)', path: 'trapped',
      params: { op: 'store', via: 'guest-trapped', opsPerSample: 1, pollMode: 'adaptive' },
      measures: "a guest runner's store of the unchanged TDT into a trapped page, until it resumes after the reply",
      includes: ['SIGSEGV in the guest runner and the decode of the faulting MOV',
        'vfio-user REGION_WRITE over the UNIX socket and its reply (two process wake-ups)',
        "the daemon's dispatcher and device model on its event loop (nic.vfRegWrite, as trap-write)",
        'the register write-back into the saved context and sigreturn', "the guest's clock read pair (~20 ns)"],
      excludes: ["the mediator's tail-trap tracker (the guest traps the page itself, --trap-all; the mediator is not in the path yet)",
        'any device work (the tail does not move)'],
    }, GUEST),
    row({
      name: 'trap-roundtrip-doorbell', label: 'guest trapped doorbell (full round trip)', path: 'trapped',
      params: { op: 'doorbell', via: 'guest-trapped', frameBytes: 64, opsPerSample: 1, pollMode: 'adaptive' },
      measures: "a guest runner's TDT store for one posted 64-byte frame into a trapped page, until it resumes",
      includes: ['everything trap-roundtrip includes', 'the TX of one frame, done synchronously inside the REGION_WRITE'],
      excludes: ["the mediator's tail-trap tracker (not in the path yet)", 'writing the descriptor (before the clock)'],
    }, GUEST),
  ],
  ratios: [
    { name: 'doorbell: trapped / passthrough', numerator: 'trap-doorbell', denominator: 'pt-doorbell', metric: 'latency',
      stat: 'median', meaning: 'how many times longer a doorbell takes to reach the device through the trap handler' },
    { name: 'write: trapped / passthrough', numerator: 'trap-write', denominator: 'pt-store', metric: 'latency',
      stat: 'median', meaning: 'how many times more a register write costs the writer when it is trapped' },
    { name: 'read: trapped / passthrough', numerator: 'trap-read', denominator: 'pt-load', metric: 'latency',
      stat: 'median', meaning: 'how many times more a register read costs the reader when it is trapped' },
    { name: 'write: guest trapped / passthrough', numerator: 'trap-roundtrip', denominator: 'pt-store', metric: 'latency',
      stat: 'median', meaning: 'how many times more a guest pays for a trapped register write than for a posted store' },
    { name: 'write: guest round trip / device side', numerator: 'trap-roundtrip', denominator: 'trap-write', metric: 'latency',
      stat: 'median', meaning: 'what the exit and the socket round trip add on top of the device side of a trap' },
  ],
  charts: [
    { id: 'access-latency-histogram', title: 'Trap latency histogram (one access per sample)', kind: 'histogram',
      metric: 'latency', trials: ['pt-doorbell', 'trap-doorbell', 'trap-write', 'trap-read'] },
    { id: 'access-latency-bars', title: 'Cost of one access: trapped vs passthrough', kind: 'bars',
      metric: 'latency', stat: 'median', trials: ['pt-store', 'trap-write', 'trap-roundtrip', 'pt-load', 'trap-read',
        'pt-doorbell', 'trap-doorbell', 'trap-roundtrip-doorbell'] },
    { id: 'access-roundtrip-histogram', title: 'Guest trapped access: full round trip', kind: 'histogram',
      metric: 'latency', trials: ['trap-roundtrip', 'trap-roundtrip-doorbell'] },
  ],
};
