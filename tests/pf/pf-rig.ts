// Test rig for the PF driver suites: a real emulated NIC (addon) with its device thread,
// a PF DMA memfd registered with it, the PF driver (libvfpf.so through PfDriver), and a
// VF-side mailbox driver that talks to the PF exactly as igbvf does (igbvf-vf.md 3.3/3.4):
// lock with VFU, write VMBMEM, REQ, wait for PFACK; wait for PFSTS, lock, read, ACK. The
// read-to-clear bits of V2PMAILBOX are cached like the VF drivers do.
import { loadAddon, type NativeAddon, type NativeNic } from '../../mediator/native/addon.js';
import { PfDriver } from '../../mediator/pf/pf-driver.js';

export const addon: NativeAddon = loadAddon();

// vf_regs.h, through its one TS mirror (short mailbox-bit names for the tests below).
export {
  CTRL, CTRL_RST, V2PMAILBOX, VMBMEM, MSG_ACK, MSG_NACK, MSG_CTS,
  VF_RESET, VF_SET_MAC_ADDR, VF_SET_MULTICAST, VF_SET_VLAN, VF_SET_LPE, VF_SET_PROMISC,
} from '../../mediator/hw/vf-regs.js';
export {
  V2PMAILBOX_REQ as MBX_REQ, V2PMAILBOX_ACK as MBX_ACK, V2PMAILBOX_VFU as MBX_VFU, V2PMAILBOX_PFSTS as MBX_PFSTS,
  V2PMAILBOX_PFACK as MBX_PFACK, V2PMAILBOX_RSTI as MBX_RSTI, V2PMAILBOX_RSTD as MBX_RSTD,
} from '../../mediator/hw/vf-regs.js';
import {
  CTRL, CTRL_RST, V2PMAILBOX, VMBMEM, VF_RESET,
  V2PMAILBOX_REQ as MBX_REQ, V2PMAILBOX_ACK as MBX_ACK, V2PMAILBOX_VFU as MBX_VFU, V2PMAILBOX_PFSTS as MBX_PFSTS,
  V2PMAILBOX_PFACK as MBX_PFACK, V2PMAILBOX_RSTI as MBX_RSTI, V2PMAILBOX_RSTD as MBX_RSTD,
  RDBAL, RDBAH, RDLEN, SRRCTL, RDH, RDT, RXDCTL, XDCTL_ENABLE,
} from '../../mediator/hw/vf-regs.js';

