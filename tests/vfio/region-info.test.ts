// VFIO_USER_DEVICE_GET_INFO and VFIO_USER_DEVICE_GET_REGION_INFO: the device and region
// table a generic VFIO client sees, the sparse-mmap capability of BAR0 (exactly pages 2-3)
// and the region fd that comes with it.
import { fstatSync, readlinkSync } from 'node:fs';
import { constants } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, expectReplyShape } from './helpers/client.js';
import { startRig, type VfioRig } from './helpers/rig.js';
import { CMD, REGION, fourU32, parseRegionInfo, parseSparseAreas, regionInfoPayload } from './helpers/wire.js';

const { EINVAL } = constants.errno;
// linux/vfio.h
const FLAG_READ = 1, FLAG_WRITE = 2, FLAG_MMAP = 4, FLAG_CAPS = 8;
const CAP_SPARSE_MMAP = 1;

let rig: VfioRig;
let c: TestClient;
beforeAll(async () => {
  rig = startRig(1);
  c = await TestClient.connect(rig.path(0));
});
afterAll(async () => {
  await c.close();
  await rig.close();
});

describe('VFIO_USER_DEVICE_GET_INFO', () => {
  it('a PCI device with reset, 9 regions and 5 IRQ indexes; argsz 16', async () => {
    const r = await c.request(CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0), { msgId: 77 });
    expectReplyShape(r, CMD.DEVICE_GET_INFO, 77);
    expect(r.payload.length).toBe(16);
    expect([r.payload.readUInt32LE(0), r.payload.readUInt32LE(4), r.payload.readUInt32LE(8), r.payload.readUInt32LE(12)]).toEqual([16, 0x3, 9, 5]);
  });

  it('argsz larger than needed is fine (it is a maximum)', async () => {
    const r = await c.request(CMD.DEVICE_GET_INFO, fourU32(24, 0, 0, 0));
    expect(r.errno).toBe(0);
    expect(r.payload.readUInt32LE(0)).toBe(16);
  });

  it.each([
    ['argsz below the struct', fourU32(15, 0, 0, 0)],
    ['payload too short', Buffer.alloc(12)],
    ['payload too long', Buffer.alloc(20, 0x10)],
  ])('%s: EINVAL', async (_w, p) => {
    expect((await c.request(CMD.DEVICE_GET_INFO, p)).errno).toBe(EINVAL);
  });
});

