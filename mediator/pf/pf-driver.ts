/**
 * PfDriver: the typed face of libvfpf.so (the vfmed PF driver, pf-driver/) for the daemon,
 * one of the two PfBackend implementations (pf-backend.ts; the other is KernelPf, the same
 * driver as a kernel module behind /dev/vfpf).
 *
 * One instance = one opened PF: its BAR and its DMA memfd mapped by the library, the admin
 * queue up after init(). Errors of the C side (-errno) become VfmedSystemError with the C
 * function as `syscall`; misuse at this edge (bad VF index, MAC length, ...) is a
 * TypeError/RangeError thrown before anything native runs. 64-bit quantities are bigint,
 * blobs and bitmaps are Buffers.
 *
 * Every method is synchronous: the library waits (bounded) for the device thread, which
 * runs natively, so blocking this thread is safe. Call service() whenever the PF event fd
 * fires (or periodically) to answer the VF mailboxes.
 */
import { checkRc, VfmedSystemError } from '../errors.js';
import {
  loadLibvfpf, type LibVfpf, type RawAbiField, type RawDevInfo, type RawVfConfig,
  type RawVfStats, type RawVfStatus, type VfpfHandle,
} from './libvfpf-ffi.js';
import {
  asBuffer, checkMac, checkRanges, checkU32, checkU64, checkVf, dirtyBitmapBytes, saveGrowing,
  type DirtyRange, type PfBackend, type PfDevInfo, type PfVfConfig, type PfVfStats,
} from './pf-backend.js';

export type { DirtyRange, PfDevInfo, PfVfConfig, PfVfStats } from './pf-backend.js';
export { VFPF_STATE_MAX } from './pf-backend.js';

export const VFPF_BAR_SIZE = 0x10000;
export const VFPF_MAX_VFS = 8;

/** Status flags of PfVfStatus (VFPF_VF_ST_*). */
export const VF_ST_CTS = 0x1;
export const VF_ST_MAC_ADMIN = 0x2;
export const VF_ST_FILTERS_KNOWN = 0x4;
export const VF_ST_DIRTY_LOG = 0x8;

export interface PfOpenOptions {
  barFd: number;
  barLen?: number;
  dmaFd: number;
  /** Device address at which dmaFd (offset 0) was registered with nic.pfDmaMap(). */
  dmaIova: bigint;
  dmaLen: bigint;
  /** stderr logging of the C side: 0 quiet .. 3 debug (default: VFPF_LOG or 0). */
  logLevel?: number;
}

export interface PfVfStatus {
  mac: Uint8Array; permMac: Uint8Array;
  clearToSend: boolean; macAdmin: boolean; filtersKnown: boolean; dirtyLog: boolean;
  mcCount: number; mcHashes: number[]; vlanCount: number; maxFrame: number; promisc: number;
  msgs: bigint; vfAcks: bigint; nacks: bigint; resets: bigint; stale: bigint; errors: bigint;
}

const big = (v: number | bigint): bigint => BigInt(v);

export class PfDriver implements PfBackend {
  readonly kind = 'libvfpf' as const;
  readonly #lib: LibVfpf;
  #dev: VfpfHandle | null;

  private constructor(lib: LibVfpf, dev: VfpfHandle) {
    this.#lib = lib;
    this.#dev = dev;
  }

  /** Maps the PF BAR and DMA memory (vfpf_open). Touches no register: call init(). */
  static open(opts: PfOpenOptions, lib: LibVfpf = loadLibvfpf()): PfDriver {
    const barLen = opts.barLen ?? VFPF_BAR_SIZE;
    if (!Number.isInteger(opts.barFd) || !Number.isInteger(opts.dmaFd)) {
      throw new TypeError('barFd and dmaFd must be integers');
    }
    checkU32('barLen', barLen);
    checkU64('dmaIova', opts.dmaIova);
    checkU64('dmaLen', opts.dmaLen);
    const out: [VfpfHandle | null] = [null];
    checkRc('vfpf_open', lib.vfpf_open(opts.barFd, BigInt(barLen), opts.dmaFd, opts.dmaIova,
      opts.dmaLen, out));
    if (out[0] === null || out[0] === 0n) throw new VfmedSystemError('vfpf_open', 5, 'no handle');
    const pf = new PfDriver(lib, out[0]);
    if (opts.logLevel !== undefined) lib.vfpf_set_log_level(out[0], opts.logLevel);
    return pf;
  }

  /**
   * The struct vfpf_dev * behind this driver, for calling libvfpf functions directly (e.g.
   * koffi's .async() variants on worker threads). Valid until close(); never free it.
   */
  get rawHandle(): VfpfHandle {
    return this.#h;
  }

  get closed(): boolean {
    return this.#dev === null;
  }

  get #h(): VfpfHandle {
    if (this.#dev === null) throw new Error('PfDriver: used after close()');
    return this.#dev;
  }

