/**
 * The VF mediate driver: registered by the PF side (it reaches VF state only through the PF
 * driver, libvfpf over koffi), it accepts the emulated 82576 VFs of its NIC and gives each
 * open a VfMediateHandle.
 *
 *   const registry = new MediateRegistry();
 *   const drv = registerVfMediateDriver(registry, { nic, pf, tracker: 'tail-trap' });
 *   startVfServers({ nic, dir, flr: (vf) => pf.vfFlr(vf), wrapDevice: mediatedBy(registry) });
 *   ...
 *   drv.handle(0)?.status()          // the open handle of VF 0, if a client is attached
 *
 * Tracker mode per VF: 'tail-trap' (default, needs the trap handshake with the client),
 * 'device-log' (the PF's device dirty log) or 'all' (every mapped page, QEMU's fallback).
 */
import { loadAddon, type NativeNic, type NativeOs } from '../native/addon.js';
import type { PfDriver } from '../pf/pf-driver.js';
import type { VfioDevice } from '../vfio/device.js';
import { IgbVfDevice } from '../vfio/igbvf-device.js';
import type { MediateDriver, MediateRegistry } from '../vfio/mediate-ops.js';
import type { TrackerMode } from './dirty-tracker.js';
import { PfDirtyLog, PfVfControl } from './pf-vf-control.js';
import { VfMediateHandle } from './vf-mediate-handle.js';

export interface VfMediateDriverOptions {
  nic: NativeNic;
  pf: PfDriver;
  /** Dirty tracker of every VF, or per VF. Default 'tail-trap'. */
  tracker?: TrackerMode | ((vf: number) => TrackerMode);
  /** How long DMA_LOGGING_START waits for the client's trap acknowledgement. */
  ackTimeoutMs?: number;
  /** injectable for tests; default the addon's */
  os?: Pick<NativeOs, 'mmapShared' | 'munmap' | 'eventfdWrite'>;
  /** Called with errors the client sees only as an errno (a refused stream, a failed arc). */
  onError?: (vf: number, e: unknown, what: string) => void;
  /** A VF gave its MAC up on release after a completed outgoing migration. */
  onReleaseMac?: (vf: number) => void;
  /**
   * The emulated VF a served device stands for, when the server serves a wrapper of it
   * (the daemon's access counter). Default: the device itself if it is an IgbVfDevice.
   */
  deviceOf?: (device: VfioDevice) => IgbVfDevice | null;
}

export class VfMediateDriver implements MediateDriver {
  readonly name = 'vfmed-vf';
  readonly #handles = new Map<number, VfMediateHandle>();

  constructor(private readonly opts: VfMediateDriverOptions) {}

  open(device: VfioDevice): VfMediateHandle | null {
    const model = this.opts.deviceOf ? this.opts.deviceOf(device) : device instanceof IgbVfDevice ? device : null;
    if (!model || model.nic !== this.opts.nic) return null;
    const vf = model.vf;
    const mode = typeof this.opts.tracker === 'function' ? this.opts.tracker(vf) : this.opts.tracker ?? 'tail-trap';
    const h = new VfMediateHandle({
      device: model,
      control: new PfVfControl(this.opts.pf, this.opts.nic, vf),
      dirtyLog: new PfDirtyLog(this.opts.pf, vf),
      os: this.opts.os ?? loadAddon(),
      tracker: mode,
      ackTimeoutMs: this.opts.ackTimeoutMs,
      onError: (e, what) => this.opts.onError?.(vf, e, what),
      onReleaseMac: () => this.opts.onReleaseMac?.(vf),
      onRelease: () => {
        if (this.#handles.get(vf) === h) this.#handles.delete(vf);
      },
    });
    this.#handles.set(vf, h);
    return h;
  }

  /** The handle of the client attached to VF `vf`, if any. */
  handle(vf: number): VfMediateHandle | undefined {
    return this.#handles.get(vf);
  }
}

export function registerVfMediateDriver(registry: MediateRegistry, opts: VfMediateDriverOptions): VfMediateDriver {
  const d = new VfMediateDriver(opts);
  registry.register(d);
  return d;
}