describe('VFIO_USER_DEVICE_GET_REGION_INFO', () => {
  it('BAR0: 16 KiB, rw + mmap + caps, sparse mmap = pages 2-3 only, with the BAR fd', async () => {
    const r = await c.request(CMD.DEVICE_GET_REGION_INFO, regionInfoPayload(REGION.BAR0, 256));
    expect(r.errno).toBe(0);
    const info = parseRegionInfo(r.payload);
    expect(info.argsz).toBe(32 + 8 + 8 + 16); // struct + cap header + nr_areas/reserved + one area
    expect(r.payload.length).toBe(info.argsz);
    expect(info.flags).toBe(FLAG_READ | FLAG_WRITE | FLAG_MMAP | FLAG_CAPS);
    expect([info.index, info.size, info.offset, info.capOffset]).toEqual([0, 0x4000n, 0n, 32]);
    expect(info.caps).toHaveLength(1);
    const cap = info.caps[0]!;
    expect([cap.id, cap.version, cap.next]).toEqual([CAP_SPARSE_MMAP, 1, 0]);
    expect(cap.body.readUInt32LE(4)).toBe(0); // reserved
    expect(parseSparseAreas(cap.body)).toEqual([{ offset: 0x2000n, size: 0x2000n }]);

    expect(r.fds).toHaveLength(1);
    const st = fstatSync(r.fds[0]!);
    expect(st.isFile()).toBe(true);
    expect(st.size).toBeGreaterThanOrEqual(0x4000);
    expect(readlinkSync(`/proc/self/fd/${r.fds[0]}`)).toMatch(/^\/memfd:/);
  });

  it('argsz too small for the capability chain: bare struct, argsz = size needed, no fd', async () => {
    const r = await c.request(CMD.DEVICE_GET_REGION_INFO, regionInfoPayload(REGION.BAR0, 32));
    expect(r.errno).toBe(0);
    expect(r.payload.length).toBe(32);
    const info = parseRegionInfo(r.payload);
    expect(info.argsz).toBe(64);
    expect(info.flags & FLAG_CAPS).toBe(FLAG_CAPS); // as vfio-pci: caps exist, retry bigger
    expect(info.capOffset).toBe(0);
    expect(r.fds).toEqual([]);
  });

  it('BAR3 (MSI-X): 16 KiB rw, trapped (no mmap, no fd)', async () => {
    const r = await c.request(CMD.DEVICE_GET_REGION_INFO, regionInfoPayload(REGION.BAR3, 256));
    const info = parseRegionInfo(r.payload);
    expect([info.flags, info.size, info.argsz, info.capOffset]).toEqual([FLAG_READ | FLAG_WRITE, 0x4000n, 32, 0]);
    expect(r.fds).toEqual([]);
  });

  it('config space: 4 KiB (PCIe extended) rw, no mmap', async () => {
    const info = parseRegionInfo((await c.request(CMD.DEVICE_GET_REGION_INFO, regionInfoPayload(REGION.CONFIG, 256))).payload);
    expect([info.index, info.flags, info.size]).toEqual([7, FLAG_READ | FLAG_WRITE, 0x1000n]);
  });

  it.each([REGION.BAR1, REGION.BAR2, REGION.BAR4, REGION.BAR5, REGION.ROM, REGION.VGA])(
    'region %i is unimplemented: size 0, no flags',
    async (index) => {
      const r = await c.request(CMD.DEVICE_GET_REGION_INFO, regionInfoPayload(index));
      const info = parseRegionInfo(r.payload);
      expect([info.index, info.size, info.flags, info.argsz]).toEqual([index, 0n, 0, 32]);
      expect(r.fds).toEqual([]);
    },
  );

  it.each([
    ['index past the last region', regionInfoPayload(9, 256)],
    ['index 0xffffffff', regionInfoPayload(0xffffffff, 256)],
    ['argsz below the struct', regionInfoPayload(REGION.BAR0, 31)],
    ['payload short', Buffer.alloc(16)],
    ['payload long', Buffer.concat([regionInfoPayload(REGION.BAR0, 256), Buffer.alloc(8)])],
  ])('%s: EINVAL', async (_w, p) => {
    const r = await c.request(CMD.DEVICE_GET_REGION_INFO, p);
    expect(r.errno).toBe(EINVAL);
    expect(r.fds).toEqual([]);
  });
});

describe('VFIO_USER_DEVICE_GET_IRQ_INFO', () => {
  // linux/vfio.h VFIO_IRQ_INFO_*
  const EVENTFD = 1, MASKABLE = 2, AUTOMASKED = 4, NORESIZE = 8;
  it.each([
    [0, 'INTx', EVENTFD | MASKABLE | AUTOMASKED, 0],
    [1, 'MSI', EVENTFD | NORESIZE, 0],
    [2, 'MSI-X', EVENTFD, 3],
    [3, 'ERR', EVENTFD | NORESIZE, 0],
    [4, 'REQ', EVENTFD | NORESIZE, 0],
  ])('index %i (%s): flags %i, count %i', async (index, _n, flags, count) => {
    const r = await c.request(CMD.DEVICE_GET_IRQ_INFO, fourU32(16, 0, index, 0));
    expect(r.errno).toBe(0);
    expect([r.payload.readUInt32LE(0), r.payload.readUInt32LE(4), r.payload.readUInt32LE(8), r.payload.readUInt32LE(12)]).toEqual([16, flags, index, count]);
  });

  it.each([
    ['index 5', fourU32(16, 0, 5, 0)],
    ['argsz 8', fourU32(8, 0, 2, 0)],
    ['payload 4 bytes', Buffer.alloc(4)],
  ])('%s: EINVAL', async (_w, p) => {
    expect((await c.request(CMD.DEVICE_GET_IRQ_INFO, p)).errno).toBe(EINVAL);
  });
});
