// VFIO_USER_REGION_READ / REGION_WRITE: the PCI config space of 8086:10CA read and written
// like a generic client does (enumeration, capability walk, BAR sizing, command bits,
// read-only fields), BAR0 register access reaching the device, the MSI-X BAR, and the
// sparse-mmap contract: a store to page 0 reaches the server as a REGION_WRITE, a store to
// page 2 through the mmapped region fd lands in the BAR without any message.
import { constants } from 'node:os';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { messageChannel, type MessageEvent } from '../../mediator/vfio/dispatcher.js';
import { TestClient } from './helpers/client.js';
import { addon, enableMemory, startRig, until, type VfioRig } from './helpers/rig.js';
import { CMD, REGION, le, parseRegionInfo, regionAccessPayload, regionInfoPayload } from './helpers/wire.js';

const { EINVAL, EIO, EMSGSIZE } = constants.errno;

let rig: VfioRig;
let c: TestClient;

async function cfgRead(off: number, size: number): Promise<number> {
  const r = await c.request(CMD.REGION_READ, regionAccessPayload(REGION.CONFIG, BigInt(off), size));
  if (r.errno) throw new Error(`config read errno ${r.errno}`);
  return r.payload.readUIntLE(16, size);
}
async function cfgWrite(off: number, size: number, v: number): Promise<void> {
  const r = await c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.CONFIG, BigInt(off), size, le(v, size as 1 | 2 | 4)));
  if (r.errno) throw new Error(`config write errno ${r.errno}`);
}
async function barRead(region: number, off: number, size: 1 | 2 | 4 | 8): Promise<{ errno: number; value: bigint }> {
  const r = await c.request(CMD.REGION_READ, regionAccessPayload(region, BigInt(off), size));
  if (r.errno) return { errno: r.errno, value: 0n };
  const d = r.payload.subarray(16);
  return { errno: 0, value: size === 8 ? d.readBigUInt64LE(0) : BigInt(d.readUIntLE(0, size)) };
}

beforeAll(() => {
  rig = startRig(1);
});
afterAll(async () => {
  await rig.close();
});
beforeEach(async () => {
  await until(() => rig.servers[0]?.attached === null, 'a free device');
  c = await TestClient.connect(rig.path(0));
});
afterEach(async () => {
  await c.close();
});

