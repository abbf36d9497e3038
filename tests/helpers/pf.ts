/**
 * The PF driver as the hardware tests use it: libvfpf.so through PfDriver
 * (mediator/pf/pf-driver.ts), opened over one NIC's PF BAR with a PF DMA memfd registered
 * with that NIC, initialised (admin queue up, PFRSTD set). Tests talk to the small PfApi
 * interface so a rename in the binding is fixed here, not in every test.
 */
import { loadAddon, type NativeNic } from '../../mediator/native/addon.js';
import { PfDriver, type PfVfConfig, type PfVfStats } from '../../mediator/pf/pf-driver.js';

export type { PfVfConfig, PfVfStats };

export const PF_DMA_IOVA = 0x8000_0000n;
export const PF_DMA_LEN = 8n << 20n;

export interface PfApi {
  readonly driver: PfDriver;
  /** Handles pending mailbox/reset events; returns the number handled. */
  service(): number;
  sriovEnable(numVfs: number): number;
  vfSetMac(vf: number, mac: Uint8Array): void;
  vfGetConfig(vf: number): PfVfConfig;
  vfStats(vf: number): PfVfStats;
  vfQuiesce(vf: number): void;
  vfResume(vf: number): void;
  vfStateSize(vf: number): number;
  vfSave(vf: number): Buffer;
  vfLoad(vf: number, blob: Uint8Array): void;
  /** Raw admin command (bypasses the driver's own checks); returns the descriptor's ret. */
  adminCmd(opcode: number, vf: number, param0: number, param1: number, buf?: Uint8Array): number;
  close(): void;
}

export function openPf(nic: NativeNic): PfApi {
  const addon = loadAddon();
  const dmaFd = addon.memfdCreate('vfmed-test-pf-dma', PF_DMA_LEN);
  let driver: PfDriver;
  try {
    nic.pfDmaMap(PF_DMA_IOVA, PF_DMA_LEN, dmaFd, 0n);
    driver = PfDriver.open({ barFd: nic.pfBarFd(), dmaFd, dmaIova: PF_DMA_IOVA, dmaLen: PF_DMA_LEN });
  } catch (e) {
    addon.close(dmaFd);
    throw e;
  }
  try {
    driver.init();
  } catch (e) {
    driver.close();
    addon.close(dmaFd);
    throw e;
  }
  let closed = false;
  return {
    driver,
    service: () => driver.service(),
    sriovEnable: (n) => driver.sriovEnable(n),
    vfSetMac: (vf, mac) => driver.setVfMac(vf, mac),
    vfGetConfig: (vf) => driver.vfConfig(vf),
    vfStats: (vf) => driver.vfStats(vf),
    vfQuiesce: (vf) => driver.quiesce(vf),
    vfResume: (vf) => driver.resume(vf),
    vfStateSize: (vf) => driver.stateSize(vf),
    vfSave: (vf) => driver.save(vf),
    vfLoad: (vf, blob) => driver.load(vf, blob),
    adminCmd: (op, vf, p0, p1, buf) => {
      const b = buf ? Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength) : undefined;
      return driver.adminCmd(op, vf, p0, p1, b).ret;
    },
    close: () => {
      if (closed) return;
      closed = true;
      driver.close();
      addon.close(dmaFd);
    },
  };
}
