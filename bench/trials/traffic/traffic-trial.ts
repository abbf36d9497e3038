/**
 * Trial entry point `traffic`: the frame rate of one VF pair, guest runner to guest runner
 * through the NIC's switch. Two vfmed-guest processes against the daemon embedded in the
 * trial process:
 *
 *   txgen (VF0, --burst batch, --size frameBytes - 4) ──TX──▶ switch ──RX──▶ rxsink (VF1)
 *
 * Each sample is one stats window (--stats-interval windowMs) of the receiver: frames it
 * received and verified per second over that window (so TX and RX are both in it: a frame
 * counts once it went out of one guest and into the other). The first window with traffic
 * is partial and dropped, then `warmup` windows are discarded, then `samples` windows are
 * kept; txgen sends for longer than that. Throughput is rate x frameBytes x 8 (frame with
 * FCS, without preamble and inter-frame gap).
 *
 * path 'passthrough': doorbells are stores into the mapped queue pages; 'trapped': both
 * guests trap every BAR0 access (--trap-all), so each doorbell is a vfio-user round trip —
 * without the mediator's tail-trap tracker, which the trapped scenario adds when it exists.
 *
 * Honesty checks (the repetition fails otherwise): the receiver saw no sequence gap, no
 * duplicate, no reordering and no corrupted frame, and received no more than was sent.
 */
import type { JsonObject } from '../../scenario-types.js';
import { intIn, oneOf, onlyKeys } from '../params.js';
import type { TrialContext, TrialEntryPoint, TrialOutput } from '../protocol.js';
import { GuestProcess, type GuestLine } from '../../../mediator/guest/guest-process.js';
import { openGuestRig } from '../guest/guest-rig.js';

interface TrafficParams {
  frameBytes: number;
  batch: number;
  path: 'passthrough' | 'trapped';
  ring: number;
  windowMs: number;
  pollMode: 'adaptive' | 'busy';
}

function parse(p: JsonObject): TrafficParams {
  onlyKeys(p, ['frameBytes', 'batch', 'path', 'loopback', 'ring', 'windowMs', 'pollMode', 'trapPages', 'tracker']);
  if (p['loopback'] !== undefined) oneOf(p, 'loopback', ['vf-to-vf'] as const);
  if (p['tracker'] !== undefined && p['tracker'] !== 'none') {
    throw new RangeError(`tracker ${JSON.stringify(p['tracker'])} needs the mediator with BAR0 trapping (not built yet)`);
  }
  const ring = intIn(p, 'ring', 8, 4096, 256);
  if (ring % 8) throw new RangeError('parameter ring must be a multiple of 8');
  return {
    frameBytes: intIn(p, 'frameBytes', 64, 1518),
    batch: intIn(p, 'batch', 1, 1024),
    path: oneOf(p, 'path', ['passthrough', 'trapped'] as const),
    ring,
    windowMs: intIn(p, 'windowMs', 10, 10_000, 100),
    pollMode: p['pollMode'] === undefined ? 'adaptive' : oneOf(p, 'pollMode', ['adaptive', 'busy'] as const),
  };
}

const num = (l: GuestLine, k: string): number => (typeof l[k] === 'number' ? l[k] as number : 0);