export const BASE_MAC = Uint8Array.of(0x02, 0x76, 0x66, 0x00, 0x00, 0x10);
export const PF_DMA_IOVA = 0x8000_0000n;
export const PF_DMA_LEN = 4n << 20n;

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
export function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/** Polls `cond` (running `step` between tries) for up to ~5 s; throws naming `what`. */
export function waitFor(cond: () => boolean, what: string, step?: () => void): void {
  for (let i = 0; i < 5000; i++) {
    if (cond()) return;
    step?.();
    if (cond()) return;
    sleepMs(1);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface Rig {
  nic: NativeNic;
  pf: PfDriver;
  dmaFd: number;
  close(): void;
}

export interface RigOptions {
  maxVfs?: number;
  numVfs?: number;
  baseMac?: Uint8Array;
  /** false: open only, no init() */
  init?: boolean;
}

export function makeRig(opts: RigOptions = {}): Rig {
  const nic = new addon.Nic({ maxVfs: opts.maxVfs ?? 4, baseMac: opts.baseMac ?? BASE_MAC });
  nic.start();
  const dmaFd = addon.memfdCreate('pf-dma', PF_DMA_LEN);
  nic.pfDmaMap(PF_DMA_IOVA, PF_DMA_LEN, dmaFd, 0n);
  const pf = PfDriver.open({ barFd: nic.pfBarFd(), dmaFd, dmaIova: PF_DMA_IOVA, dmaLen: PF_DMA_LEN });
  if (opts.init !== false) {
    pf.init();
    if (opts.numVfs) pf.sriovEnable(opts.numVfs);
  }
  return {
    nic, pf, dmaFd,
    close() {
      pf.close();
      nic.destroy();
      addon.close(dmaFd);
    },
  };
}

export function macWords(mac: Uint8Array): [number, number] {
  return [
    (mac[0]! | (mac[1]! << 8) | (mac[2]! << 16) | (mac[3]! << 24)) >>> 0,
    mac[4]! | (mac[5]! << 8),
  ];
}

export function vfMac(base: Uint8Array, vf: number): Uint8Array {
  const m = Uint8Array.from(base);
  m[5] = (m[5]! + vf) & 0xff;
  return m;
}

/** The VF side of one mailbox, driven through the device's register path. */
export class VfMailbox {
  #cached = 0;

  constructor(readonly nic: NativeNic, readonly vf: number, readonly pf: PfDriver) {}

  /** Reads V2PMAILBOX, caching the read-to-clear bits. */
  read(): number {
    const v = this.nic.vfRead32(this.vf, V2PMAILBOX);
    this.#cached |= v & (MBX_PFSTS | MBX_PFACK | MBX_RSTD);
    return v;
  }

  /** True (and consumed) if `bit` was seen since it was last consumed. */
  take(bit: number): boolean {
    this.read();
    if (!(this.#cached & bit)) return false;
    this.#cached &= ~bit;
    return true;
  }

  #wait(bit: number, what: string): void {
    waitFor(() => this.take(bit), `VF ${this.vf} ${what}`, () => this.pf.service());
  }

  lock(): void {
    this.nic.vfWrite32(this.vf, V2PMAILBOX, MBX_VFU);
    if (!(this.read() & MBX_VFU)) throw new Error(`VF ${this.vf}: mailbox lock refused`);
  }

  /** Posted write: lock, write the words, REQ, wait for PFACK (the PF serves meanwhile). */
  post(words: number[]): void {
    this.lock();
    this.#cached &= ~(MBX_PFACK | MBX_PFSTS);
    words.forEach((w, i) => this.nic.vfWrite32(this.vf, VMBMEM(i), w >>> 0));
    this.nic.vfWrite32(this.vf, V2PMAILBOX, MBX_REQ);
    this.#wait(MBX_PFACK, 'PFACK');
  }

  /** Posted read of `n` words: wait for PFSTS, lock, read, ACK. */
  readReply(n: number): number[] {
    this.#wait(MBX_PFSTS, 'PFSTS');
    this.lock();
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.nic.vfRead32(this.vf, VMBMEM(i)) >>> 0);
    this.nic.vfWrite32(this.vf, V2PMAILBOX, MBX_ACK);
    return out;
  }

  request(words: number[], replyWords = 1): number[] {
    this.post(words);
    return this.readReply(replyWords);
  }

  /** CTRL.RST and the wait for RSTI/RSTD to clear (igbvf e1000_reset_hw_vf steps 2-3). */
  ctrlReset(): void {
    this.nic.vfWrite32(this.vf, CTRL, CTRL_RST);
    waitFor(() => (this.read() & (MBX_RSTI | MBX_RSTD)) === 0, `VF ${this.vf} reset done`);
    this.#cached = 0;
  }

  /** The whole igbvf reset handshake; returns the 3-word VF_RESET reply. */
  resetHandshake(): number[] {
    this.ctrlReset();
    return this.request([VF_RESET], 3);
  }
}

// ---- a minimal RX queue 0 on the VF side (igbvf-vf.md 5, steps 6) ----------------------
export const GUEST_IOVA = 0x1000_0000n;
export const GUEST_LEN = 64 * 4096;
export const RX_DESCS = 8;
const E1000_RDBAL = RDBAL(0), E1000_RDBAH = RDBAH(0), E1000_RDLEN = RDLEN(0), E1000_SRRCTL = SRRCTL(0);
const E1000_RDH = RDH(0), E1000_RDT = RDT(0), E1000_RXDCTL = RXDCTL(0);

/**
 * Guest memory (memfd DMA-mapped into the VF at GUEST_IOVA) holding an RX ring at page 0 and
 * one 2 KiB buffer per descriptor at pages 1..RX_DESCS.
 */
export class RxGuest {
  readonly fd: number;
  readonly mem: DataView;

  constructor(readonly nic: NativeNic, readonly vf: number) {
    this.fd = addon.memfdCreate(`guest-${vf}`, BigInt(GUEST_LEN));
    this.mem = new DataView(addon.mmapShared(this.fd, GUEST_LEN, 0n));
    nic.vfDmaMap(vf, GUEST_IOVA, BigInt(GUEST_LEN), this.fd, 0n, 3);
  }

  bufferIova(i: number): bigint {
    return GUEST_IOVA + BigInt((1 + i) * 4096);
  }

  /** Programs and enables RX queue 0 with every descriptor posted. */
  start(): void {
    const w = (off: number, v: number): void => this.nic.vfWrite32(this.vf, off, v);
    w(E1000_RXDCTL, 0);
    w(E1000_RDBAL, Number(GUEST_IOVA & 0xffff_ffffn));
    w(E1000_RDBAH, Number(GUEST_IOVA >> 32n));
    w(E1000_RDLEN, RX_DESCS * 16);
    w(E1000_SRRCTL, 0x02000000 | 2);
    for (let i = 0; i < RX_DESCS; i++) {
      this.mem.setBigUint64(i * 16, this.bufferIova(i), true);
      this.mem.setBigUint64(i * 16 + 8, 0n, true);
    }
    w(E1000_RXDCTL, XDCTL_ENABLE | (1 << 16));
    w(E1000_RDH, 0);
    w(E1000_RDT, RX_DESCS - 1);
  }

  /** Status dword of descriptor i (DD = bit 0). */
  status(i: number): number {
    return this.mem.getUint32(i * 16 + 8, true);
  }

  /** Bytes of the frame in descriptor i's buffer. */
  frame(i: number): Buffer {
    const len = this.mem.getUint16(i * 16 + 12, true);
    return Buffer.from(this.mem.buffer, (1 + i) * 4096, len);
  }

  close(): void {
    addon.munmap(this.mem.buffer as ArrayBuffer);
    addon.close(this.fd);
  }
}

/** A unicast Ethernet frame to `dst` with a recognisable payload. */
export function frameTo(dst: Uint8Array, seq: number, len = 128): Buffer {
  const f = Buffer.alloc(len);
  f.set(dst, 0);
  f.set([0x02, 0, 0, 0, 0, 0xfe], 6);
  f.writeUInt16BE(0x88b5, 12);
  f.writeUInt32BE(seq, 14);
  for (let i = 18; i < len; i++) f[i] = (seq + i) & 0xff;
  return f;
}

/** The fixture of the dirty-log suites: VF `vf` after the reset handshake, RX queue 0 running. */
export interface RxRig {
  rig: Rig;
  guest: RxGuest;
  /** Injects n frames for the VF on the uplink and waits until the last one is received. */
  receive(n: number, first?: number): Buffer[];
  close(): void;
}

export function makeRxRig(vf: number): RxRig {
  const rig = makeRig({ maxVfs: 2, numVfs: 2 });
  new VfMailbox(rig.nic, vf, rig.pf).resetHandshake();
  const guest = new RxGuest(rig.nic, vf);
  guest.start();
  return {
    rig, guest,
    receive(n, first = 0) {
      const frames = Array.from({ length: n }, (_, i) => frameTo(vfMac(BASE_MAC, vf), first + i));
      for (const f of frames) rig.nic.uplinkInject(f);
      waitFor(() => (guest.status(first + n - 1) & 1) === 1, `${n} frames received`);
      return frames;
    },
    close() {
      rig.close();
      guest.close();
    },
  };
}

/** Indexes of the set bits of a dirty bitmap (LSB first). */
export function setBits(bitmap: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < bitmap.length * 8; i++) if ((bitmap[i >> 3]! >> (i & 7)) & 1) out.push(i);
  return out;
}
