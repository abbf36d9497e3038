// VFIO_USER_DEVICE_RESET and the PCIe FLR written into config space. With an FLR-capable
// device (the PF driver's admin VF reset), DEVICE_RESET returns the register file to
// power-on values and keeps config space, MSI-X table, DMA windows and eventfds (what a
// vfio-pci reset looks like to the user); a config-space FLR also resets config space.
// Without FLR, DEVICE_RESET is the VF software reset (CTRL.RST) and FLR is not advertised.
import { constants } from 'node:os';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TestClient } from './helpers/client.js';
import { addon, enableMemory, startRig, until, type VfioRig } from './helpers/rig.js';
import { CMD, F_NO_REPLY, IRQ_INDEX, IRQ_SET, REGION, dmaMapPayload, irqSetPayload, le, regionAccessPayload } from './helpers/wire.js';

const { EINVAL } = constants.errno;
const PSRTYPE = 0x0f0c, TXDCTL0 = 0x3828, TDLEN0 = 0x3808;
const XDCTL_ENABLE = 0x02000000;
const EXP = 0xa0, DEVCAP = EXP + 4, DEVCTL = EXP + 8;

async function cfg(c: TestClient, off: number, size: number, write?: number): Promise<number> {
  if (write !== undefined) {
    const w = await c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.CONFIG, BigInt(off), size, le(write, size as 1 | 2 | 4)));
    expect(w.errno).toBe(0);
  }
  const r = await c.request(CMD.REGION_READ, regionAccessPayload(REGION.CONFIG, BigInt(off), size));
  return r.payload.readUIntLE(16, size);
}
async function bar3(c: TestClient, off: number, write?: number): Promise<number> {
  if (write !== undefined) await c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.BAR3, BigInt(off), 4, le(write, 4)));
  return (await c.request(CMD.REGION_READ, regionAccessPayload(REGION.BAR3, BigInt(off), 4))).payload.readUInt32LE(16);
}

/** Puts state everywhere a reset could touch. */
async function dirty(rig: VfioRig, c: TestClient, memfd: number, efd: number): Promise<void> {
  await enableMemory(c);
  await cfg(c, 0x04, 2, 0x0006); // MEM | BME
  await cfg(c, 0x10, 4, 0xfebf0000);
  await bar3(c, 16 + 12, 0); // unmask MSI-X vector 1
  expect((await c.request(CMD.DMA_MAP, dmaMapPayload({ flags: 3, offset: 0n, addr: 0x4000_0000n, size: 0x10000n }), { fds: [memfd] })).errno).toBe(0);
  expect((await c.request(CMD.DEVICE_SET_IRQS, irqSetPayload({ flags: IRQ_SET.ACTION_TRIGGER | IRQ_SET.DATA_EVENTFD, index: IRQ_INDEX.MSIX, start: 1, count: 1 }), { fds: [efd] })).errno).toBe(0);
  rig.nic.vfWrite32(0, PSRTYPE, 0x1234);
  rig.nic.vfWrite32(0, TDLEN0, 0x80);
  rig.nic.vfWrite32(0, TXDCTL0, XDCTL_ENABLE);
}

