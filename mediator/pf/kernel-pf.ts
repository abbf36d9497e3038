/**
 * KernelPf: the mediator's kernel path to the PF driver — vfpf.ko's character device
 * /dev/vfpf (pf-driver/linux/vfpf_cdev.c), driven with ioctl(2) through koffi. It is the
 * PfBackend to use when the PF is a real PCI function bound to the module, as opposed to
 * PfDriver, which runs the same driver core (libvfpf.so) inside the daemon.
 *
 *   KernelPf method      ioctl                     driver function (vfpf_core.h)
 *   info / numVfs        VFPF_IOC_GET_INFO         vfpf_get_info
 *   sriovEnable          VFPF_IOC_SRIOV_ENABLE     vfpf_sriov_enable
 *   setVfMac             VFPF_IOC_SET_MAC          vfpf_vf_set_mac
 *   quiesce / resume     VFPF_IOC_VF_QUIESCE/RESUME vfpf_vf_quiesce / _resume
 *   vfFlr                VFPF_IOC_VF_FLR           vfpf_vf_flr
 *   stateSize            VFPF_IOC_STATE_SIZE       vfpf_vf_state_size
 *   save / load          VFPF_IOC_SAVE / LOAD      vfpf_vf_save / _load
 *   dirtyStart/Report/Stop VFPF_IOC_DIRTY_*        vfpf_vf_dirty_*
 *   vfStats / vfConfig   VFPF_IOC_STATS / VF_CONFIG vfpf_vf_stats / _get_config
 *
 * The errno of a failed ioctl becomes a VfmedSystemError whose `syscall` names the request
 * ("ioctl(VFPF_IOC_SAVE)"). Arguments are checked here first (TypeError/RangeError, nothing
 * sent): koffi would otherwise wrap a negative or fractional number silently into the
 * struct. Limits the uapi states (blob and bitmap sizes, range count) are checked here too,
 * so an over-limit request is a RangeError naming the limit rather than a bare E2BIG.
 *
 * Every call is synchronous: the module waits (bounded, -ETIMEDOUT) for the device.
 */
import { VfmedSystemError } from '../errors.js';
import { libcCdevPort, type CdevPort } from './cdev-port.js';
import {
  asBuffer, checkMac, checkRanges, checkU32, checkVf, dirtyBitmapBytes, saveGrowing,
  type DirtyRange, type PfBackend, type PfDevInfo, type PfVfConfig, type PfVfStats,
} from './pf-backend.js';
import {
  decodeArg, encodeArg, encodeRanges, POINTER_FIELDS, stableBuffer, userPtr, VFPF_IOC,
  VFPF_IOC_BITMAP_MAX, VFPF_IOC_DIRTY_MAX_RANGES, VFPF_IOC_STATE_MAX, type VfpfIocArgs,
  type VfpfIocName,
} from './vfpf-uapi.js';

/** Below this, an address is in the first page, which Linux never maps (mmap_min_addr). */
const NEVER_MAPPED = 4096n;

export const VFPF_CDEV_PATH = '/dev/vfpf';

const big = (v: number | bigint): bigint => BigInt(v);

export interface KernelPfOptions {
  /** Character device of the PF (default /dev/vfpf; the module names others vfpf1, ...). */
  path?: string;
  /** System-call layer (tests inject a fake). */
  port?: CdevPort;
}

export class KernelPf implements PfBackend {
  readonly kind = 'kernel' as const;
  readonly path: string;
  readonly #port: CdevPort;
  #fd: number;
  /**
   * Buffers whose raw addresses travel inside the current request's struct (blob, ranges,
   * bitmap): held here until the ioctl returns, so the garbage collector cannot free them
   * while the kernel reads or writes them, even if the caller keeps no other reference.
   */
  #pinned: readonly Buffer[] = [];

  private constructor(port: CdevPort, path: string, fd: number) {
    this.#port = port;
    this.path = path;
    this.#fd = fd;
  }

