// One "daemon" for the mediator suites: an emulated NIC (device thread running), the PF
// driver (libvfpf) with SR-IOV enabled and its mailbox serviced, the VF mediate driver in a
// mediate-ops registry, and one vfio-user server per VF whose device is the MediatedDevice.
// Two of these in one test are the source and destination hosts of a migration.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAddon, type NativeAddon, type NativeNic } from '../../../mediator/native/addon.js';
import { PfDriver } from '../../../mediator/pf/pf-driver.js';
import { IgbVfDevice } from '../../../mediator/vfio/igbvf-device.js';
import { MediateRegistry, MediatedDevice } from '../../../mediator/vfio/mediate-ops.js';
import { VfioUserServer } from '../../../mediator/vfio/server.js';
import { registerVfMediateDriver, type VfMediateDriver } from '../../../mediator/mediate/vf-mediate-driver.js';
import type { TrackerMode } from '../../../mediator/mediate/dirty-tracker.js';
import type { VfMediateHandle } from '../../../mediator/mediate/vf-mediate-handle.js';

export const addon: NativeAddon = loadAddon();
const PF_DMA_IOVA = 0x8000_0000n;
const PF_DMA_LEN = 8n << 20n;

export interface DaemonOptions {
  vfs?: number;
  tracker?: TrackerMode;
  rxFifoBytes?: number;
  baseMac?: Uint8Array;
  ackTimeoutMs?: number;
  /** no mediate driver registered: the servers serve plain (wrapped but unmediated) VFs */
  noDriver?: boolean;
}

export class DaemonRig {
  readonly nic: NativeNic;
  readonly pf: PfDriver;
  readonly registry = new MediateRegistry();
  readonly driver: VfMediateDriver | null;
  readonly dir: string;
  readonly devices: IgbVfDevice[] = [];
  readonly mediated: MediatedDevice[] = [];
  readonly servers: VfioUserServer[] = [];
  /** Internal errors the servers logged (must stay empty) and what the driver reported. */
  readonly errors: Array<{ obj: object; msg: string }> = [];
  readonly driverErrors: Array<{ vf: number; what: string; message: string }> = [];
  readonly #dmaFd: number;
  readonly #service: NodeJS.Timeout;

  constructor(name: string, opts: DaemonOptions = {}) {
    const vfs = opts.vfs ?? 2;
    this.nic = new addon.Nic({
      maxVfs: vfs,
      baseMac: opts.baseMac ?? Uint8Array.of(0x02, 0x76, 0x66, 0x4d, 0x00, 0x10),
      ...(opts.rxFifoBytes ? { rxFifoBytes: opts.rxFifoBytes } : {}),
    });
    this.nic.start();
    this.#dmaFd = addon.memfdCreate(`${name}-pf-dma`, PF_DMA_LEN);
    this.nic.pfDmaMap(PF_DMA_IOVA, PF_DMA_LEN, this.#dmaFd, 0n);
    this.pf = PfDriver.open({ barFd: this.nic.pfBarFd(), dmaFd: this.#dmaFd, dmaIova: PF_DMA_IOVA, dmaLen: PF_DMA_LEN });
    this.pf.init();
    this.pf.sriovEnable(vfs);
    // The PF driver answers VF mailboxes when serviced (a daemon does it on the PF eventfd).
    this.#service = setInterval(() => {
      try {
        this.pf.service();
      } catch {
        /* closed under us at teardown */
      }
    }, 1);
    this.driver = opts.noDriver ? null : registerVfMediateDriver(this.registry, {
      nic: this.nic, pf: this.pf, tracker: opts.tracker ?? 'tail-trap', ackTimeoutMs: opts.ackTimeoutMs,
      onError: (vf, e, what) => this.driverErrors.push({ vf, what, message: (e as Error).message }),
    });
    this.dir = mkdtempSync(join(tmpdir(), `vfmed-${name}-`));
    const logger = { debug() {}, warn() {}, error: (obj: object, msg: string) => void this.errors.push({ obj, msg }) };
    for (let vf = 0; vf < vfs; vf++) {
      const dev = new IgbVfDevice(this.nic, vf, { flr: () => this.pf.vfFlr(vf) });
      const med = new MediatedDevice(dev, this.registry);
      this.devices.push(dev);
      this.mediated.push(med);
      this.servers.push(new VfioUserServer({ path: this.path(vf), device: med, logger }).listen());
    }
  }

  path(vf: number): string {
    return join(this.dir, `vf${vf}.sock`);
  }

  /** The handle of the client attached to `vf` (throws if none). */
  handle(vf: number): VfMediateHandle {
    const h = this.driver?.handle(vf);
    if (!h) throw new Error(`no client attached to VF ${vf}`);
    return h;
  }

  async close(): Promise<void> {
    clearInterval(this.#service);
    await Promise.all(this.servers.map((s) => s.close()));
    this.pf.close();
    this.nic.destroy();
    addon.close(this.#dmaFd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
