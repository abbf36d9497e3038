/**
 * Host-side VF work of the kernel test, on the emulated NIC whose PF driver is the module in
 * the QEMU guest (so every mailbox reply below comes from that module):
 *
 *  - `resetForGuest`: the VF reset + VF_RESET mailbox handshake for the guest's UIO driver,
 *    which cannot do it itself: pages 0-1 of the VF BAR (CTRL.RST, V2PMAILBOX) have side
 *    effects a plain ivshmem BAR cannot trap, so the host performs them through the model's
 *    trapped register path, as a mediator does for trapped pages.
 *  - `HostVf`: a VF driven entirely from the host (the demo's igbvf-style poll-mode driver on
 *    a memfd "guest RAM"), receiving a paced stream of test frames from the uplink. Used to
 *    show that the guest's VF save/load (quiesce, save, load, resume) loses nothing while
 *    traffic flows: every injected frame must arrive exactly once, in order, intact.
 */
import { checkFrame, buildFrame } from '../../../mediator/demo/frames.js';
import { GuestMemory } from '../../../mediator/demo/guest-memory.js';
import { IgbvfPmd } from '../../../mediator/demo/igbvf-pmd.js';
import { trappedPort, VfBarMapping } from '../../../mediator/demo/vf-reg-port.js';
import type { NativeAddon, NativeNic } from '../../../mediator/native/addon.js';

/** The guest's PF driver answers from a TCG guest: allow it 20 s per mailbox wait. */
const MBX_BUDGET = { tries: 40_000, delayUs: 500 };
const RESET_BUDGET = { tries: 40_000, delayUs: 500 };

/** VF reset + VF_RESET handshake through the trapped path; returns the MAC the PF gave. */
export function resetForGuest(addon: NativeAddon, nic: NativeNic, vf: number): Uint8Array {
  // A PMD needs a memory object; nothing is DMA-mapped or programmed for this one.
  const mem = new GuestMemory(addon, { size: 1 << 20, iovaBase: 0n, name: `kt-vf${vf}-reset` });
  try {
    const pmd = new IgbvfPmd({
      misc: trappedPort(nic, vf), queues: trappedPort(nic, vf), mem,
      mbxBudget: MBX_BUDGET, resetBudget: RESET_BUDGET, txRingSize: 8, rxRingSize: 8, rxBatch: 4,
    });
    return pmd.reset();
  } finally {
    mem.close();
  }
}

/** Where a HostVf's DMA space (its "guest RAM" memfd) lives in the VF's IOVA space. */
export const HOST_VF_DMA = { iova: 0x4000_0000n, size: 4 << 20 } as const;

export interface HostVfStats {
  /** Frames offered to the uplink (sequence numbers 0..injected-1). */
  injected: number;
  received: number;
  /** Sequence numbers the device refused (inject -ENOSPC: counted as an RX FIFO drop). */
  dropped: number[];
  /** Ticks that held frames back because the VF's RX FIFO had no room for them. */
  heldBack: number;
}

export class HostVf {
  readonly pmd: IgbvfPmd;
  readonly mac: Uint8Array;
  private readonly mem: GuestMemory;
  private readonly bar: VfBarMapping;
  private readonly stats: HostVfStats = { injected: 0, received: 0, dropped: [], heldBack: 0 };
  /** Next sequence number expected from the RX ring. */
  private expect = 0;
  private readonly errors: string[] = [];