async function runTraffic(ctx: TrialContext): Promise<TrialOutput> {
  const p = parse(ctx.params);
  const rig = await openGuestRig({ vfs: 2, pollMode: p.pollMode });
  const guests: GuestProcess[] = [];
  try {
    const [vf0, vf1] = rig.vfs as [typeof rig.vfs[number], typeof rig.vfs[number]];
    const trap = p.path === 'trapped' ? ['--trap-all'] : [];
    const common = ['--burst', String(p.batch), '--ring', String(p.ring), ...trap];
    const rx = GuestProcess.spawn('rxsink', ['rxsink', '--socket', vf1.socket, '--seq-from-zero',
      '--stats-interval', String(p.windowMs), ...common]);
    guests.push(rx);
    await rx.waitFor('init', 20_000);
    const want = ctx.warmup + ctx.samples + 1;
    const durationS = ((want + 4) * p.windowMs) / 1000 + 1;
    const tx = GuestProcess.spawn('txgen', ['txgen', '--socket', vf0.socket, '--dst', vf1.mac,
      '--size', String(p.frameBytes - 4), '-d', String(durationS), '--stats-interval', '0', ...common]);
    guests.push(tx);

    // Windows with traffic, as they come; enough of them ends the run early.
    const windows = (): GuestLine[] => {
      const stats = rx.lines.filter((l) => l.type === 'stats');
      const first = stats.findIndex((l) => num(l, 'rx_pps') > 0);
      return first < 0 ? [] : stats.slice(first);
    };
    const deadline = Date.now() + durationS * 1000 + 20_000;
    while (windows().length < want) {
      if (Date.now() > deadline) throw new Error(`only ${windows().length} of ${want} stats windows within the run`);
      const ended = await Promise.race([tx.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), p.windowMs))]);
      if (ended && windows().length < want) {
        await new Promise((r) => setTimeout(r, 2 * p.windowMs));
        if (windows().length < want) throw new Error(`txgen ended after ${windows().length} of ${want} stats windows`);
      }
      ctx.progress(Math.min(windows().length, want), want);
    }
    const kept = windows().slice(1 + ctx.warmup, 1 + ctx.warmup + ctx.samples);
    tx.kill('SIGTERM');
    const et = await tx.finish(10_000);
    await new Promise((r) => setTimeout(r, 100)); // let the last frames in flight arrive
    rx.kill('SIGTERM');
    const er = await rx.finish(10_000);
    if (et.code !== 0 || !et.summary) throw new Error(`txgen failed (${et.code ?? et.signal}): ${et.stderr.split('\n').pop() ?? ''}`);
    if (er.code !== 0 || !er.summary) throw new Error(`rxsink failed (${er.code ?? er.signal}): ${er.stderr.split('\n').pop() ?? ''}`);
    const s = er.summary;
    const bad = ['rx_lost', 'rx_duplicated', 'rx_reordered', 'rx_corrupted', 'rx_stale', 'rx_untagged'].filter((k) => num(s, k) !== 0);
    if (bad.length) throw new Error(`the receiver saw ${bad.map((k) => `${num(s, k)} ${k.slice(3)}`).join(', ')}`);
    if (num(s, 'rx_tagged') > num(et.summary, 'tx_packets')) {
      throw new Error(`received ${num(s, 'rx_tagged')} frames, more than the ${num(et.summary, 'tx_packets')} sent`);
    }
    const rate = kept.map((l) => num(l, 'rx_pps'));
    if (rate.some((r) => !(r > 0))) throw new Error('a kept window had no traffic');
    const st = rig.daemon.status();
    return {
      samples: { rate, throughput: rate.map((r) => r * p.frameBytes * 8) },
      extra: {
        txPackets: num(et.summary, 'tx_packets'),
        rxVerified: num(s, 'rx_tagged'),
        txRingFull: num(et.summary, 'tx_ring_full'),
        deviceTx: st.vfs[0]!.tx.packets,
        deviceRx: st.vfs[1]!.rx.packets,
        fifoDrops: st.vfs[1]!.rx.fifoDrops,
        trappedWrites: st.vfs.reduce((a, v) => a + v.trapped.bar0.writes[2]! + v.trapped.bar0.writes[3]!, 0),
        windowMs: p.windowMs,
        ring: p.ring,
        pollMode: p.pollMode,
      },
    };
  } finally {
    for (const g of guests) g.kill('SIGKILL');
    await Promise.all(guests.map((g) => g.exited));
    await rig.close();
  }
}

export const trafficTrial: TrialEntryPoint = {
  validate: (params) => void parse(params),
  run: runTraffic,
};