describe('config space: what a generic PCI client enumerates', () => {
  it('reads the whole 4 KiB space in one access, like QEMU at realize', async () => {
    const r = await c.request(CMD.REGION_READ, regionAccessPayload(REGION.CONFIG, 0n, 4096));
    expect(r.errno).toBe(0);
    expect(r.payload.readBigUInt64LE(0)).toBe(0n); // offset echoed
    expect([r.payload.readUInt32LE(8), r.payload.readUInt32LE(12)]).toEqual([REGION.CONFIG, 4096]);
    const cfg = r.payload.subarray(16);
    expect(cfg.length).toBe(4096);
    expect(cfg.readUInt16LE(0)).toBe(0x8086);
    expect(cfg.readUInt16LE(2)).toBe(0x10ca);
    expect(cfg.readUInt16LE(4)).toBe(0); // command: nothing enabled at reset
    expect(cfg.readUInt16LE(6) & 0x10).toBe(0x10); // capability list
    expect(cfg[8]).toBe(0x01); // revision
    expect(cfg.readUIntLE(9, 3)).toBe(0x020000); // Ethernet controller
    expect(cfg[0x0e]).toBe(0x00); // header type 0
    expect(cfg.readUInt32LE(0x10)).toBe(0x0000000c); // BAR0 64-bit prefetchable, unassigned
    expect(cfg.readUInt32LE(0x1c)).toBe(0x0000000c); // BAR3 64-bit prefetchable
    expect([cfg.readUInt32LE(0x18), cfg.readUInt32LE(0x24), cfg.readUInt32LE(0x30)]).toEqual([0, 0, 0]);
    expect(cfg.readUInt16LE(0x2c)).toBe(0x8086); // subsystem vendor
    expect(cfg[0x3d]).toBe(0); // no INTx pin
    expect(cfg.readUInt32LE(0x100)).toBe(0); // no extended capabilities
  });

  it('capability list: MSI-X (3 vectors, table BAR3+0, PBA BAR3+0x2000) then PCIe v2 endpoint with FLR', async () => {
    const caps: Array<[number, number]> = [];
    for (let p = await cfgRead(0x34, 1); p !== 0; p = await cfgRead(p + 1, 1)) {
      caps.push([await cfgRead(p, 1), p]);
      if (caps.length > 16) throw new Error('capability loop');
    }
    expect(caps).toEqual([[0x11, 0x70], [0x10, 0xa0]]);
    expect((await cfgRead(0x72, 2)) & 0x7ff).toBe(2); // table size N-1
    expect(await cfgRead(0x74, 4)).toBe(0x00000003);
    expect(await cfgRead(0x78, 4)).toBe(0x00002003);
    expect((await cfgRead(0xa2, 2)) & 0xff).toBe(0x02); // version 2, type 0 endpoint
    expect((await cfgRead(0xa4, 4)) & (1 << 28)).toBe(1 << 28); // FLR capable
  });

  it('BAR sizing: all-ones reads back the 16 KiB size mask; unimplemented BARs and the ROM stay 0', async () => {
    for (const [off, expected] of [[0x10, 0xffffc00c], [0x14, 0xffffffff], [0x1c, 0xffffc00c], [0x20, 0xffffffff], [0x18, 0], [0x24, 0], [0x30, 0]] as const) {
      const old = await cfgRead(off, 4);
      await cfgWrite(off, 4, 0xffffffff);
      expect(await cfgRead(off, 4)).toBe(expected);
      await cfgWrite(off, 4, old);
    }
    await cfgWrite(0x10, 4, 0xfebf0000);
    expect(await cfgRead(0x10, 4)).toBe(0xfebf000c); // type bits are read-only
  });

  it('read-only fields ignore writes; the command register keeps only its writable bits', async () => {
    await cfgWrite(0x00, 4, 0x12345678);
    expect(await cfgRead(0x00, 4)).toBe(0x10ca8086);
    await cfgWrite(0x08, 4, 0xffffffff);
    expect(await cfgRead(0x08, 4)).toBe(0x02000001);
    await cfgWrite(0x04, 2, 0xffff);
    expect(await cfgRead(0x04, 2)).toBe(0x0546); // MEM, BME, PERR, SERR, INTx disable
    await cfgWrite(0x3c, 1, 0x0b);
    expect(await cfgRead(0x3c, 1)).toBe(0x0b); // interrupt line is a scratch register
    await cfgWrite(0x3d, 1, 0x01);
    expect(await cfgRead(0x3d, 1)).toBe(0); // interrupt pin is not
    await cfgWrite(0x04, 2, 0);
  });

  it('status error bits are RW1C; writing 0 keeps them, the capability bit is read-only', async () => {
    await cfgWrite(0x06, 2, 0xffff);
    expect(await cfgRead(0x06, 2)).toBe(0x0010);
  });

  it('MSI-X enable and function mask are writable; the table size is not', async () => {
    await cfgWrite(0x72, 2, 0xffff);
    expect(await cfgRead(0x72, 2)).toBe(0xc002);
    await cfgWrite(0x72, 2, 0);
    expect(await cfgRead(0x72, 2)).toBe(0x0002);
  });

  it('config space accesses outside 4 KiB are EINVAL', async () => {
    for (const [off, n] of [[4096n, 1], [4095n, 2], [0n, 4097]] as const) {
      expect((await c.request(CMD.REGION_READ, regionAccessPayload(REGION.CONFIG, off, n))).errno).toBe(EINVAL);
    }
  });
});

describe('BAR0 through REGION_READ/WRITE', () => {
  const PSRTYPE = 0x0f0c;
  it('is refused with EIO while memory space is disabled (as vfio-pci)', async () => {
    await cfgWrite(0x04, 2, 0);
    expect((await barRead(REGION.BAR0, 0x0008, 4)).errno).toBe(EIO);
    const w = await c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.BAR0, BigInt(PSRTYPE), 4, le(1, 4)));
    expect(w.errno).toBe(EIO);
  });

  it('reaches the device: a written register is seen by the hardware model and read back', async () => {
    await enableMemory(c);
    const w = await c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.BAR0, BigInt(PSRTYPE), 4, le(0xa5a50001, 4)), { msgId: 4242 });
    expect(w.errno).toBe(0);
    expect(w.payload.length).toBe(16); // offset, region, count; no data
    expect([w.payload.readBigUInt64LE(0), w.payload.readUInt32LE(8), w.payload.readUInt32LE(12)]).toEqual([BigInt(PSRTYPE), 0, 4]);
    expect(rig.nic.vfRead32(0, PSRTYPE)).toBe(0xa5a50001);
    rig.nic.vfWrite32(0, PSRTYPE, 0x5a5a0002);
    expect((await barRead(REGION.BAR0, PSRTYPE, 4)).value & 0xffffffffn).toBe(0x5a5a0002n);
    const narrow = await c.request(CMD.REGION_READ, regionAccessPayload(REGION.BAR0, BigInt(PSRTYPE + 2), 2));
    expect(narrow.payload.readUInt16LE(16)).toBe(0x5a5a);
  });

  it.each([
    ['unaligned 4-byte access', 0x0f0e, 4],
    ['3-byte access', 0x0f0c, 3],
    ['16-byte access', 0x0f00, 16],
    ['past the end of the BAR', 0x3ffc, 8],
    ['offset beyond the BAR', 0x4000, 4],
  ])('%s: EINVAL', async (_w, off, n) => {
    await enableMemory(c);
    expect((await c.request(CMD.REGION_READ, regionAccessPayload(REGION.BAR0, BigInt(off), n))).errno).toBe(EINVAL);
    const data = Buffer.alloc(n);
    expect((await c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.BAR0, BigInt(off), n, data))).errno).toBe(EINVAL);
  });

  it('unimplemented region, REGION_WRITE count/data mismatch, REGION_READ with data: EINVAL', async () => {
    await enableMemory(c);
    expect((await c.request(CMD.REGION_READ, regionAccessPayload(REGION.BAR1, 0n, 4))).errno).toBe(EINVAL);
    expect((await c.request(CMD.REGION_READ, regionAccessPayload(9, 0n, 4))).errno).toBe(EINVAL);
    expect((await c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.BAR0, 0xf0cn, 4, Buffer.alloc(2)))).errno).toBe(EINVAL);
    expect((await c.request(CMD.REGION_READ, regionAccessPayload(REGION.BAR0, 0xf0cn, 4, Buffer.alloc(4)))).errno).toBe(EINVAL);
  });

  it('a count above max_data_xfer_size is EMSGSIZE; a zero-byte access succeeds without data', async () => {
    expect((await c.request(CMD.REGION_READ, regionAccessPayload(REGION.CONFIG, 0n, (1 << 20) + 1))).errno).toBe(EMSGSIZE);
    const z = await c.request(CMD.REGION_READ, regionAccessPayload(REGION.BAR0, 0n, 0));
    expect(z.errno).toBe(0);
    expect(z.payload.length).toBe(16);
  });
});

