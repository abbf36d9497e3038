// The seam a mediate-ops layer will use: a DelegatingDevice wrapped around the emulated VF
// intercepts get_region_info (flip the sparse-mmap areas: trap pages 2-3), rw (see and
// delay doorbell writes), device features and release, possibly asynchronously, without
// any change to the protocol layer. Also REGION_WRITE_MULTI once negotiated.
import { constants } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DelegatingDevice, type MaybePromise, type RegionDesc, type DmaMapRequest } from '../../mediator/vfio/device.js';
import { VfioUserServer } from '../../mediator/vfio/server.js';
import { TestClient } from './helpers/client.js';
import { addon, enableMemory, openFdCount, startRig, until, type VfioRig } from './helpers/rig.js';
import { CMD, REGION, dmaMapPayload, le, parseRegionInfo, parseSparseAreas, regionAccessPayload, regionInfoPayload, versionPayload } from './helpers/wire.js';

const { ENOTTY } = constants.errno;
const TDT0 = 0x3818;

class TrappingDevice extends DelegatingDevice {
  trapped = false;
  doorbells: Array<{ offset: bigint; value: number }> = [];
  released = 0;
  delayWritesMs = 0;

  override regionInfo(index: number): RegionDesc {
    const r = super.regionInfo(index);
    if (index !== REGION.BAR0 || !this.trapped || !r.mmap) return r;
    return { ...r, mmap: { ...r.mmap, areas: [] } }; // nothing mappable: every access traps
  }

  override regionWrite(index: number, offset: bigint, data: Uint8Array): MaybePromise<void> {
    if (index === REGION.BAR0 && offset >= 0x2000n) this.doorbells.push({ offset, value: Buffer.from(data).readUIntLE(0, data.length) });
    if (!this.delayWritesMs) return super.regionWrite(index, offset, data);
    return new Promise((resolve, reject) =>
      setTimeout(() => {
        try {
          resolve(super.regionWrite(index, offset, data));
        } catch (e) {
          reject(e);
        }
      }, this.delayWritesMs),
    );
  }

  override dmaMap(req: DmaMapRequest): MaybePromise<void> {
    return new Promise<void>((r) => setTimeout(r, 5)).then(() => super.dmaMap(req)); // the fd must still be open
  }

  override feature(flags: number, data: Uint8Array): MaybePromise<Uint8Array | void> {
    if ((flags & 0xffff) !== 1) return super.feature(flags, data);
    return Uint8Array.of(0x7, 0, 0, 0, 0, 0, 0, 0); // VFIO_DEVICE_FEATURE_MIGRATION flags
  }

  override release(): MaybePromise<void> {
    this.released++;
    return super.release();
  }
}

let rig: VfioRig;
let dev: TrappingDevice;
let server: VfioUserServer;
let c: TestClient;
beforeAll(async () => {
  rig = startRig(1);
  await rig.servers[0]!.close(); // serve the wrapped device instead
  dev = new TrappingDevice(rig.devices[0]!);
  server = new VfioUserServer({ path: join(rig.dir, 'wrapped.sock'), device: dev }).listen();
  c = new TestClient(join(rig.dir, 'wrapped.sock'));
  expect((await c.request(CMD.VERSION, versionPayload(0, 2, '{"capabilities":{"write_multiple":true}}'))).errno).toBe(0);
  await enableMemory(c);
});
afterAll(async () => {
  await c.close();
  await server.close();
  await rig.close();
});