describe('with FLR (PF admin VF reset)', () => {
  let rig: VfioRig;
  let c: TestClient;
  let memfd: number;
  let efd: number;
  beforeAll(() => {
    rig = startRig(1);
  });
  afterAll(async () => {
    await rig.close();
  });
  beforeEach(async () => {
    await until(() => rig.servers[0]?.attached === null, 'a free device');
    c = await TestClient.connect(rig.path(0));
    memfd = addon.memfdCreate('reset-dma', 0x10000n);
    efd = addon.eventfdCreate();
    await dirty(rig, c, memfd, efd);
  });
  afterEach(async () => {
    await c.close();
    addon.close(memfd);
    addon.close(efd);
  });

  it('advertises FLR in the PCIe Device Capabilities', async () => {
    expect((await cfg(c, DEVCAP, 4)) & (1 << 28)).toBe(1 << 28);
  });

  it('DEVICE_RESET: registers to power-on; config space, MSI-X table, DMA windows and eventfds kept', async () => {
    const r = await c.request(CMD.DEVICE_RESET, Buffer.alloc(0), { msgId: 9 });
    expect([r.errno, r.payload.length, r.msgId]).toEqual([0, 0, 9]);
    expect(rig.nic.vfRead32(0, TXDCTL0) & XDCTL_ENABLE).toBe(0);
    expect(rig.nic.vfRead32(0, PSRTYPE)).toBe(0);
    expect(rig.nic.vfRead32(0, TDLEN0)).toBe(0);
    expect(await cfg(c, 0x04, 2)).toBe(0x0006);
    expect(await cfg(c, 0x10, 4)).toBe(0xfebf000c);
    expect(await bar3(c, 16 + 12)).toBe(0);
    expect(rig.devices[0]!.dmaWindows()).toHaveLength(1);
    expect(rig.devices[0]!.irqEventFds()[1]).not.toBeNull();
  });

  it('PCIe FLR through Device Control: the whole function to power-on, config space included', async () => {
    await cfg(c, DEVCTL, 2, (await cfg(c, DEVCTL, 2)) | 0x8000);
    expect((await cfg(c, DEVCTL, 2)) & 0x8000).toBe(0); // the initiate bit always reads 0
    expect(await cfg(c, 0x04, 2)).toBe(0);
    expect(await cfg(c, 0x10, 4)).toBe(0x0000000c);
    expect(rig.nic.vfRead32(0, PSRTYPE)).toBe(0);
    expect(rig.nic.vfRead32(0, TXDCTL0) & XDCTL_ENABLE).toBe(0);
    await enableMemory(c);
    expect(await bar3(c, 16 + 12)).toBe(1); // vectors masked again
    expect(rig.devices[0]!.dmaWindows()).toHaveLength(1); // DMA maps are the client's (IOMMU)
  });

  it('DEVICE_RESET with a payload: EINVAL, nothing reset', async () => {
    expect((await c.request(CMD.DEVICE_RESET, Buffer.alloc(4))).errno).toBe(EINVAL);
    expect(rig.nic.vfRead32(0, PSRTYPE)).toBe(0x1234);
  });

  it('NO_REPLY: the reset happens, no reply is sent, later replies still match', async () => {
    c.sendOnly(Buffer.concat([Buffer.from([0x77, 0, CMD.DEVICE_RESET, 0, 16, 0, 0, 0, F_NO_REPLY, 0, 0, 0, 0, 0, 0, 0])]));
    const r = await c.request(CMD.REGION_READ, regionAccessPayload(REGION.BAR0, BigInt(PSRTYPE), 4));
    expect(r.payload.readUInt32LE(16)).toBe(0);
    expect(c.stray).toEqual([]);
  });
});

describe('without FLR', () => {
  let rig: VfioRig;
  let c: TestClient;
  let memfd: number;
  let efd: number;
  beforeAll(async () => {
    rig = startRig(1, { flr: false });
    c = await TestClient.connect(rig.path(0));
    memfd = addon.memfdCreate('reset-dma', 0x10000n);
    efd = addon.eventfdCreate();
    await dirty(rig, c, memfd, efd);
  });
  afterAll(async () => {
    await c.close();
    await rig.close();
    addon.close(memfd);
    addon.close(efd);
  });

  it('FLR is not advertised and a Device Control FLR write does nothing', async () => {
    expect((await cfg(c, DEVCAP, 4)) & (1 << 28)).toBe(0);
    await cfg(c, DEVCTL, 2, (await cfg(c, DEVCTL, 2)) | 0x8000);
    expect(await cfg(c, 0x04, 2)).toBe(0x0006);
    expect(rig.nic.vfRead32(0, PSRTYPE)).toBe(0x1234);
  });

  it('DEVICE_RESET is the VF software reset: queues stop, other registers stay', async () => {
    expect((await c.request(CMD.DEVICE_RESET)).errno).toBe(0);
    expect(rig.nic.vfRead32(0, TXDCTL0) & XDCTL_ENABLE).toBe(0);
    expect(rig.nic.vfRead32(0, PSRTYPE)).toBe(0x1234);
    expect(rig.nic.vfRead32(0, TDLEN0)).toBe(0x80);
  });
});
