/**
 * What the VF mediate driver needs from the PF, over the PF driver (libvfpf through koffi):
 * quiesce/resume, the VF state blob (save/load), the device model and configuration
 * parameters of this VF, and the device dirty log. The mediator never touches VF state the
 * driver cannot see except through these admin commands — the "VF side posts every
 * migration command to the PF driver" structure of Linux variant drivers (pds, mlx5).
 */
import type { PfDriver } from '../pf/pf-driver.js';
import type { PfBackend } from '../pf/pf-backend.js';
import type { NativeNic } from '../native/addon.js';
import type { DeviceDirtyLog } from './device-log-tracker.js';
import type { IovaRange } from './dirty-tracker.js';
import type { VfControl } from '../migration/vf-migration.js';
import { VF_MODEL_ID, VF_MODEL_VERSION, type DestinationCapabilities, type DeviceDescriptor, type VfDeviceParams } from '../migration/device-model.js';

/** VFPF_FEAT_* of the PF's device info (pf_regs.h). */
const FEAT_HEAD_WB = 0x1;
const FEAT_MULTI_DESC = 0x4;

function macString(m: Uint8Array): string {
  return [...m].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export class PfVfControl implements VfControl {
  constructor(private readonly pf: PfDriver, private readonly nic: NativeNic, readonly vf: number) {}

  /** The configuration parameters this VF runs with (what the stream describes). */
  params(): VfDeviceParams {
    const info = this.pf.info();
    return {
      queues: info.queuesPerVf,
      macPolicy: this.pf.vfStatus(this.vf).macAdmin ? 'fixed' : 'pf-assigned',
      headWriteBack: (info.features & FEAT_HEAD_WB) !== 0,
      rxFifoBytes: info.rxFifoBytes,
      multiDescriptorRx: (info.features & FEAT_MULTI_DESC) !== 0,
    };
  }

  descriptor(): DeviceDescriptor {
    return { model: VF_MODEL_ID, version: VF_MODEL_VERSION, params: this.params() };
  }

  capabilities(): DestinationCapabilities {
    return this.descriptor();
  }

  config(): Record<string, unknown> {
    const st = this.pf.vfStatus(this.vf);
    return { vf: this.vf, mac: macString(st.mac), permMac: macString(st.permMac), maxFrame: st.maxFrame, vlans: st.vlanCount };
  }

  stateSizeEstimate(): number {
    return this.pf.stateSize(this.vf);
  }

  saveState(): Buffer {
    return this.pf.save(this.vf);
  }

  loadState(blob: Buffer): void {
    this.pf.load(this.vf, blob);
  }

  quiesce(): void {
    this.pf.quiesce(this.vf);
  }

  resume(): void {
    this.pf.resume(this.vf);
  }

  /** Whether the device has the VF quiesced right now (by anyone). */
  quiesced(): boolean {
    return this.nic.vfInfo(this.vf).quiesced;
  }

  /** Runs fn with the VF quiesced; leaves it as it was. */
  frozen<T>(fn: () => T): T {
    if (this.quiesced()) return fn();
    this.quiesce();
    try {
      return fn();
    } finally {
      this.resume();
    }
  }

  reset(): void {
    this.pf.vfFlr(this.vf);
  }

  /** The VF stops claiming its MAC (and multicast/VLAN filters): its guest lives elsewhere. */
  releaseMac(): void {
    this.pf.vfReleaseMac(this.vf);
  }
}

/** The device dirty log of one VF (PF admin DIRTY_START/REPORT/STOP), through either PF
 * driver: libvfpf in process (PfDriver) or vfpf.ko's /dev/vfpf (KernelPf). */
export class PfDirtyLog implements DeviceDirtyLog {
  constructor(private readonly pf: PfBackend, readonly vf: number) {}

  start(ranges: readonly IovaRange[], pageShift: number): void {
    this.pf.dirtyStart(this.vf, pageShift, ranges.map((r) => ({ iova: r.iova, length: r.length })));
  }

  report(iova: bigint, length: bigint, pageShift: number): Buffer {
    // The device logs 4 KiB pages; fold to the requested size here (the PF reports at the
    // granule it was started with).
    const start = 12;
    const raw = this.pf.dirtyReport(this.vf, iova, length, start);
    if (pageShift === start) return raw;
    const per = 1 << (pageShift - start);
    const bits = Number(length >> BigInt(pageShift));
    const out = Buffer.alloc(Math.ceil(bits / 8));
    for (let i = 0; i < raw.length * 8; i++) {
      if (raw[i >> 3]! & (1 << (i & 7))) {
        const j = Math.floor(i / per);
        out[j >> 3]! |= 1 << (j & 7);
      }
    }
    return out;
  }

  stop(): void {
    this.pf.dirtyStop(this.vf);
  }
}