describe('mediation seam', () => {
  it('get_region_info: flipping the sparse areas to none makes pages 2-3 trap (fd still sent)', async () => {
    const before = parseRegionInfo((await c.request(CMD.DEVICE_GET_REGION_INFO, regionInfoPayload(REGION.BAR0, 256))).payload);
    expect(parseSparseAreas(before.caps[0]!.body)).toEqual([{ offset: 0x2000n, size: 0x2000n }]);
    dev.trapped = true;
    const r = await c.request(CMD.DEVICE_GET_REGION_INFO, regionInfoPayload(REGION.BAR0, 256));
    const after = parseRegionInfo(r.payload);
    expect(after.caps[0]!.id).toBe(1);
    expect(parseSparseAreas(after.caps[0]!.body)).toEqual([]);
    expect(r.fds).toHaveLength(1);
    dev.trapped = false;
  });

  it('rw: trapped doorbell writes reach the wrapper, which may complete them asynchronously', async () => {
    dev.delayWritesMs = 30;
    const slow = c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.BAR0, BigInt(TDT0), 4, le(0, 4)), { msgId: 501 });
    const fast = c.request(CMD.REGION_READ, regionAccessPayload(REGION.CONFIG, 0n, 4), { msgId: 502 });
    const order: number[] = [];
    await Promise.all([slow.then((r) => order.push(r.msgId)), fast.then((r) => order.push(r.msgId))]);
    expect(order).toEqual([502, 501]); // the pending write did not hold back the read
    expect((await slow).errno).toBe(0);
    expect(dev.doorbells.at(-1)).toEqual({ offset: BigInt(TDT0), value: 0 });
    dev.delayWritesMs = 0;
  });

  it('REGION_WRITE_MULTI (negotiated) applies each write in order through the same path', async () => {
    const entry = (off: number, v: number) => {
      const e = Buffer.alloc(24);
      e.writeBigUInt64LE(BigInt(off), 0);
      e.writeUInt32LE(REGION.BAR0, 8);
      e.writeUInt32LE(4, 12);
      e.writeUInt32LE(v, 16);
      return e;
    };
    const n = Buffer.alloc(8);
    n.writeBigUInt64LE(2n);
    const r = await c.request(CMD.REGION_WRITE_MULTI, Buffer.concat([n, entry(0x0f0c, 0x31), entry(0x3808, 0x80)]));
    expect(r.errno).toBe(0);
    expect(r.payload.readBigUInt64LE(0)).toBe(2n);
    expect(rig.nic.vfRead32(0, 0x0f0c)).toBe(0x31);
    expect(rig.nic.vfRead32(0, 0x3808)).toBe(0x80);
    n.writeBigUInt64LE(3n); // wr_cnt not matching the entries
    expect((await c.request(CMD.REGION_WRITE_MULTI, Buffer.concat([n, entry(0x0f0c, 1)]))).errno).toBe(22);
  });

  it('an asynchronous dmaMap still has the received fd open; it is closed once the command settles', async () => {
    const memfd = addon.memfdCreate('seam-dma', 0x4000n);
    const before = openFdCount();
    const r = await c.request(CMD.DMA_MAP, dmaMapPayload({ flags: 3, offset: 0n, addr: 0x5000_0000n, size: 0x4000n }), { fds: [memfd] });
    expect(r.errno).toBe(0);
    expect(openFdCount()).toBe(before + 1); // only the hardware model's dup remains
    addon.close(memfd);
  });

  it('device features: GET data appended to the reply, PROBE echoed, unknown feature ENOTTY', async () => {
    const get = Buffer.from([16, 0, 0, 0, 1, 0, 1, 0]); // argsz 16, MIGRATION | GET
    const r = await c.request(CMD.DEVICE_FEATURE, get);
    expect(r.errno).toBe(0);
    expect(r.payload.readUInt32LE(0)).toBe(16);
    expect(r.payload.readUInt32LE(4)).toBe(0x10001);
    expect(r.payload.readBigUInt64LE(8)).toBe(7n);
    const probe = Buffer.from([8, 0, 0, 0, 1, 0, 5, 0]); // MIGRATION | GET | PROBE
    expect((await c.request(CMD.DEVICE_FEATURE, probe)).payload).toEqual(probe);
    expect((await c.request(CMD.DEVICE_FEATURE, Buffer.from([8, 0, 0, 0, 6, 0, 2, 0]))).errno).toBe(ENOTTY);
  });

  it('release: the wrapper sees the client leave', async () => {
    await c.close();
    await until(() => server.attached === null, 'release');
    expect(dev.released).toBe(1);
    c = await TestClient.connect(join(rig.dir, 'wrapped.sock'));
  });
});
