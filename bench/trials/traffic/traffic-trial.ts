/**
 * Trial entry point `traffic`: frames between two VFs driven by two vfmed-guest processes
 * over vfio-user, with passthrough doorbells or with BAR0 pages 2-3 trapped.
 *
 *   VF0 guest: loopback --dst <VF1>  ──frames──▶  VF1 guest: fwd (MAC swap)  ──▶ back to VF0
 *
 * VF0 generates tagged frames of frameBytes in bursts of `batch` (one TDT doorbell per
 * burst, one RDT doorbell per RX poll of up to `batch`), VF1 forwards them back, VF0
 * verifies them. Trapped: tail-trap DMA logging is started on both VFs, so both guests got
 * the trapped layout (and acknowledged it) and every doorbell is a SIGSEGV + vfio-user
 * REGION_WRITE through the mediator and the tail-trap tracker.
 *
 * postedWrites: the guests send their trapped queue-page stores as posted writes (vfio-user
 * NO_REPLY: the store returns without waiting for the device, as a CPU's MMIO write does).
 *
 *   measure 'rate'           a sample = frames received back by VF0 per second, over one
 *                            stats window (windowMs)
 *   measure 'store-latency'  a sample = one trapped BAR0 store of VF0's guest, from its
 *                            SIGSEGV to its return (REGION_WRITE round trip included)
 *
 * Honesty checks: VF0 saw no corrupted frame; trapped rows really trapped (the tracker
 * counted trapped tail writes of both VFs; the latency row has as many trapped stores as it
 * reports); passthrough rows trapped none of them.
 */
import type { JsonObject } from '../../scenario-types.js';
import { intIn, oneOf, onlyKeys } from '../params.js';
import type { TrialContext, TrialEntryPoint, TrialOutput } from '../protocol.js';
import { Guest } from './guest.js';
import { MediatedHost } from './host.js';

interface TrafficParams {
  path: 'passthrough' | 'trapped';
  postedWrites: boolean;
  frameBytes: number;
  batch: number;
  measure: 'rate' | 'store-latency';
  windowMs: number;
}

const KEYS = ['path', 'frameBytes', 'batch', 'loopback', 'trapPages', 'tracker', 'measure', 'windowMs', 'postedWrites'];

function parse(p: JsonObject): TrafficParams {
  onlyKeys(p, KEYS);
  if (p['loopback'] !== undefined && p['loopback'] !== 'vf-to-vf') throw new RangeError('parameter loopback must be vf-to-vf');
  if (p['tracker'] !== undefined && p['tracker'] !== 'tail-trap') throw new RangeError('parameter tracker must be tail-trap');
  const path = oneOf(p, 'path', ['passthrough', 'trapped'] as const);
  if (p['trapPages'] !== undefined && (path !== 'trapped' || JSON.stringify(p['trapPages']) !== '[2,3]')) {
    throw new RangeError('parameter trapPages is [2, 3], for trapped rows only');
  }
  const measure = p['measure'] === undefined ? 'rate' : oneOf(p, 'measure', ['rate', 'store-latency'] as const);
  const posted = p['postedWrites'] ?? false;
  if (typeof posted !== 'boolean') throw new TypeError('parameter postedWrites must be a boolean');
  if (posted && path !== 'trapped') throw new RangeError('postedWrites applies to trapped rows');
  if (measure === 'store-latency' && path !== 'trapped') throw new RangeError('store-latency needs path trapped');
  return {
    path, measure, postedWrites: posted,
    frameBytes: intIn(p, 'frameBytes', 64, 1514),
    batch: intIn(p, 'batch', 1, 256),
    windowMs: intIn(p, 'windowMs', 20, 2000, 100),
  };
}

/** vfmed-guest --size is the frame without FCS; the 64-byte row means 60 + FCS. */
function guestSize(frameBytes: number): number {
  return frameBytes >= 1514 ? 1514 : frameBytes - 4;
}

