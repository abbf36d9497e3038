/**
 * The device side of the traffic and dirty trials: what a vfmed daemon runs for its VFs,
 * in the trial's child process. An emulated NIC (device thread), the PF driver (libvfpf)
 * with SR-IOV enabled and its mailbox serviced, the VF mediate driver registered in a
 * mediate-ops registry, and one vfio-user server per VF whose device is mediated. Guests are
 * vfmed-guest processes (guest.ts) connecting to the sockets.
 */
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

const PF_DMA_IOVA = 0x8000_0000n;
const PF_DMA_LEN = 8n << 20n;

export interface HostOptions {
  vfs: number;
  tracker: TrackerMode;
  pollMode?: 'busy' | 'adaptive';
  /** MAC of VF 0 (the others follow); two hosts of one trial need different ones. */
  baseMac?: Uint8Array;
}

export class MediatedHost {
  readonly addon: NativeAddon = loadAddon();
  readonly nic: NativeNic;
  readonly pf: PfDriver;
  readonly driver: VfMediateDriver;
  readonly dir: string;
  readonly #servers: VfioUserServer[] = [];
  readonly #dmaFd: number;
  readonly #service: NodeJS.Timeout;

  constructor(opts: HostOptions) {
    this.nic = new this.addon.Nic({ maxVfs: opts.vfs, baseMac: opts.baseMac ?? Uint8Array.of(0x02, 0x76, 0x66, 0x6d, 0xb0, 0x00), pollMode: opts.pollMode ?? 'adaptive' });
    this.nic.start();
    this.#dmaFd = this.addon.memfdCreate('vfmed-bench-pf-dma', PF_DMA_LEN);
    this.nic.pfDmaMap(PF_DMA_IOVA, PF_DMA_LEN, this.#dmaFd, 0n);
    this.pf = PfDriver.open({ barFd: this.nic.pfBarFd(), dmaFd: this.#dmaFd, dmaIova: PF_DMA_IOVA, dmaLen: PF_DMA_LEN });
    this.pf.init();
    this.pf.sriovEnable(opts.vfs);
    this.#service = setInterval(() => {
      try {
        this.pf.service();
      } catch {
        /* closing */
      }
    }, 1);
    const registry = new MediateRegistry();
    this.driver = registerVfMediateDriver(registry, { nic: this.nic, pf: this.pf, tracker: opts.tracker });
    this.dir = mkdtempSync(join(tmpdir(), 'vfmed-bench-'));
    for (let vf = 0; vf < opts.vfs; vf++) {
      const dev = new MediatedDevice(new IgbVfDevice(this.nic, vf, { flr: () => this.pf.vfFlr(vf) }), registry);
      this.#servers.push(new VfioUserServer({ path: this.path(vf), device: dev }).listen());
    }
  }

  path(vf: number): string {
    return join(this.dir, `vf${vf}.sock`);
  }

  mac(vf: number): string {
    return [...this.nic.vfInfo(vf).mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
  }

  handle(vf: number): VfMediateHandle {
    const h = this.driver.handle(vf);
    if (!h) throw new Error(`no guest attached to VF ${vf}`);
    return h;
  }

  async close(): Promise<void> {
    clearInterval(this.#service);
    await Promise.all(this.#servers.map((s) => s.close()));
    this.pf.close();
    this.nic.destroy();
    this.addon.close(this.#dmaFd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
