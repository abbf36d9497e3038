/**
 * The `access` rows with via 'guest-trapped' (trap-roundtrip, trap-roundtrip-doorbell):
 * one BAR0 access as a guest pays it when the page is trapped. A vfmed-guest process
 * (`mmio-lat`, native/guest/mmio-latency.c) maps nothing of BAR0 (--trap-all) and times
 * each of its own accesses with CLOCK_MONOTONIC around the MOV:
 *
 *   store ─▶ SIGSEGV ─▶ decode ─▶ REGION_WRITE ──socket──▶ daemon (this process):
 *   dispatcher ─▶ device (nic.vfRegWrite) ─▶ reply ──socket──▶ handler resumes ─▶ sigreturn
 *
 * The samples are the guest's; this process only serves the socket (its event loop must
 * stay free while the guest runs). Honesty checks, a failed repetition otherwise: the
 * guest reports the page trapped, every timed access arrived at the server as exactly one
 * REGION_WRITE (READ) of the register (daemon's per-page counter), a doorbell made the
 * device send exactly one frame.
 */
import type { TrialContext, TrialOutput } from '../protocol.js';
import { GuestProcess, type GuestLine } from '../../../mediator/guest/guest-process.js';
import { openGuestRig } from './guest-rig.js';

export interface GuestAccessParams {
  op: 'doorbell' | 'store' | 'load';
  frameBytes: number;
  pollMode: 'busy' | 'adaptive';
}

const TDT_PAGE = 3;

export async function runGuestAccess(ctx: TrialContext, p: GuestAccessParams): Promise<TrialOutput> {
  const rig = await openGuestRig({ vfs: 1, pollMode: p.pollMode });
  try {
    const vf = rig.vfs[0]!;
    const latOp = p.op === 'store' ? 'write' : p.op === 'load' ? 'read' : 'doorbell';
    const before = rig.daemon.status().vfs[0]!;
    const total = ctx.warmup + ctx.samples;
    const g = GuestProcess.spawn('mmio-lat', ['mmio-lat', '--socket', vf.socket, '--trap-all', '--lat-op', latOp,
      '--lat-warmup', String(ctx.warmup), '-n', String(ctx.samples), '--size', String(p.frameBytes - 4),
      '--stats-interval', '0']);
    const timer = setInterval(() => {
      const got = g.lines.filter((l) => l.type === 'mmio_latency').reduce((a, l) => a + (l['samples_ns'] as number[]).length, 0);
      ctx.progress(ctx.warmup + got, total);
    }, 200);
    const ex = await g.finish(600_000);
    clearInterval(timer);
    if (ex.code !== 0) throw new Error(`vfmed-guest mmio-lat exited ${ex.code ?? ex.signal}: ${ex.stderr.split('\n').pop() ?? ''}`);
    const setup = g.lines.find((l) => l.type === 'mmio_latency_setup') as GuestLine | undefined;
    if (!setup || setup['trapped'] !== true) throw new Error('the guest did not trap the TX queue page');
    const latency = g.lines.filter((l) => l.type === 'mmio_latency').flatMap((l) => l['samples_ns'] as number[]);
    if (latency.length !== ctx.samples) throw new Error(`the guest printed ${latency.length} samples, expected ${ctx.samples}`);
    const after = rig.daemon.status().vfs[0]!;
    const arrived = p.op === 'load'
      ? after.trapped.bar0.reads[TDT_PAGE]! - before.trapped.bar0.reads[TDT_PAGE]!
      : (after.trapped.writesByOffset['0x3818'] ?? 0) - (before.trapped.writesByOffset['0x3818'] ?? 0);
    // Bring-up touches page 3 too (ring setup, a handful of accesses): at least one per
    // timed access, and not more than that plus bring-up.
    if (arrived < total || arrived > total + 64) {
      throw new Error(`${arrived} trapped ${p.op === 'load' ? 'reads of page 3' : 'TDT writes'} reached the server for ${total} accesses`);
    }
    const frames = after.tx.packets - before.tx.packets;
    if (p.op === 'doorbell' && frames !== total) throw new Error(`the device sent ${frames} frames for ${total} doorbells`);
    if (p.op !== 'doorbell' && frames !== 0) throw new Error(`a no-work access made the device send ${frames} frames`);
    return {
      samples: { latency },
      extra: {
        guestClockNs: setup['clock_ns'] as number,
        accessesAtServer: arrived,
        deviceTxFrames: frames,
        guestMmioExits: ((ex.summary?.['mmio_reads'] as number) ?? 0) + ((ex.summary?.['mmio_writes'] as number) ?? 0),
        pollMode: p.pollMode,
      },
    };
  } finally {
    await rig.close();
  }
}