  /** The admin queue carries the VF index in 16 bits. */
  #vf(vf: number): number {
    return checkVf(vf, 0xffff);
  }

  /** Brings the PF up: identification, admin queue, PFRSTD (vfpf_dev_init). */
  init(): void {
    checkRc('vfpf_dev_init', this.#lib.vfpf_dev_init(this.#h));
  }

  /** Admin queue off, unmaps, frees. Idempotent. */
  close(): void {
    if (this.#dev === null) return;
    const dev = this.#dev;
    this.#dev = null;
    this.#lib.vfpf_close(dev);
  }

  setLogLevel(level: number): void {
    this.#lib.vfpf_set_log_level(this.#h, level);
  }

  info(): PfDevInfo {
    const o = {} as RawDevInfo;
    checkRc('vfpf_get_info', this.#lib.vfpf_get_info(this.#h, o));
    return {
      modelId: o.model_id, abiMajor: o.abi_major, abiMinor: o.abi_minor, maxVfs: o.max_vfs,
      numVfs: o.num_vfs, queuesPerVf: o.queues_per_vf, rxFifoBytes: o.rx_fifo_bytes,
      stateVersion: o.state_version, features: o.features,
    };
  }

  /** Enables `numVfs` VFs (0 disables); returns the number enabled. */
  sriovEnable(numVfs: number): number {
    checkU32('numVfs', numVfs);
    return checkRc('vfpf_sriov_enable', this.#lib.vfpf_sriov_enable(this.#h, numVfs));
  }

  numVfs(): number {
    return checkRc('vfpf_num_vfs', this.#lib.vfpf_num_vfs(this.#h));
  }

  /** Handles pending VF resets, mailbox requests/ACKs and link changes; returns the count. */
  service(): number {
    return checkRc('vfpf_service', this.#lib.vfpf_service(this.#h));
  }

  /** Administratively fixes a VF's MAC; an all-zero MAC removes the fix. */
  setVfMac(vf: number, mac: Uint8Array): void {
    checkMac(mac);
    checkRc('vfpf_vf_set_mac', this.#lib.vfpf_vf_set_mac(this.#h, this.#vf(vf), mac));
  }

  vfConfig(vf: number): PfVfConfig {
    const o = {} as RawVfConfig;
    checkRc('vfpf_vf_get_config', this.#lib.vfpf_vf_get_config(this.#h, this.#vf(vf), o));
    return {
      mac: Uint8Array.from(o.mac), rxEnabled: (o.enable & 1) !== 0,
      txEnabled: (o.enable & 2) !== 0, maxFrame: o.max_frame, mcCount: o.mc_count,
      vlanCount: o.vlan_count, promisc: o.promisc, quiesced: o.quiesced !== 0,
    };
  }

  vfStatus(vf: number): PfVfStatus {
    const o = {} as RawVfStatus;
    checkRc('vfpf_vf_get_status', this.#lib.vfpf_vf_get_status(this.#h, this.#vf(vf), o));
    return {
      mac: Uint8Array.from(o.mac), permMac: Uint8Array.from(o.perm_mac),
      clearToSend: (o.flags & VF_ST_CTS) !== 0, macAdmin: (o.flags & VF_ST_MAC_ADMIN) !== 0,
      filtersKnown: (o.flags & VF_ST_FILTERS_KNOWN) !== 0,
      dirtyLog: (o.flags & VF_ST_DIRTY_LOG) !== 0,
      mcCount: o.mc_count, mcHashes: Array.from(o.mc_hashes).slice(0, o.mc_count),
      vlanCount: o.vlan_count, maxFrame: o.max_frame, promisc: o.promisc,
      msgs: big(o.msgs), vfAcks: big(o.vf_acks), nacks: big(o.nacks), resets: big(o.resets),
      stale: big(o.stale), errors: big(o.errors),
    };
  }

  /** VLAN IDs the driver installed for the VF, ascending. */
  vfVlans(vf: number): number[] {
    const bm = Buffer.alloc(512);
    checkRc('vfpf_vf_get_vlans', this.#lib.vfpf_vf_get_vlans(this.#h, this.#vf(vf), bm));
    const vids: number[] = [];
    for (let vid = 0; vid < 4096; vid++) {
      if ((bm[vid >> 3]! >> (vid & 7)) & 1) vids.push(vid);
    }
    return vids;
  }

  vfStats(vf: number): PfVfStats {
    const o = {} as RawVfStats;
    checkRc('vfpf_vf_stats', this.#lib.vfpf_vf_stats(this.#h, this.#vf(vf), o));
    return {
      rxPackets: big(o.rx_packets), rxBytes: big(o.rx_bytes), txPackets: big(o.tx_packets),
      txBytes: big(o.tx_bytes), rxMcast: big(o.rx_mcast), rxLbPackets: big(o.rx_lb_packets),
      txLbPackets: big(o.tx_lb_packets), rxLbBytes: big(o.rx_lb_bytes),
      txLbBytes: big(o.tx_lb_bytes), rxFifoDrops: big(o.rx_fifo_drops),
      rxNoDesc: big(o.rx_no_desc), dmaErrors: big(o.dma_errors), txErrors: big(o.tx_errors),
      fifoFrames: big(o.fifo_frames), fifoBytes: big(o.fifo_bytes),
    };
  }

  /** Function-level reset of the VF through the device. */
  vfFlr(vf: number): void {
    checkRc('vfpf_vf_flr', this.#lib.vfpf_vf_flr(this.#h, this.#vf(vf)));
  }

  /**
   * The VF gives its MAC up (admin fix, permanent address, RAR filter, multicast, VLAN and
   * promiscuous filters): after its guest migrated to another host, frames for that MAC
   * from the other VFs leave by the uplink instead of stopping at this VF.
   */
  vfReleaseMac(vf: number): void {
    checkRc('vfpf_vf_release_mac', this.#lib.vfpf_vf_release_mac(this.#h, this.#vf(vf)));
  }

  quiesce(vf: number): void {
    checkRc('vfpf_vf_quiesce', this.#lib.vfpf_vf_quiesce(this.#h, this.#vf(vf)));
  }

  resume(vf: number): void {
    checkRc('vfpf_vf_resume', this.#lib.vfpf_vf_resume(this.#h, this.#vf(vf)));
  }

  stateSize(vf: number): number {
    return checkRc('vfpf_vf_state_size', this.#lib.vfpf_vf_state_size(this.#h, this.#vf(vf)));
  }

  /**
   * Saves the quiesced VF's state. Without `cap`, sizes the buffer with stateSize() and
   * retries (bounded) if frames still arriving in the RX FIFO grew the state meanwhile.
   */
  save(vf: number, cap?: number): Buffer {
    this.#vf(vf);
    const once = (c: number): Buffer => {
      const buf = Buffer.alloc(c);
      const n = checkRc('vfpf_vf_save', this.#lib.vfpf_vf_save(this.#h, vf, buf, c));
      return buf.subarray(0, n);
    };
    if (cap === undefined) return saveGrowing(() => this.stateSize(vf), once);
    checkU32('cap', cap);
    return once(cap);
  }

  /** Loads a blob from save() into a quiesced or freshly enabled VF (validated whole first). */
  load(vf: number, blob: Uint8Array): void {
    const buf = asBuffer(blob);
    checkRc('vfpf_vf_load', this.#lib.vfpf_vf_load(this.#h, this.#vf(vf), buf, buf.length));
  }

  dirtyStart(vf: number, pageShift: number, ranges: readonly DirtyRange[]): void {
    checkU32('pageShift', pageShift);
    checkRanges(ranges);
    const raw = ranges.map((r) => ({ iova: r.iova, length: r.length }));
    checkRc('vfpf_vf_dirty_start',
      this.#lib.vfpf_vf_dirty_start(this.#h, this.#vf(vf), pageShift, raw, raw.length));
  }

  dirtyStop(vf: number): void {
    checkRc('vfpf_vf_dirty_stop', this.#lib.vfpf_vf_dirty_stop(this.#h, this.#vf(vf)));
  }

  /**
   * Reads and clears the dirty bits of [iova, iova + length): bit i (LSB first) = page
   * iova + (i << pageShift). `pageShift` must be the one given to dirtyStart().
   */
  dirtyReport(vf: number, iova: bigint, length: bigint, pageShift: number): Buffer {
    const bytes = dirtyBitmapBytes(iova, length, pageShift);
    const bm = Buffer.alloc(Math.max(bytes, 1));
    checkRc('vfpf_vf_dirty_report',
      this.#lib.vfpf_vf_dirty_report(this.#h, this.#vf(vf), iova, length, bm, BigInt(bm.length)));
    return bm.subarray(0, bytes);
  }

  /**
   * One raw admin command with a bounce buffer (diagnostics/tests of the device's own
   * validation). `buf` is sent and overwritten with what the device wrote back.
   */
  adminCmd(opcode: number, vf: number, param0 = 0, param1 = 0, buf?: Buffer): { ret: number } {
    checkU32('param0', param0);
    checkU32('param1', param1);
    if (!Number.isInteger(opcode) || opcode < 0 || opcode > 0xffff) {
      throw new RangeError('opcode must be a 16-bit integer');
    }
    const ret: [number | null] = [null];
    checkRc('vfpf_admin_cmd', this.#lib.vfpf_admin_cmd(this.#h, opcode, this.#vf(vf), param0,
      param1, buf ?? null, buf?.length ?? 0, ret));
    return { ret: ret[0] ?? 0 };
  }

  /** The C side's struct layouts (sizeof/offsetof), for the ABI test. */
  static abiLayout(lib: LibVfpf = loadLibvfpf()): RawAbiField[] {
    const out: RawAbiField[] = [];
    for (let i = 0; ; i++) {
      const f = {} as RawAbiField;
      const rc = lib.vfpf_abi_layout(i, f);
      if (rc === -2 /* ENOENT */) return out;
      checkRc('vfpf_abi_layout', rc);
      out.push({ ...f });
    }
  }
}