export const trafficTrial: TrialEntryPoint = {
  validate(params: JsonObject): void {
    parse(params);
  },

  async run(ctx: TrialContext): Promise<TrialOutput> {
    const p = parse(ctx.params);
    const host = new MediatedHost({ vfs: 2, tracker: 'tail-trap' });
    const guests: Guest[] = [];
    try {
      const common = ['--ring', '256', '--burst', String(p.batch), '--link-wait', '3000', ...(p.postedWrites ? ['--posted-writes'] : [])];
      const fwd = new Guest(['fwd', '--socket', host.path(1), '--stats-interval', '0', ...common]);
      guests.push(fwd);
      await fwd.waitFor((l) => l.some((x) => x.type === 'init'), 'VF1 guest up');
      const windows = ctx.warmup + ctx.samples;
      const latency = p.measure === 'store-latency';
      // Latency rows run until enough trapped stores happened (a few thousand per second
      // even at batch 1 on a loaded machine); rate rows for their windows.
      const durationS = latency ? Math.min(30, Math.max(3, (ctx.warmup + ctx.samples) / 2000)) : ((windows + 4) * p.windowMs) / 1000 + 2;
      const gen = new Guest([
        'loopback', '--socket', host.path(0), '--dst', host.mac(1), '--size', String(guestSize(p.frameBytes)),
        '--stats-interval', String(p.windowMs), '--duration', String(durationS),
        ...(latency ? ['--lat-samples', String(Math.min(100_000, ctx.samples * 4 + ctx.warmup))] : []), ...common,
      ]);
      guests.push(gen);
      await gen.waitFor((l) => l.some((x) => x.type === 'init'), 'VF0 guest up');
      const trackers = [];
      if (p.path === 'trapped') {
        // Both VFs trapped: tail-trap tracking needs (and waits for) the guests' ack.
        for (const vf of [0, 1]) {
          const h = host.handle(vf);
          await h.logging.start({ pageSize: 4096n, ranges: [] });
          trackers.push(h.tailTracker!);
        }
      }
      const out: TrialOutput = { samples: {}, extra: {} };
      if (!latency) {
        const firstWindow = gen.lines.filter((l) => l.type === 'stats').length + 1; // after trapping
        await gen.waitFor((l) => l.filter((x) => x.type === 'stats').length >= firstWindow + windows, `${windows} stats windows`,
          windows * p.windowMs * 20 + 30_000);
        const rates = gen.lines.filter((l) => l.type === 'stats').slice(firstWindow, firstWindow + windows).map((l) => l['rx_pps'] as number);
        out.samples['rate'] = rates.slice(ctx.warmup);
        // Gbit/s of one direction: the frame with its FCS (the 1514 row is a full 1518-byte frame).
        out.samples['throughput'] = out.samples['rate'].map((r) => r * (guestSize(p.frameBytes) + 4) * 8);
        ctx.progress(windows, windows);
      }
      if (latency) await gen.exited; // it runs for durationS
      const tw = p.path === 'trapped' ? trackers.map((t) => t.stats.trappedTailWrites) : [0, 0];
      for (const g of guests) await g.stop();
      const summary = gen.last('summary');
      if (!summary) throw new Error(`VF0 guest left no summary: ${gen.stderr.trim()}`);
      if ((summary['rx_corrupted'] as number) !== 0) throw new Error(`${String(summary['rx_corrupted'])} corrupted frames`);
      if ((summary['rx_tagged'] as number) === 0) throw new Error('no frame came back');
      const lat = summary['mmio_write_latency'] as { count: number; samples_ns?: number[] };
      if (p.path === 'trapped' && (tw[0]! < 10 || tw[1]! < 10)) throw new Error(`trapped row with ${tw.join('/')} trapped tail writes`);
      if (p.path === 'passthrough' && lat.count > 1000) throw new Error(`passthrough row made ${lat.count} trapped stores`);
      if (latency) {
        const s = lat.samples_ns ?? [];
        if (s.length < ctx.warmup + ctx.samples) throw new Error(`only ${s.length} trapped stores, need ${ctx.warmup + ctx.samples}`);
        out.samples['latency'] = s.slice(ctx.warmup, ctx.warmup + ctx.samples);
        ctx.progress(1, 1);
      }
      out.extra = {
        framesBack: summary['rx_tagged'] as number, trappedTailWrites: tw, trappedStores: lat.count,
        guestTxPps: summary['tx_pps_avg'] as number,
      };
      return out;
    } finally {
      for (const g of guests) await g.stop();
      await host.close();
    }
  },
};
