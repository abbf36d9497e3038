/**
 * Test rig for the hardware tests: one emulated NIC with its device thread running, the PF
 * driver (libvfpf) brought up with SR-IOV enabled, and per VF a guest: guest RAM (memfd,
 * partly DMA-mapped, the rest filled with canaries), a shared mapping of the VF BAR and an
 * IgbvfPmd driving it. Everything is torn down in reverse order by close().
 *
 *   guest RAM memfd:  [ DMA-mapped at iovaBase (rings, buffers) | canary tail, never mapped ]
 */
import { loadAddon, type NativeAddon, type NativeNic, type NicConfig, type VfInfo } from '../../mediator/native/addon.js';
import { GuestMemory } from '../../mediator/demo/guest-memory.js';
import { IgbvfPmd, type IgbvfPmdOptions } from '../../mediator/demo/igbvf-pmd.js';
import { VfBarMapping, trappedPort } from '../../mediator/demo/vf-reg-port.js';
import { openPf, type PfApi } from './pf.js';

export const BASE_MAC = Uint8Array.of(0x02, 0x76, 0x66, 0x00, 0x00, 0x10);
export const CANARY_SEED = 0xc0ffee;

/** The default MAC of VF n (nic.h: base_mac with last byte + n). */
export function vfMac(vf: number, base = BASE_MAC): Uint8Array {
  const m = Uint8Array.from(base);
  m[5] = (m[5]! + vf) & 0xff;
  return m;
}

export interface RigOptions {
  maxVfs?: number;
  numVfs?: number;
  rxFifoBytes?: number;
  noHeadWriteBack?: boolean;
  baseMac?: Uint8Array;
  /** Skip PF bring-up (tests of the PF-less paths). */
  noPf?: boolean;
}

export interface GuestOptions {
  /** DMA-mapped bytes (default 2 MiB). */
  dmaLen?: number;
  /** Canary bytes after the DMA-mapped part (default 64 KiB). */
  canaryLen?: number;
  iovaBase?: bigint;
  /** Pages 2-3 through the trapped path instead of the shared mapping. */
  trappedQueues?: boolean;
  /** Do not DMA-map the guest RAM (the test maps it itself). */
  noDmaMap?: boolean;
  pmd?: Partial<Omit<IgbvfPmdOptions, 'misc' | 'queues' | 'mem'>>;
}

export interface Guest {
  vf: number;
  mem: GuestMemory;
  bar: VfBarMapping;
  pmd: IgbvfPmd;
  canaryOffset: number;
  canaryLen: number;
  /** First canary byte that changed, or -1. */
  canaryDamage(): number;
}

export class HwRig {
  readonly addon: NativeAddon;
  readonly nic: NativeNic;
  readonly pf: PfApi | null;
  private readonly guests: Guest[] = [];
  private readonly bars: VfBarMapping[] = [];
  private closed = false;

  constructor(opts: RigOptions = {}) {
    this.addon = loadAddon();
    const cfg: NicConfig = { maxVfs: opts.maxVfs ?? 4, baseMac: opts.baseMac ?? BASE_MAC };
    if (opts.rxFifoBytes !== undefined) cfg.rxFifoBytes = opts.rxFifoBytes;
    if (opts.noHeadWriteBack) cfg.noHeadWriteBack = true;
    this.nic = new this.addon.Nic(cfg);
    try {
      this.nic.start();
      this.pf = opts.noPf ? null : openPf(this.nic);
      if (this.pf) this.pf.sriovEnable(opts.numVfs ?? 2);
    } catch (e) {
      this.nic.destroy();
      throw e;
    }
  }

  /** The PF driver's service, for the PMD's mailbox waits. */
  readonly service = (): void => {
    this.pf?.service();
  };

  get pfApi(): PfApi {
    if (!this.pf) throw new Error('rig opened without a PF driver');
    return this.pf;
  }

  info(vf: number): VfInfo {
    return this.nic.vfInfo(vf);
  }

  /** Builds guest RAM + BAR mapping + PMD for `vf` (not initialised: call pmd.init()). */
  guest(vf: number, opts: GuestOptions = {}): Guest {
    const dmaLen = opts.dmaLen ?? 2 << 20;
    const canaryLen = opts.canaryLen ?? 64 << 10;
    const iovaBase = opts.iovaBase ?? 0x1_0000_0000n + BigInt(vf) * 0x1000_0000n;
    const mem = new GuestMemory(this.addon, {
      size: dmaLen + canaryLen, dmaLen, iovaBase, name: `vfmed-test-vf${vf}`,
    });
    mem.fillPattern(dmaLen, canaryLen, CANARY_SEED);
    if (!opts.noDmaMap) this.nic.vfDmaMap(vf, iovaBase, BigInt(dmaLen), mem.fd, 0n, 3);
    const bar = new VfBarMapping(this.addon, this.nic.vfBarFd(vf));
    const misc = trappedPort(this.nic, vf);
    const pmd = new IgbvfPmd({
      service: this.service,
      ...opts.pmd,
      misc,
      queues: opts.trappedQueues ? misc : bar.port(),
      mem,
    });
    const g: Guest = {
      vf, mem, bar, pmd, canaryOffset: dmaLen, canaryLen,
      canaryDamage: () => mem.checkPattern(dmaLen, canaryLen, CANARY_SEED),
    };
    this.guests.push(g);
    return g;
  }

  /**
   * Attaches an existing guest (after its VF state moved here): DMA-maps the same guest RAM
   * at the same IOVA into `vf` and maps this NIC's BAR of `vf`. Returns the new ports and
   * service hook to hand to pmd.rebind().
   */
  adopt(vf: number, g: Guest, opts: { trappedQueues?: boolean } = {}): {
    misc: ReturnType<typeof trappedPort>; queues: ReturnType<typeof trappedPort>; service: () => void; bar: VfBarMapping;
  } {
    this.nic.vfDmaMap(vf, g.mem.iovaBase, BigInt(g.mem.dmaLen), g.mem.fd, 0n, 3);
    const bar = new VfBarMapping(this.addon, this.nic.vfBarFd(vf));
    this.bars.push(bar);
    const misc = trappedPort(this.nic, vf);
    return { misc, queues: opts.trappedQueues ? misc : bar.port(), service: this.service, bar };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.pf?.close();
    } finally {
      this.nic.destroy();
      for (const b of this.bars) b.unmap();
      for (const g of this.guests.reverse()) {
        g.bar.unmap();
        g.mem.close();
      }
    }
  }
}
