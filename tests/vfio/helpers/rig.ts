// Rig for the vfio-user suites: a real emulated NIC (addon, device thread running) whose
// VFs are SR-IOV-enabled by the real PF driver (libvfpf through PfDriver), one IgbVfDevice
// + VfioUserServer per VF on sockets in a fresh temporary directory.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAddon, type NativeAddon, type NativeNic } from '../../../mediator/native/addon.js';
import { PfDriver } from '../../../mediator/pf/pf-driver.js';
import { IgbVfDevice } from '../../../mediator/vfio/igbvf-device.js';
import { VfioUserServer } from '../../../mediator/vfio/server.js';
import { CMD, REGION, le, regionAccessPayload } from './wire.js';
import type { TestClient } from './client.js';

export const addon: NativeAddon = loadAddon();
const PF_DMA_IOVA = 0x8000_0000n;
const PF_DMA_LEN = 1n << 20n;

export interface VfioRig {
  nic: NativeNic;
  pf: PfDriver;
  dir: string;
  devices: IgbVfDevice[];
  servers: VfioUserServer[];
  /** what the servers logged at error level (internal errors: must stay empty) */
  errors: Array<{ obj: object; msg: string }>;
  path(vf: number): string;
  close(): Promise<void>;
}

export function startRig(vfs = 2, opts: { maxDmaMaps?: number; flr?: boolean } = {}): VfioRig {
  const nic = new addon.Nic({ maxVfs: vfs, baseMac: Uint8Array.of(0x02, 0x76, 0x66, 0x00, 0x00, 0x20) });
  nic.start();
  const dmaFd = addon.memfdCreate('vfio-rig-pf-dma', PF_DMA_LEN);
  nic.pfDmaMap(PF_DMA_IOVA, PF_DMA_LEN, dmaFd, 0n);
  const pf = PfDriver.open({ barFd: nic.pfBarFd(), dmaFd, dmaIova: PF_DMA_IOVA, dmaLen: PF_DMA_LEN });
  pf.init();
  pf.sriovEnable(vfs);
  const dir = mkdtempSync(join(tmpdir(), 'vfmed-vfio-'));
  const devices: IgbVfDevice[] = [];
  const servers: VfioUserServer[] = [];
  const errors: Array<{ obj: object; msg: string }> = [];
  const logger = { debug() {}, warn() {}, error: (obj: object, msg: string) => void errors.push({ obj, msg }) };
  for (let vf = 0; vf < vfs; vf++) {
    const dev = new IgbVfDevice(nic, vf, { maxDmaMaps: opts.maxDmaMaps, flr: opts.flr === false ? undefined : () => pf.vfFlr(vf) });
    devices.push(dev);
    servers.push(new VfioUserServer({ path: join(dir, `vf${vf}.sock`), device: dev, logger }).listen());
  }
  return {
    nic,
    pf,
    dir,
    devices,
    servers,
    errors,
    path: (vf) => join(dir, `vf${vf}.sock`),
    async close() {
      await Promise.all(servers.map((s) => s.close()));
      pf.close();
      nic.destroy();
      addon.close(dmaFd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Number of open fds of this process (leak checks). */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Sets the command register's Memory Space bit so BAR accesses are allowed. */
export async function enableMemory(c: TestClient): Promise<void> {
  const r = await c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.CONFIG, 4n, 2, le(0x0006, 2)));
  if (r.errno) throw new Error(`enabling memory space failed: errno ${r.errno}`);
}

/** Resolves on the next turn of the event loop after pending I/O callbacks. */
export function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** Waits (event loop turns, bounded) until cond holds. */
export async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`timed out waiting for ${what}`);
}
