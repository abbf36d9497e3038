/**
 * Trial entry point `access`: one BAR0 queue-register access of a VF, trapped (through the
 * device: nic.vfRegWrite / vfRegRead, what the vfio-user server calls for REGION_WRITE/READ)
 * or passthrough (Atomics store/load on the shared BAR mapping the device polls).
 *
 *   op 'doorbell'  TDT = next slot, one 64-byte frame behind it; the sample ends when the
 *                  device has written DD back into that descriptor in guest RAM. Trapped:
 *                  the device processes the queue synchronously inside the call; passthrough:
 *                  the device thread finds the new tail by polling.
 *   op 'store'     TDT written with its current value: the access alone, no device work.
 *   op 'load'      TDH read.
 *
 * Honesty checks (a repetition fails instead of reporting numbers if one does not hold):
 * every doorbell sent exactly one frame (device TX counter), no queue error, and the
 * no-work ops moved neither head nor tail. 'guest-trapped' (a guest's store -> SIGSEGV ->
 * vfio-user REGION_WRITE round trip) runs in guest-access.ts: a vfmed-guest process times
 * its own accesses against the daemon embedded in this process.
 */
import { TDH, TDT, TQERR, TXD_DCMD_DEXT, TXD_DCMD_EOP, TXD_DCMD_IFCS, TXD_DCMD_RS, TXD_DTYP_DATA,
  TXD_OFF_CMD, TXD_OFF_OLINFO, TXD_PAYLEN_SHIFT, TXD_STA_DD } from '../../../mediator/hw/vf-regs.js';
import type { JsonObject } from '../../scenario-types.js';
import { calibrateTimer, now } from '../clock.js';
import { intIn, oneOf, onlyKeys } from '../params.js';
import type { TrialContext, TrialEntryPoint, TrialOutput } from '../protocol.js';
import { runSamples, type SampleLoop } from '../sampler.js';
import { openAccessRig, TX_RING, VF, type AccessRig } from './access-rig.js';
import { runGuestAccess } from '../guest/guest-access.js';

const OPS = ['doorbell', 'store', 'load'] as const;
const VIAS = ['passthrough', 'trapped', 'guest-trapped'] as const;
/** A doorbell the device has not completed after this long is a failure, not a sample. */
const DOORBELL_DEADLINE_NS = 2_000_000_000n;

interface AccessParams {
  op: (typeof OPS)[number];
  via: (typeof VIAS)[number];
  frameBytes: number;
  opsPerSample: number;
  pollMode: 'busy' | 'adaptive';
}

function parse(p: JsonObject): AccessParams {
  onlyKeys(p, ['op', 'via', 'frameBytes', 'opsPerSample', 'pollMode']);
  const op = oneOf(p, 'op', OPS);
  const via = oneOf(p, 'via', VIAS);
  const frameBytes = intIn(p, 'frameBytes', 64, 1518, 64);
  const opsPerSample = intIn(p, 'opsPerSample', 1, 100_000);
  if (op === 'doorbell' && opsPerSample !== 1) {
    throw new RangeError('a doorbell sample is one doorbell: opsPerSample must be 1');
  }
  return { op, via, frameBytes, opsPerSample, pollMode: oneOf(p, 'pollMode', ['busy', 'adaptive'] as const) };
}

function doorbellLoop(rig: AccessRig, p: AccessParams): SampleLoop & { sent: () => number } {
  const { nic, mem } = rig;
  const bar32 = new Int32Array(rig.bar.buffer);
  const tdtIdx = TDT(0) >> 2;
  const tailBig = Array.from({ length: TX_RING }, (_, i) => BigInt(i));
  const cmd = (TXD_DTYP_DATA | TXD_DCMD_DEXT | TXD_DCMD_IFCS | TXD_DCMD_EOP | TXD_DCMD_RS | (p.frameBytes - 4)) >>> 0;
  const olinfo = ((p.frameBytes - 4) << TXD_PAYLEN_SHIFT) >>> 0;
  let slot = Atomics.load(bar32, tdtIdx);
  let next = 0;
  let ddIdx = 0;
  let sent = 0;
  const spinDd = (): void => {
    let spins = 0;
    const deadline = now() + DOORBELL_DEADLINE_NS;
    while ((Atomics.load(mem.i32, ddIdx) & TXD_STA_DD) === 0) {
      if ((++spins & 0xffff) === 0 && now() > deadline) {
        const q = nic.vfInfo(VF).queues[0];
        throw new Error(`the device did not complete the doorbell within 2 s (TDH ${q.txHead}, TDT ${q.txTail}, `
          + `TQERR ${nic.vfRead32(VF, TQERR(0))})`);
      }
    }
  };
  return {
    opsPerSample: 1,
    prepare() {
      while (nic.uplinkTake() !== null) { /* drain: the uplink queue is bounded */ }
      const d = rig.txRing.offset + slot * 16;
      mem.view.setBigUint64(d, rig.txBuf.iova, true);
      mem.view.setUint32(d + TXD_OFF_CMD, cmd, true);
      Atomics.store(mem.i32, (d + TXD_OFF_OLINFO) >> 2, olinfo | 0); // DD clear, ordered before the doorbell
      ddIdx = (d + TXD_OFF_OLINFO) >> 2;
      next = (slot + 1) % TX_RING;
    },
    op: p.via === 'passthrough'
      ? () => {
        Atomics.store(bar32, tdtIdx, next);
        spinDd();
      }
      : () => {
        nic.vfRegWrite(VF, TDT(0), 4, tailBig[next]!);
        spinDd();
      },
    check() {
      slot = next;
      sent++;
    },
    sent: () => sent,
  };
}

