/**
 * The PF side of `vfmed demo`, done the way a host brings up an SR-IOV NIC: PF DMA memory
 * registered with the device, the PF driver (libvfpf.so through PfDriver, mediator/pf/)
 * opened on the PF BAR and initialised (identification, admin queue, PFRSTD), SR-IOV
 * enabled for the VFs, and each VF's MAC fixed administratively ("ip link set <pf> vf N
 * mac ..."), so the MAC a VF driver gets in its VF_RESET reply comes from the PF driver.
 * Afterwards service() answers the VF mailboxes and vfCounters() reads a VF's device
 * counters through the admin queue (VF_STATS).
 */
import type { Logger } from 'pino';
import type { NativeAddon, NativeNic } from '../native/addon.js';
import { PfDriver, type PfVfStats } from '../pf/pf-driver.js';
import { macString } from './frames.js';

/** Where the PF driver's DMA memory (admin ring, bounce buffers) lives in PF IOVA space. */
const PF_DMA_IOVA = 0x8000_0000n;
const PF_DMA_LEN = 1n << 20n;

export type PfVfCounters = PfVfStats;

export interface DemoPf {
  readonly name: string;
  /** Runs the PF driver's event service (mailbox requests, VF resets). */
  service(): void;
  numVfs(): number;
  vfCounters(vf: number): PfVfCounters;
  close(): void;
}

export function bringUpPf(addon: NativeAddon, nic: NativeNic, numVfs: number,
  macOf: (vf: number) => Uint8Array, log: Logger): DemoPf {
  const dmaFd = addon.memfdCreate('vfmed-demo-pf-dma', PF_DMA_LEN);
  let pf: PfDriver | undefined;
  let mapped = false;
  const close = (): void => {
    pf?.close();
    pf = undefined;
    if (mapped) nic.pfDmaUnmap(PF_DMA_IOVA, PF_DMA_LEN);
    mapped = false;
    addon.close(dmaFd);
  };
  try {
    nic.pfDmaMap(PF_DMA_IOVA, PF_DMA_LEN, dmaFd, 0n);
    mapped = true;
    const drv = PfDriver.open({ barFd: nic.pfBarFd(), dmaFd, dmaIova: PF_DMA_IOVA, dmaLen: PF_DMA_LEN });
    pf = drv;
    drv.init();
    const info = drv.info();
    log.info({ modelId: info.modelId.toString(16), abi: `${info.abiMajor}.${info.abiMinor}`, maxVfs: info.maxVfs },
      'PF driver initialised (admin queue up, PFRSTD set)');
    const enabled = drv.sriovEnable(numVfs);
    if (enabled !== numVfs) throw new Error(`SR-IOV enable: ${enabled} VFs enabled, asked for ${numVfs}`);
    for (let vf = 0; vf < numVfs; vf++) {
      drv.setVfMac(vf, macOf(vf));
      log.info({ vf, mac: macString(macOf(vf)) }, 'VF enabled, MAC assigned by the PF driver');
    }
    return {
      name: 'libvfpf',
      service: () => {
        drv.service();
      },
      numVfs: () => drv.numVfs(),
      vfCounters: (vf) => drv.vfStats(vf),
      close,
    };
  } catch (e) {
    close();
    throw e;
  }
}
