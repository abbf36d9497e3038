/**
 * `vfmed demo`: the whole device stack in one process, end to end.
 *
 *   1. an emulated NIC (native/nic through the addon) with 2 VFs, its device thread running;
 *   2. the PF brought up by the real PF driver (libvfpf.so through koffi): admin queue,
 *      SR-IOV enable, one MAC per VF; it then serves the VF mailboxes;
 *   3. per VF a "guest": guest RAM in a memfd DMA-mapped into the VF, BAR0 pages 0-1 through
 *      the trapped register path and pages 2-3 mapped straight through (passthrough
 *      doorbells), and the igbvf-style poll-mode driver (reset handshake with the PF,
 *      rings on queue 0);
 *   4. traffic: N frames VF0->VF1, N frames VF1->VF0, N broadcasts from each VF (seen by
 *      the other VF and by the uplink), every frame checked byte for byte, in order;
 *   5. counters: what the drivers counted, what the device counted (per-VF info and the VF
 *      statistics registers) and what the PF driver reads through the admin queue.
 *
 * Nothing here is faked: frames go through real descriptors, DMA, the RX FIFO and the L2
 * switch of the model. runDemo() returns a result; printing it is the CLI's job.
 */
import { loadAddon, type NativeAddon, type NativeNic } from '../native/addon.js';
import type { Logger } from 'pino';
import { pollUntil, sleepUs } from './bounded-wait.js';
import { macString } from './frames.js';
import { GuestMemory } from './guest-memory.js';
import { IgbvfPmd, type VfStats } from './igbvf-pmd.js';
import { bringUpPf, type DemoPf, type PfVfCounters } from './demo-pf.js';
import { BROADCAST, demoFrame, TrafficLedger, type StreamSpec } from './demo-traffic.js';
import { trappedPort, VfBarMapping } from './vf-reg-port.js';

export const DEMO_VFS = 2;
/** The NIC's default VF MACs (base + n); the PF driver replaces them (vfMac below). */
export const DEMO_BASE_MAC = Uint8Array.of(0x02, 0x76, 0x66, 0x6d, 0x00, 0x00);
const GUEST_IOVA = 0x1_0000_0000n;
const GUEST_RAM = 4 << 20;        // rings (2 x 4 KiB) + 2 x 256 x 2 KiB buffers, with room
const RING = 256;
/** Frames a stream may have in flight: well below the RX ring so nothing is ever dropped. */
const WINDOW = 64;
/** Progress budget: the run fails when nothing moves for this long (~5 s). */
const IDLE_TRIES = 50_000;
const IDLE_SLEEP_US = 100;

export interface DemoOptions {
  frames: number;
  log: Logger;
  addon?: NativeAddon;
}

export interface StreamResult {
  name: string;
  from: string;
  to: string;
  sent: number;
  receivers: { receiver: string; verified: number; corrupt: number; lost: number; duplicate: number }[];
}

export interface VfResult {
  vf: number;
  mac: string;
  driver: { txFrames: number; rxFrames: number; rxBytes: number };
  device: {
    txPackets: bigint; rxPackets: bigint; txBytes: bigint; rxBytes: bigint;
    fifoDrops: bigint; dmaErrors: bigint; txErrors: bigint;
  };
  /** The VF's own statistics registers (VFGPRC ...), folded to 64 bits by the driver. */
  regs: VfStats;
  /** The same device counters as the PF driver reads them (admin VF_STATS). */
  pf: PfVfCounters;
}

export interface DemoResult {
  ok: boolean;
  framesPerStream: number;
  streams: StreamResult[];
  vfs: VfResult[];
  uplink: { frames: number };
  unexpected: Record<string, number>;
  problems: string[];
  pf: { driver: string; numVfs: number };
}

interface Guest {
  vf: number;
  mem: GuestMemory;
  bar: VfBarMapping;
  pmd: IgbvfPmd;
  mac: Uint8Array;
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
}

