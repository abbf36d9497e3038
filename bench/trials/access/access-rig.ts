/**
 * The device set-up of the `access` trials: one emulated NIC with its device thread, the PF
 * brought up by the real PF driver (libvfpf through PfDriver: admin queue, SR-IOV enable,
 * the VF's MAC), one VF driven by the igbvf-style poll-mode driver for the reset handshake
 * and the TX ring programming, and a shared mapping of the VF's BAR0 for passthrough
 * accesses. Guest RAM is a memfd DMA-mapped into the VF.
 *
 * After set-up the trial owns TX queue 0 directly: it writes one data descriptor per
 * doorbell into the ring the driver programmed, so what is timed is exactly the doorbell
 * and the device's work on it, not driver bookkeeping.
 *
 *   TX ring (256 slots, 16 B each) in guest RAM           frame buffer (one, reused)
 *   [slot k: addr=buf, cmd=DATA|DEXT|IFCS|EOP|RS|len, olinfo=PAYLEN<<14] ... -> 60 B frame
 */
import { GuestMemory } from '../../../mediator/demo/guest-memory.js';
import { IgbvfPmd } from '../../../mediator/demo/igbvf-pmd.js';
import { trappedPort, VfBarMapping } from '../../../mediator/demo/vf-reg-port.js';
import { loadAddon, type NativeAddon, type NativeNic } from '../../../mediator/native/addon.js';
import { PfDriver } from '../../../mediator/pf/pf-driver.js';

export const VF = 0;
const GUEST_IOVA = 0x1_0000_0000n;
const GUEST_RAM = 1 << 20;
const PF_DMA_IOVA = 0x8000_0000n;
const PF_DMA_LEN = 1n << 20n;
export const TX_RING = 256;
/** Locally administered VF MAC, and a destination no VF owns (frames go to the uplink). */
const VF_MAC = Uint8Array.of(0x02, 0x76, 0x66, 0x6d, 0xbe, 0x00);
const DEST_MAC = Uint8Array.of(0x02, 0x76, 0x66, 0x6d, 0xbe, 0xff);

export interface AccessRig {
  addon: NativeAddon;
  nic: NativeNic;
  mem: GuestMemory;
  bar: VfBarMapping;
  /** Ring and buffer of TX queue 0 (as programmed by the driver). */
  txRing: { offset: number; iova: bigint };
  txBuf: { offset: number; iova: bigint };
  close(): void;
}

export interface RigOptions {
  pollMode: 'busy' | 'adaptive';
  /** Wire frame size including the 4-byte FCS the device would append. */
  frameBytes: number;
}

export function openAccessRig(opts: RigOptions): AccessRig {
  const addon = loadAddon();
  const undo: (() => void)[] = [];
  const close = (): void => {
    while (undo.length) {
      try {
        undo.pop()!();
      } catch {
        // best effort: the process exits right after
      }
    }
  };
  try {
    const nic = new addon.Nic({ maxVfs: 1, baseMac: VF_MAC, pollMode: opts.pollMode });
    undo.push(() => nic.destroy());
    nic.start();

    const pfDma = addon.memfdCreate('vfmed-bench-pf-dma', PF_DMA_LEN);
    undo.push(() => addon.close(pfDma));
    nic.pfDmaMap(PF_DMA_IOVA, PF_DMA_LEN, pfDma, 0n);
    undo.push(() => nic.pfDmaUnmap(PF_DMA_IOVA, PF_DMA_LEN));
    const pf = PfDriver.open({ barFd: nic.pfBarFd(), dmaFd: pfDma, dmaIova: PF_DMA_IOVA, dmaLen: PF_DMA_LEN });
    undo.push(() => pf.close());
    pf.init();
    const enabled = pf.sriovEnable(1);
    if (enabled !== 1) throw new Error(`SR-IOV enable gave ${enabled} VFs, asked for 1`);
    pf.setVfMac(VF, VF_MAC);

    const mem = new GuestMemory(addon, { size: GUEST_RAM, iovaBase: GUEST_IOVA, name: 'vfmed-bench-access' });
    undo.push(() => mem.close());
    nic.vfDmaMap(VF, GUEST_IOVA, BigInt(GUEST_RAM), mem.fd, 0n, 0x3);
    undo.push(() => nic.vfDmaUnmapAll(VF));
    const bar = new VfBarMapping(addon, nic.vfBarFd(VF));
    undo.push(() => bar.unmap());

    const pmd = new IgbvfPmd({
      misc: trappedPort(nic, VF), queues: bar.port(), mem, service: () => pf.service(),
      txQueues: [0], rxQueues: [], txRingSize: TX_RING, txBufSize: 2048,
    });
    pmd.init();
    const ring = pmd.txRing(0);
    const txBuf = mem.alloc(2048, 64);
    const len = opts.frameBytes - 4;
    const frame = Buffer.alloc(len);
    frame.set(DEST_MAC, 0);
    frame.set(VF_MAC, 6);
    frame.writeUInt16BE(0x88b5, 12); // IEEE local experimental ethertype
    mem.u8.set(frame, txBuf.offset);
    return { addon, nic, mem, bar, txRing: ring.ring, txBuf, close };
  } catch (e) {
    close();
    throw e;
  }
}
