/**
 * Trial entry point `dirty`: how well one dirty tracker knows which guest pages the device
 * wrote, and what a report costs, while RX traffic lands in guest RAM.
 *
 * A vfmed-guest (fwd) drives VF 0 of a mediated host with `ramMiB` of guest RAM; frames of
 * frameBytes come in from the wire at ratePps (injected here in 1 ms batches) and are
 * forwarded back out. DMA logging runs with the tracker under test over all of guest RAM.
 * Every syncIntervalMs one sync: the VF is quiesced (so no DMA races the comparison), the
 * tracker reports (DMA_LOGGING_REPORT semantics: 4 KiB pages, the whole RAM, report
 * clears), the device's ground-truth log is read and cleared, the VF resumes.
 *
 *   recall     % of truly written pages the report contains (must be 100)
 *   precision  % of reported pages the device really wrote
 *   reportCost ns of the report call alone (bitmap over all of RAM, folded to 4 KiB)
 *
 * A sync in which the device wrote nothing counts recall 100 and precision 100 if nothing
 * was reported (0 otherwise).
 */
import type { TrackerMode } from '../../../mediator/mediate/dirty-tracker.js';
import { bitmapPages } from '../../../mediator/mediate/dirty-tracker.js';
import type { JsonObject } from '../../scenario-types.js';
import { now } from '../clock.js';
import { intIn, oneOf, onlyKeys } from '../params.js';
import type { TrialContext, TrialEntryPoint, TrialOutput } from '../protocol.js';
import { Guest } from './guest.js';
import { MediatedHost } from './host.js';

interface DirtyParams {
  tracker: TrackerMode;
  ramMiB: number;
  ratePps: number;
  frameBytes: number;
  syncIntervalMs: number;
}

function parse(p: JsonObject): DirtyParams {
  onlyKeys(p, ['tracker', 'ramMiB', 'ratePps', 'frameBytes', 'syncIntervalMs']);
  return {
    tracker: oneOf(p, 'tracker', ['tail-trap', 'device-log', 'all'] as const),
    ramMiB: intIn(p, 'ramMiB', 16, 4096),
    ratePps: intIn(p, 'ratePps', 1000, 10_000_000),
    frameBytes: intIn(p, 'frameBytes', 60, 1514),
    syncIntervalMs: intIn(p, 'syncIntervalMs', 5, 10_000),
  };
}

function frame(dst: Uint8Array, flow: number, len: number): Buffer {
  const f = Buffer.alloc(len);
  Buffer.from(dst).copy(f, 0);
  f.writeUInt32BE(0x0276bb00 + (flow & 0xff), 6);
  f.writeUInt16BE(0x0001, 10);
  f.writeUInt16BE(0x88b5, 12);
  return f;
}

export const dirtyTrial: TrialEntryPoint = {
  validate(params: JsonObject): void {
    parse(params);
  },

  async run(ctx: TrialContext): Promise<TrialOutput> {
    const p = parse(ctx.params);
    const host = new MediatedHost({ vfs: 1, tracker: p.tracker });
    const ram = BigInt(p.ramMiB) << 20n;
    const guest = new Guest(['fwd', '--socket', host.path(0), '--ram', `${p.ramMiB}M`, '--ring', '256', '--stats-interval', '0']);
    let pump: NodeJS.Timeout | undefined;
    try {
      await guest.waitFor((l) => l.some((x) => x.type === 'init'), 'guest up');
      const h = host.handle(0);
      await h.logging.start({ pageSize: 4096n, ranges: [{ iova: 0n, length: ram }] });
      host.nic.truthRead(0, 0n, ram, true);
      const mac = host.nic.vfInfo(0).mac;
      const perMs = Math.max(1, Math.round(p.ratePps / 1000));
      let flow = 0, injected = 0, dropped = 0;
      pump = setInterval(() => {
        for (let i = 0; i < perMs; i++) {
          try {
            host.nic.uplinkInject(frame(mac, flow++, p.frameBytes));
            injected++;
          } catch {
            dropped++; // FIFO full: the guest did not keep up; nothing was written for it
          }
        }
        while (host.nic.uplinkTake() !== null) { /* the forwarded frames */ }
      }, 1);
      const recall: number[] = [], precision: number[] = [], cost: number[] = [];
      const total = ctx.warmup + ctx.samples;
      let truthTotal = 0, reportedTotal = 0;
      for (let i = 0; i < total; i++) {
        await new Promise((r) => setTimeout(r, p.syncIntervalMs));
        host.pf.quiesce(0);
        let got: Set<number>, truth: Set<number>, dt: number;
        try {
          const t0 = now();
          const bm = h.logging.report({ iova: 0n, length: ram, pageSize: 4096n });
          dt = Number(now() - t0);
          got = new Set(bitmapPages(bm, 0n, 4096n));
          truth = new Set(bitmapPages(host.nic.truthRead(0, 0n, ram, true), 0n, 4096n));
        } finally {
          host.pf.resume(0);
        }
        if (i < ctx.warmup) continue;
        let hit = 0;
        for (const pg of truth) if (got.has(pg)) hit++;
        recall.push(truth.size ? (100 * hit) / truth.size : 100);
        precision.push(got.size ? (100 * hit) / got.size : truth.size ? 0 : 100);
        cost.push(dt);
        truthTotal += truth.size;
        reportedTotal += got.size;
        ctx.progress(i + 1, total);
      }
      clearInterval(pump);
      pump = undefined;
      const status = h.status();
      await guest.stop();
      const summary = guest.last('summary');
      if (!summary || (summary['rx_packets'] as number) === 0) throw new Error(`the guest received nothing: ${guest.stderr.trim()}`);
      if (truthTotal === 0) throw new Error('the device wrote nothing during the syncs');
      return {
        samples: { recall, precision, reportCost: cost },
        extra: { injected, dropped, truthPages: truthTotal, reportedPages: reportedTotal, guestRx: summary['rx_packets'] as number,
          status: JSON.parse(JSON.stringify(status)) as JsonObject },
      };
    } finally {
      if (pump) clearInterval(pump);
      await guest.stop();
      await host.close();
    }
  },
};
