// Register access through the glue on an enabled VF (SR-IOV enabled by the real PF driver):
// the int32 and u32 spellings of a value store the same bits, 64-bit values cross as
// bigint without loss, and narrow accesses see the right bytes (little-endian BAR).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAddon, type NativeNic } from '../../mediator/native/addon.js';
import { PfDriver } from '../../mediator/pf/pf-driver.js';

const addon = loadAddon();
const PSRTYPE = 0x0f0c;           // plain RW register of page 0
const RDBAL0 = 0x2800;            // RDBAL/RDBAH of RX queue 0 (page 2): one 64-bit base
const PF_DMA_IOVA = 0x8000_0000n;
const PF_DMA_LEN = 1n << 20n;

let nic: NativeNic;
let pf: PfDriver;
let dmaFd: number;
beforeAll(() => {
  nic = new addon.Nic({ maxVfs: 2 });
  nic.start();
  dmaFd = addon.memfdCreate('reg-access-pf-dma', PF_DMA_LEN);
  nic.pfDmaMap(PF_DMA_IOVA, PF_DMA_LEN, dmaFd, 0n);
  pf = PfDriver.open({ barFd: nic.pfBarFd(), dmaFd, dmaIova: PF_DMA_IOVA, dmaLen: PF_DMA_LEN });
  pf.init();
  pf.sriovEnable(2);
});
afterAll(() => {
  pf.close();
  nic.destroy();
  addon.close(dmaFd);
});

describe('register access through the glue', () => {
  it.each([
    ['int32 -1', -1, 0xffffffff],
    ['u32 0xffffffff', 0xffffffff, 0xffffffff],
    ['int32 minimum', -(2 ** 31), 0x80000000],
    ['x | 0x80000000', 0x1234 | 0x80000000, 0x80001234],
    ['zero', 0, 0],
  ])('vfWrite32 of %s reads back as u32', (_what, written, expected) => {
    nic.vfWrite32(1, PSRTYPE, written);
    expect(nic.vfRead32(1, PSRTYPE)).toBe(expected);
    expect(nic.vfRegRead(1, PSRTYPE, 4)).toBe(BigInt(expected));
  });

  it('64-bit values cross as bigint, low word at the lower offset', () => {
    const v = 0x0000_00ab_cdef_0000n; // 128-byte aligned ring base above 4 GiB
    nic.vfRegWrite(0, RDBAL0, 8, v);
    expect(nic.vfRegRead(0, RDBAL0, 8)).toBe(v);
    expect(nic.vfRead32(0, RDBAL0)).toBe(0xcdef0000);
    expect(nic.vfRead32(0, RDBAL0 + 4)).toBe(0xab);
  });

  it('narrow reads return the addressed bytes', () => {
    nic.vfWrite32(0, PSRTYPE, 0x44332211);
    expect(nic.vfRegRead(0, PSRTYPE, 1)).toBe(0x11n);
    expect(nic.vfRegRead(0, PSRTYPE + 1, 1)).toBe(0x22n);
    expect(nic.vfRegRead(0, PSRTYPE + 2, 2)).toBe(0x4433n);
  });

  it('VFs are independent register files', () => {
    nic.vfWrite32(0, PSRTYPE, 0xa0);
    nic.vfWrite32(1, PSRTYPE, 0xa1);
    expect([nic.vfRead32(0, PSRTYPE), nic.vfRead32(1, PSRTYPE)]).toEqual([0xa0, 0xa1]);
  });

  it('vfInfo of an enabled VF reports it enabled with the NIC default MAC', () => {
    const info = nic.vfInfo(1);
    expect(info.enabled).toBe(true);
    expect(info.mac.length).toBe(6);
  });
});
