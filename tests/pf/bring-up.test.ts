// PF bring-up and SR-IOV enable through libvfpf.so against the emulated NIC: open's argument
// checks, identification, admin queue, PFRSTD (the VFs see "PF reset done"), GET_INFO,
// sriovEnable's rules (bounds, idempotence, EBUSY on a different count, disable), default
// MACs adopted from the device, use after close.
import { afterEach, describe, expect, it } from 'vitest';
import { VfmedSystemError } from '../../mediator/errors.js';
import { PfDriver } from '../../mediator/pf/pf-driver.js';
import { addon, BASE_MAC, makeRig, MBX_RSTD, MBX_RSTI, PF_DMA_IOVA, PF_DMA_LEN, type Rig, V2PMAILBOX, vfMac } from './pf-rig.js';

const VFPF_MODEL_ID = 0x76660576;
let rig: Rig | undefined;
afterEach(() => {
  rig?.close();
  rig = undefined;
});

function sysErr(fn: () => unknown): VfmedSystemError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VfmedSystemError);
    return e as VfmedSystemError;
  }
  throw new Error('expected a VfmedSystemError');
}

describe('PfDriver.open', () => {
  it.each([
    ['a BAR shorter than 64 KiB', { barLen: 4096 }, 'EINVAL'],
    ['DMA memory below 64 KiB', { dmaLen: 4096n }, 'EINVAL'],
    ['an unaligned DMA IOVA', { dmaIova: PF_DMA_IOVA + 16n }, 'EINVAL'],
    ['a DMA length past the end of the memfd', { dmaLen: PF_DMA_LEN * 2n }, 'EINVAL'],
    ['a closed BAR fd', { barFd: 100_000 }, 'EBADF'],
  ])('refuses %s', (_what, over, code) => {
    rig = makeRig({ init: false });
    const base = { barFd: rig.nic.pfBarFd(), dmaFd: rig.dmaFd, dmaIova: PF_DMA_IOVA, dmaLen: PF_DMA_LEN };
    const e = sysErr(() => PfDriver.open({ ...base, ...over }));
    expect(e.code).toBe(code);
    expect(e.syscall).toBe('vfpf_open');
  });

  it('refuses a BAR that is not a vfmed PF with ENODEV at init', () => {
    const fd = addon.memfdCreate('not-a-pf', 0x10000n);
    const dma = addon.memfdCreate('dma', 1n << 20n);
    try {
      const pf = PfDriver.open({ barFd: fd, dmaFd: dma, dmaIova: 0x100000n, dmaLen: 1n << 20n });
      try {
        const e = sysErr(() => pf.init());
        expect(e.code).toBe('ENODEV');
        expect(e.syscall).toBe('vfpf_dev_init');
        // Nothing works before a successful init.
        expect(sysErr(() => pf.service()).code).toBe('ENODEV');
        expect(sysErr(() => pf.sriovEnable(1)).code).toBe('ENODEV');
      } finally {
        pf.close();
      }
    } finally {
      addon.close(fd);
      addon.close(dma);
    }
  });

  it('refuses bad arguments at the TS edge', () => {
    rig = makeRig({ init: false });
    expect(() => PfDriver.open({ barFd: 1.5, dmaFd: 3, dmaIova: 0n, dmaLen: 1n })).toThrow(TypeError);
    expect(() => PfDriver.open({ barFd: 3, dmaFd: 3, dmaIova: -1n, dmaLen: 1n })).toThrow(RangeError);
  });
});

describe('PF bring-up', () => {
  it('identifies the device and reports GET_INFO', () => {
    rig = makeRig({ maxVfs: 3 });
    const info = rig.pf.info();
    expect(info.modelId).toBe(VFPF_MODEL_ID);
    expect(info.abiMajor).toBe(1);
    expect(info.maxVfs).toBe(3);
    expect(info.numVfs).toBe(0);
    expect(info.queuesPerVf).toBe(2);
    expect(rig.pf.numVfs()).toBe(0);
  });

  it('ends the PF reset for the VFs (RSTI -> RSTD) and re-initialises cleanly', () => {
    rig = makeRig({ maxVfs: 2, numVfs: 2 });
    for (let vf = 0; vf < 2; vf++) {
      expect(rig.nic.vfRead32(vf, V2PMAILBOX) & MBX_RSTI).toBe(0);
    }
    // A second init (driver reload) resets the admin queue and adopts the enabled VFs.
    rig.pf.init();
    expect(rig.pf.numVfs()).toBe(2);
    expect(rig.pf.vfStatus(1).permMac).toEqual(vfMac(BASE_MAC, 1));
    const mbx = rig.nic.vfRead32(0, V2PMAILBOX);
    expect(mbx & MBX_RSTI).toBe(0);
    expect(mbx & MBX_RSTD).toBe(MBX_RSTD); // the VF is told the PF reset again
  });

  it('serves nothing when nothing happened', () => {
    rig = makeRig({ numVfs: 2 });
    rig.pf.service(); // consume what enabling the VFs may have bumped
    expect(rig.pf.service()).toBe(0);
  });

  it('throws a clear error after close and close is idempotent', () => {
    rig = makeRig();
    const { pf } = rig;
    pf.close();
    expect(pf.closed).toBe(true);
    expect(() => pf.info()).toThrow(/after close/);
    pf.close();
  });
});

describe('SR-IOV enable', () => {
  it('enables VFs with the device default MACs, not yet clear to send', () => {
    rig = makeRig({ maxVfs: 4 });
    expect(rig.pf.sriovEnable(3)).toBe(3);
    expect(rig.pf.numVfs()).toBe(3);
    expect(rig.pf.info().numVfs).toBe(3);
    for (let vf = 0; vf < 3; vf++) {
      const st = rig.pf.vfStatus(vf);
      expect(st.permMac).toEqual(vfMac(BASE_MAC, vf));
      expect(st.mac).toEqual(vfMac(BASE_MAC, vf));
      expect(st.clearToSend).toBe(false);
      expect(st.filtersKnown).toBe(true);
      expect(rig.nic.vfInfo(vf).enabled).toBe(true);
    }
    expect(rig.nic.vfInfo(3).enabled).toBe(false);
  });

  it.each([
    ['more VFs than the device has', 5, 'EINVAL'],
  ])('refuses %s', (_w, n, code) => {
    rig = makeRig({ maxVfs: 4 });
    expect(sysErr(() => rig!.pf.sriovEnable(n)).code).toBe(code);
  });

  it('is idempotent for the same count, EBUSY for another, and disables with 0', () => {
    rig = makeRig({ maxVfs: 4, numVfs: 2 });
    expect(rig.pf.sriovEnable(2)).toBe(2);
    expect(sysErr(() => rig!.pf.sriovEnable(3)).code).toBe('EBUSY');
    expect(rig.pf.sriovEnable(0)).toBe(0);
    expect(rig.nic.vfInfo(0).enabled).toBe(false);
    expect(sysErr(() => rig!.pf.vfStatus(0)).code).toBe('ENODEV');
    expect(rig.pf.sriovEnable(4)).toBe(4);
  });
});