describe('BAR3: the MSI-X table and PBA', () => {
  it('vectors start masked; address/data/control read back; the PBA is read-only', async () => {
    await enableMemory(c);
    for (let v = 0; v < 3; v++) expect((await barRead(REGION.BAR3, v * 16 + 12, 4)).value & 0xffffffffn).toBe(1n);
    await c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.BAR3, 16n, 8, le(0x00000000fee00003n, 8)));
    await c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.BAR3, 24n, 8, le(0xffffffff00004041n, 8)));
    expect((await barRead(REGION.BAR3, 16, 8)).value).toBe(0xfee00000n); // address bits 1:0 are 0
    expect((await barRead(REGION.BAR3, 24, 8)).value).toBe(0x0000000100004041n); // control: mask bit only
    await c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.BAR3, 0x2000n, 8, le(0xffn, 8)));
    expect((await barRead(REGION.BAR3, 0x2000, 8)).value).toBe(0n);
  });

  it('non DWORD/QWORD accesses are EINVAL', async () => {
    await enableMemory(c);
    expect((await c.request(CMD.REGION_READ, regionAccessPayload(REGION.BAR3, 2n, 2))).errno).toBe(EINVAL);
    expect((await c.request(CMD.REGION_READ, regionAccessPayload(REGION.BAR3, 4n, 8))).errno).toBe(EINVAL);
  });
});

describe('sparse mmap: pages 2-3 are passthrough, pages 0-1 trap', () => {
  it('a store through the mmapped area lands in the BAR with no message; a page-0 store is a REGION_WRITE', async () => {
    const seen: MessageEvent[] = [];
    const onMsg = (m: unknown) => seen.push(m as MessageEvent);
    messageChannel.subscribe(onMsg);
    try {
      await enableMemory(c);
      const r = await c.request(CMD.DEVICE_GET_REGION_INFO, regionInfoPayload(REGION.BAR0, 256));
      const info = parseRegionInfo(r.payload);
      const fd = r.fds[0]!;
      const area = { offset: info.caps[0]!.body.readBigUInt64LE(8), size: info.caps[0]!.body.readBigUInt64LE(16) };
      expect(area).toEqual({ offset: 0x2000n, size: 0x2000n });
      // Map exactly the advertised area, as a VMM does (offset = region offset + area offset).
      const map = addon.mmapShared(fd, Number(area.size), info.offset + area.offset);
      const regs = new DataView(map);
      const before = seen.length;

      const RDBAL0 = 0x2800, TDBAL0 = 0x3800;
      regs.setUint32(RDBAL0 - 0x2000, 0x12345000, true); // page 2, plain store
      regs.setUint32(TDBAL0 - 0x2000, 0x6789a000, true); // page 3, plain store
      expect(rig.nic.vfRead32(0, RDBAL0)).toBe(0x12345000);
      expect(rig.nic.vfRead32(0, TDBAL0)).toBe(0x6789a000);
      expect(seen.length).toBe(before); // the server saw nothing

      const PSRTYPE = 0x0f0c; // page 0 is not in the area: a VMM traps and forwards
      const w = await c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.BAR0, BigInt(PSRTYPE), 4, le(0x77, 4)));
      expect(w.errno).toBe(0);
      expect(seen.slice(before).map((m) => [m.command, m.errno])).toEqual([[CMD.REGION_WRITE, 0]]);
      expect(rig.nic.vfRead32(0, PSRTYPE)).toBe(0x77);

      // And the trapped path agrees with the mapped one for the queue pages.
      expect((await barRead(REGION.BAR0, RDBAL0, 4)).value & 0xffffffffn).toBe(0x12345000n);
      addon.munmap(map);
    } finally {
      messageChannel.unsubscribe(onMsg);
    }
  });
});