  /** Maps a memfd as the VF's DMA space and brings the VF up (reset handshake, rings). */
  constructor(addon: NativeAddon, private readonly nic: NativeNic,
    readonly vf: number, private readonly peer: Uint8Array, private readonly stream: number) {
    this.mem = new GuestMemory(addon, { size: HOST_VF_DMA.size, iovaBase: HOST_VF_DMA.iova, name: `kt-vf${vf}-ram` });
    this.bar = new VfBarMapping(addon, nic.vfBarFd(vf));
    try {
      nic.vfDmaMap(vf, this.mem.iovaBase, BigInt(this.mem.size), this.mem.fd, 0n, 3);
      this.pmd = new IgbvfPmd({
        misc: trappedPort(nic, vf), queues: this.bar.port(), mem: this.mem,
        mbxBudget: MBX_BUDGET, resetBudget: RESET_BUDGET, rxRingSize: 256, txRingSize: 64,
        rxBatch: 8,
      });
      this.pmd.init();
      this.mac = this.pmd.mac!;
    } catch (e) {
      this.bar.unmap();
      this.mem.close();
      throw e;
    }
  }

  /**
   * One step of traffic: inject up to `burst` frames from the uplink to this VF (only when
   * its RX FIFO has room, so a full FIFO never drops one) and receive whatever completed,
   * checking each frame's bytes and that sequence numbers arrive in order, skipping exactly
   * the frames the device refused and nothing else.
   *
   * The device refuses a frame (-ENOSPC, counted as an RX FIFO drop) only while the VF is
   * sealed: between VF_SAVE and VF_LOAD/RESUME, frames arriving would not be in the saved
   * state, so the model drops and counts them instead of losing them silently.
   */
  pump(burst: number, inject: boolean): void {
    for (let i = 0; inject && i < burst; i++) {
      const len = 64 + ((this.stats.injected * 53) % 400);
      const info = this.nic.vfInfo(this.vf);
      if (info.fifoBytes + len + 64 > info.fifoCapacity) {
        this.stats.heldBack++;
        break;
      }
      const seq = this.stats.injected++;
      try {
        this.nic.uplinkInject(buildFrame({ dst: this.mac, src: this.peer, stream: this.stream, seq, len }));
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENOSPC') throw e;
        this.stats.dropped.push(seq);
      }
    }
    for (const f of this.pmd.rx()) {
      try {
        const p = checkFrame(f.data);
        while (this.stats.dropped.includes(this.expect)) this.expect++;
        if (p.stream !== this.stream || p.seq !== this.expect) {
          this.errors.push(`VF${this.vf}: got stream ${p.stream} seq ${p.seq}, expected seq ${this.expect}`);
        }
        this.expect = p.seq + 1;
      } catch (e) {
        this.errors.push(`VF${this.vf}: ${(e as Error).message}`);
      }
      this.stats.received++;
    }
    this.pmd.rxRefill();
  }

  /**
   * The 4 KiB pages (index from HOST_VF_DMA.iova) the device may write for this VF: its RX
   * descriptor rings and buffers, and its TX rings (descriptor / head write-back). `rings`
   * alone: the descriptor rings, which every received frame writes back into.
   */
  devicePages(): { writable: Set<number>; rxRings: Set<number> } {
    const pagesOf = (iova: bigint, len: number, into: Set<number>) => {
      const first = Number((iova - HOST_VF_DMA.iova) >> 12n);
      const last = Number((iova + BigInt(len) - 1n - HOST_VF_DMA.iova) >> 12n);
      for (let p = first; p <= last; p++) into.add(p);
    };
    const writable = new Set<number>();
    const rxRings = new Set<number>();
    for (const r of this.pmd.rxRings) {
      pagesOf(r.ring.iova, r.size * 16, rxRings);
      pagesOf(r.ring.iova, r.size * 16, writable);
      pagesOf(r.bufs.iova, r.size * r.bufSize, writable);
    }
    for (const t of this.pmd.txRings) {
      pagesOf(t.ring.iova, t.size * 16, writable);
      if (t.wb) pagesOf(t.wb.iova, 4, writable);
    }
    return { writable, rxRings };
  }

  get counters(): Readonly<HostVfStats> {
    return this.stats;
  }

  get frameErrors(): readonly string[] {
    return this.errors;
  }

  close(): void {
    try {
      this.pmd.stop();
    } catch {
      // The NIC may already be gone; nothing left to stop then.
    }
    this.bar.unmap();
    this.mem.close();
  }
}