function noWorkLoop(rig: AccessRig, p: AccessParams, sink: { v: number }): SampleLoop {
  const { nic } = rig;
  const bar32 = new Int32Array(rig.bar.buffer);
  const n = p.opsPerSample;
  if (p.op === 'store') {
    const idx = TDT(0) >> 2;
    const cur = Atomics.load(bar32, idx);
    const curBig = BigInt(cur);
    return {
      opsPerSample: n,
      op: p.via === 'passthrough'
        ? () => { for (let k = 0; k < n; k++) Atomics.store(bar32, idx, cur); }
        : () => { for (let k = 0; k < n; k++) nic.vfRegWrite(VF, TDT(0), 4, curBig); },
    };
  }
  const idx = TDH(0) >> 2;
  return {
    opsPerSample: n,
    op: p.via === 'passthrough'
      ? () => { let s = 0; for (let k = 0; k < n; k++) s ^= Atomics.load(bar32, idx); sink.v ^= s; }
      : () => { let s = 0n; for (let k = 0; k < n; k++) s ^= nic.vfRegRead(VF, TDH(0), 4); sink.v ^= Number(s); },
  };
}

function runAccess(ctx: TrialContext): TrialOutput {
  const p = parse(ctx.params);
  const timer = calibrateTimer();
  const rig = openAccessRig({ pollMode: p.pollMode, frameBytes: p.frameBytes });
  try {
    const { nic } = rig;
    const before = nic.vfInfo(VF);
    const sink = { v: 0 };
    let latency: number[];
    let sent = 0;
    if (p.op === 'doorbell') {
      const loop = doorbellLoop(rig, p);
      latency = runSamples(ctx, loop);
      sent = loop.sent();
    } else {
      latency = runSamples(ctx, noWorkLoop(rig, p, sink));
    }
    while (nic.uplinkTake() !== null) { /* drain */ }
    const after = nic.vfInfo(VF);
    const q = after.queues[0];
    const txFrames = Number(after.txPackets - before.txPackets);
    if (q.txError !== 0 || after.dmaErrors !== before.dmaErrors || after.txErrors !== before.txErrors) {
      throw new Error(`TX queue error during the trial (TQERR ${q.txError}, DMA errors ${after.dmaErrors}, TX errors ${after.txErrors})`);
    }
    if (txFrames !== sent) {
      throw new Error(`the device sent ${txFrames} frames for ${sent} doorbells`);
    }
    if (p.op !== 'doorbell' && (q.txHead !== before.queues[0].txHead || q.txTail !== before.queues[0].txTail)) {
      throw new Error(`a no-work access moved the TX queue (TDH ${before.queues[0].txHead}->${q.txHead})`);
    }
    return {
      samples: { latency },
      extra: {
        timerOverheadNs: timer.overheadNs,
        timerResolutionNs: timer.resolutionNs,
        doorbells: sent,
        deviceTxFrames: txFrames,
        pollMode: p.pollMode,
        opsPerSample: p.opsPerSample,
        sink: sink.v & 1,
      },
    };
  } finally {
    rig.close();
  }
}

export const accessTrial: TrialEntryPoint = {
  validate: (params) => void parse(params),
  run: (ctx) => {
    const p = parse(ctx.params);
    return p.via === 'guest-trapped' ? runGuestAccess(ctx, p) : runAccess(ctx);
  },
};