  /** Opens the PF's character device (needs CAP_NET_ADMIN: EPERM otherwise). */
  static open(opts: KernelPfOptions = {}): KernelPf {
    const path = opts.path ?? VFPF_CDEV_PATH;
    if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) {
      throw new TypeError('path must be a non-empty string without NUL');
    }
    const port = opts.port ?? libcCdevPort();
    const fd = port.open(path);
    if (fd < 0) throw new VfmedSystemError('open', -fd, path);
    return new KernelPf(port, path, fd);
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Closes the file descriptor. Idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    const rc = this.#port.close(fd);
    if (rc < 0) throw new VfmedSystemError('close', -rc, this.path);
  }

  get #f(): number {
    if (this.#fd < 0) throw new Error(`KernelPf(${this.path}): used after close()`);
    return this.#fd;
  }

  #vf(vf: number): number {
    return checkVf(vf, 0xffff_ffff);
  }

  /**
   * A request exactly as given, for diagnostics that need what the typed methods never send
   * (a non-zero pad, a length over the uapi limit, a bad user pointer) to see the module
   * refuse it. Fields are checked against the struct's widths, and pointer fields may only
   * hold first-page addresses, which are never mapped: the kernel must answer EFAULT, so a
   * raw request can never make it write into this process's memory.
   */
  rawRequest<N extends VfpfIocName>(name: N, arg: Partial<VfpfIocArgs[N]> = {}): VfpfIocArgs[N] {
    if (!Object.hasOwn(VFPF_IOC, name)) throw new RangeError(`unknown vfpf ioctl ${String(name)}`);
    for (const [field, v] of Object.entries(arg)) {
      if (POINTER_FIELDS.has(field) && (typeof v !== 'bigint' || v < 0n || v >= NEVER_MAPPED)) {
        throw new RangeError(`rawRequest: ${field} may only be an unmappable address below ${NEVER_MAPPED}`);
      }
    }
    return this.#request(name, arg, `raw, ${this.path}`);
  }

  /**
   * One request: encodes `arg` (absent fields, pads included, are zero), calls ioctl(2),
   * throws the errno, and returns the struct as the kernel left it (for _IOR/_IOWR). `pin`:
   * the buffers whose userPtr() the struct carries.
   */
  #request<N extends VfpfIocName>(name: N, arg: Partial<VfpfIocArgs[N]> = {}, detail?: string,
    pin: readonly Buffer[] = []): VfpfIocArgs[N] {
    const ioc = VFPF_IOC[name];
    const fd = this.#f;
    const buf = encodeArg(name, arg);
    let rc: number;
    this.#pinned = pin;
    try {
      rc = this.#port.ioctl(fd, ioc.request, buf);
    } finally {
      this.#pinned = [];
    }
    if (rc < 0) throw new VfmedSystemError(`ioctl(VFPF_IOC_${name})`, -rc, detail ?? this.path);
    return decodeArg(name, buf);
  }

  info(): PfDevInfo {
    const o = this.#request('GET_INFO');
    return {
      modelId: o.model_id, abiMajor: o.abi_major, abiMinor: o.abi_minor, maxVfs: o.max_vfs,
      numVfs: o.num_vfs, queuesPerVf: o.queues_per_vf, rxFifoBytes: o.rx_fifo_bytes,
      stateVersion: o.state_version, features: o.features,
    };
  }

  numVfs(): number {
    return this.info().numVfs;
  }

  sriovEnable(numVfs: number): number {
    checkU32('numVfs', numVfs);
    return this.#request('SRIOV_ENABLE', { num_vfs: numVfs }, `${numVfs} VFs`).num_vfs;
  }

  setVfMac(vf: number, mac: Uint8Array): void {
    checkMac(mac);
    this.#request('SET_MAC', { vf: this.#vf(vf), mac: Uint8Array.from(mac) }, `VF ${vf}`);
  }

  vfConfig(vf: number): PfVfConfig {
    const o = this.#request('VF_CONFIG', { vf: this.#vf(vf) }, `VF ${vf}`);
    return {
      mac: Uint8Array.from(o.mac), rxEnabled: (o.enable & 1) !== 0,
      txEnabled: (o.enable & 2) !== 0, maxFrame: o.max_frame, mcCount: o.mc_count,
      vlanCount: o.vlan_count, promisc: o.promisc, quiesced: o.quiesced !== 0,
    };
  }

  vfStats(vf: number): PfVfStats {
    const o = this.#request('STATS', { vf: this.#vf(vf) }, `VF ${vf}`);
    return {
      rxPackets: big(o.rx_packets), rxBytes: big(o.rx_bytes), txPackets: big(o.tx_packets),
      txBytes: big(o.tx_bytes), rxMcast: big(o.rx_mcast), rxLbPackets: big(o.rx_lb_packets),
      txLbPackets: big(o.tx_lb_packets), rxLbBytes: big(o.rx_lb_bytes),
      txLbBytes: big(o.tx_lb_bytes), rxFifoDrops: big(o.rx_fifo_drops),
      rxNoDesc: big(o.rx_no_desc), dmaErrors: big(o.dma_errors), txErrors: big(o.tx_errors),
      fifoFrames: big(o.fifo_frames), fifoBytes: big(o.fifo_bytes),
    };
  }

  vfFlr(vf: number): void {
    this.#request('VF_FLR', { vf: this.#vf(vf) }, `VF ${vf}`);
  }

  quiesce(vf: number): void {
    this.#request('VF_QUIESCE', { vf: this.#vf(vf) }, `VF ${vf}`);
  }

  resume(vf: number): void {
    this.#request('VF_RESUME', { vf: this.#vf(vf) }, `VF ${vf}`);
  }

  stateSize(vf: number): number {
    return this.#request('STATE_SIZE', { vf: this.#vf(vf) }, `VF ${vf}`).size;
  }

  save(vf: number, cap?: number): Buffer {
    this.#vf(vf);
    const once = (c: number): Buffer => {
      const buf = stableBuffer(c);
      const o = this.#request('SAVE', { vf, len: c, buf: userPtr(buf) }, `VF ${vf}, ${c}-byte buffer`, [buf]);
      if (o.len > c) throw new VfmedSystemError(`ioctl(VFPF_IOC_SAVE)`, 5, `the module reports ${o.len} bytes written into ${c}`);
      return buf.subarray(0, o.len);
    };
    if (cap === undefined) return saveGrowing(() => this.stateSize(vf), once);
    checkU32('cap', cap);
    if (cap === 0 || cap > VFPF_IOC_STATE_MAX) {
      throw new RangeError(`cap must be in [1, ${VFPF_IOC_STATE_MAX}] (VFPF_IOC_STATE_MAX), got ${cap}`);
    }
    return once(cap);
  }

  load(vf: number, blob: Uint8Array): void {
    this.#vf(vf);
    const src = asBuffer(blob);
    if (src.length === 0 || src.length > VFPF_IOC_STATE_MAX) {
      throw new RangeError(`blob must be 1..${VFPF_IOC_STATE_MAX} bytes (VFPF_IOC_STATE_MAX), got ${src.length}`);
    }
    // A copy whose memory is off the V8 heap: the kernel reads it through a raw address.
    const buf = stableBuffer(src.length);
    src.copy(buf);
    this.#request('LOAD', { vf, len: buf.length, buf: userPtr(buf) }, `VF ${vf}, ${buf.length}-byte blob`, [buf]);
  }

  dirtyStart(vf: number, pageShift: number, ranges: readonly DirtyRange[]): void {
    this.#vf(vf);
    checkU32('pageShift', pageShift);
    checkRanges(ranges);
    if (ranges.length === 0 || ranges.length > VFPF_IOC_DIRTY_MAX_RANGES) {
      throw new RangeError(`1..${VFPF_IOC_DIRTY_MAX_RANGES} ranges (VFPF_IOC_DIRTY_MAX_RANGES), got ${ranges.length}`);
    }
    const arr = encodeRanges(ranges);
    this.#request('DIRTY_START', {
      vf, page_shift: pageShift, nr_ranges: ranges.length, ranges: userPtr(arr),
    }, `VF ${vf}, ${ranges.length} ranges at 2^${pageShift}`, [arr]);
  }

  dirtyReport(vf: number, iova: bigint, length: bigint, pageShift: number): Buffer {
    this.#vf(vf);
    const bytes = dirtyBitmapBytes(iova, length, pageShift);
    if (bytes > VFPF_IOC_BITMAP_MAX) {
      throw new RangeError(`dirty report window needs a ${bytes}-byte bitmap, over VFPF_IOC_BITMAP_MAX (${VFPF_IOC_BITMAP_MAX})`);
    }
    const bm = stableBuffer(Math.max(bytes, 1));
    this.#request('DIRTY_REPORT', {
      vf, iova, length, bitmap: userPtr(bm), bitmap_len: BigInt(bm.length),
    }, `VF ${vf}, 0x${iova.toString(16)}+0x${length.toString(16)}`, [bm]);
    return bm.subarray(0, bytes);
  }

  dirtyStop(vf: number): void {
    this.#request('DIRTY_STOP', { vf: this.#vf(vf) }, `VF ${vf}`);
  }
}