/** MAC the PF driver assigns to VF n: locally administered, unicast, 02:76:66:6d:01:<n>. */
export function vfMac(vf: number): Uint8Array {
  return Uint8Array.of(0x02, 0x76, 0x66, 0x6d, 0x01, vf);
}

export function runDemo(opts: DemoOptions): DemoResult {
  const { log } = opts;
  if (!Number.isSafeInteger(opts.frames) || opts.frames < 1) {
    throw new RangeError(`frames must be a positive integer, got ${opts.frames}`);
  }
  const addon = opts.addon ?? loadAddon();
  const cleanup: (() => void)[] = [];
  const undo = (): void => {
    while (cleanup.length) {
      try {
        cleanup.pop()!();
      } catch (e) {
        log.warn({ err: e }, 'demo cleanup step failed');
      }
    }
  };
  try {
    const nic = new addon.Nic({ maxVfs: DEMO_VFS, baseMac: DEMO_BASE_MAC });
    cleanup.push(() => nic.destroy());
    nic.start();
    log.info({ maxVfs: nic.maxVfs }, 'emulated NIC created, device thread running');

    const pf = bringUpPf(addon, nic, DEMO_VFS, vfMac, log);
    cleanup.push(() => pf.close());

    const guests: Guest[] = [];
    for (let vf = 0; vf < DEMO_VFS; vf++) {
      guests.push(startGuest(addon, nic, pf, vf, cleanup, log));
    }
    for (const g of guests) {
      pollUntil(() => g.pmd.linkUp(), `VF${g.vf} link up`, { tries: 2000, delayUs: 500 }, () => pf.service());
    }

    const [g0, g1] = guests as [Guest, Guest];
    const streams: StreamSpec[] = [
      { id: 1, name: 'VF0->VF1', from: 0, src: g0.mac, dst: g1.mac, receivers: ['vf1'] },
      { id: 2, name: 'VF1->VF0', from: 1, src: g1.mac, dst: g0.mac, receivers: ['vf0'] },
      { id: 3, name: 'VF0->bcast', from: 0, src: g0.mac, dst: BROADCAST, receivers: ['vf1', 'uplink'] },
      { id: 4, name: 'VF1->bcast', from: 1, src: g1.mac, dst: BROADCAST, receivers: ['vf0', 'uplink'] },
    ];
    const ledger = new TrafficLedger(streams);
    const uplink = runTraffic(nic, pf, guests, ledger, opts.frames, log);
    ledger.finish();

    const vfs = guests.map((g) => collectVf(nic, pf, g));
    const result: DemoResult = {
      ok: ledger.ok(opts.frames),
      framesPerStream: opts.frames,
      streams: ledger.streams.map((t) => ({
        name: t.stream.name,
        from: `vf${t.stream.from}`,
        to: t.stream.dst.every((b) => b === 0xff) ? 'broadcast' : macString(t.stream.dst),
        sent: t.sent,
        receivers: [...t.rx].map(([receiver, r]) => ({
          receiver, verified: r.verified, corrupt: r.corrupt, lost: r.lost, duplicate: r.duplicate,
        })),
      })),
      vfs,
      uplink: { frames: uplink },
      unexpected: Object.fromEntries(ledger.unexpected),
      problems: ledger.problems,
      pf: { driver: pf.name, numVfs: pf.numVfs() },
    };
    for (const g of guests) g.pmd.stop();
    return result;
  } finally {
    undo();
  }
}

function startGuest(addon: NativeAddon, nic: NativeNic, pf: DemoPf, vf: number,
  cleanup: (() => void)[], log: Logger): Guest {
  const mem = new GuestMemory(addon, { size: GUEST_RAM, iovaBase: GUEST_IOVA, name: `vfmed-demo-vf${vf}` });
  cleanup.push(() => mem.close());
  nic.vfDmaMap(vf, GUEST_IOVA, BigInt(GUEST_RAM), mem.fd, 0n, 0x3);
  cleanup.push(() => nic.vfDmaUnmapAll(vf));
  const bar = new VfBarMapping(addon, nic.vfBarFd(vf));
  cleanup.push(() => bar.unmap());
  const pmd = new IgbvfPmd({
    misc: trappedPort(nic, vf),
    queues: bar.port(),
    mem,
    service: () => pf.service(),
    txRingSize: RING,
    rxRingSize: RING,
  });
  pmd.init();
  if (!pmd.permanentMac) throw new Error(`VF${vf}: the driver came up without a MAC`);
  const mac = Uint8Array.from(pmd.permanentMac);
  // igbvf's init_hw: SET_MAC_ADDR with the address from the VF_RESET reply. The PF fixed
  // the MAC administratively, so only that same address is accepted (another would be
  // NACKed, as igb does); either reply carries CTS, which is what lets the driver report
  // link up (igbvf-vf.md 3.5).
  const accepted = pmd.setMac(mac);
  log.info({ vf, mac: macString(mac), setMacAccepted: accepted },
    'VF driver up (reset handshake with the PF done, rings programmed)');
  return { vf, mem, bar, pmd, mac, rxFrames: 0, rxBytes: 0, txFrames: 0 };
}

/**
 * Sends every stream's frames in windows and drains every receiver until all frames are
 * accounted for or nothing has moved for the idle budget. Returns the uplink frame count.
 */
function runTraffic(nic: NativeNic, pf: DemoPf, guests: Guest[], ledger: TrafficLedger,
  frames: number, log: Logger): number {
  let uplinkFrames = 0;
  let idle = 0;
  const done = (): boolean =>
    ledger.streams.every((t, i) => t.sent === frames && ledger.inFlight(i) === 0);
  while (!done()) {
    let progress = 0;
    // Transmit: top every stream up to its window.
    ledger.streams.forEach((t, i) => {
      const room = Math.min(WINDOW - ledger.inFlight(i), frames - t.sent);
      if (room <= 0) return;
      const g = guests[t.stream.from]!;
      const batch: Buffer[] = [];
      for (let k = 0; k < room; k++) batch.push(demoFrame(t.stream, t.sent + k));
      const n = g.pmd.tx(batch);
      t.sent += n;
      g.txFrames += n;
      progress += n;
    });
    // Receive: every VF, then the uplink.
    for (const g of guests) {
      for (const f of g.pmd.rx()) {
        g.rxFrames++;
        g.rxBytes += f.data.length;
        ledger.receive(`vf${g.vf}`, f.data);
        progress++;
      }
      g.pmd.rxRefill();
      g.pmd.txReclaim();
    }
    for (let f = nic.uplinkTake(); f !== null; f = nic.uplinkTake()) {
      uplinkFrames++;
      ledger.receive('uplink', f);
      progress++;
    }
    pf.service();
    if (progress) {
      idle = 0;
    } else if (++idle > IDLE_TRIES) {
      log.error({ sent: ledger.streams.map((t) => t.sent) }, 'demo traffic stalled');
      break;
    } else {
      sleepUs(IDLE_SLEEP_US);
    }
  }
  return uplinkFrames;
}

function collectVf(nic: NativeNic, pf: DemoPf, g: Guest): VfResult {
  const info = nic.vfInfo(g.vf);
  return {
    vf: g.vf,
    mac: macString(g.mac),
    driver: { txFrames: g.txFrames, rxFrames: g.rxFrames, rxBytes: g.rxBytes },
    device: {
      txPackets: info.txPackets, rxPackets: info.rxPackets, txBytes: info.txBytes,
      rxBytes: info.rxBytes, fifoDrops: info.fifoDrops, dmaErrors: info.dmaErrors,
      txErrors: info.txErrors,
    },
    regs: g.pmd.sampleStats(),
    pf: pf.vfCounters(g.vf),
  };
}
