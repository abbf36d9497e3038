// VFIO_USER_DMA_MAP / DMA_UNMAP with the client's memfd passed by SCM_RIGHTS: the window
// really backs device DMA (a TX frame is read from client memory), unmap really removes
// it, and every bad request is refused with its errno.
import { closeSync, openSync } from 'node:fs';
import { constants } from 'node:os';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TestClient } from './helpers/client.js';
import { addon, openFdCount, startRig, until, type VfioRig } from './helpers/rig.js';
import { programTx, postTx, testFrame, txDone, txQueueError, vfResetHandshake } from './helpers/vf-tx.js';
import { CMD, dmaMapPayload, dmaUnmapPayload, versionPayload } from './helpers/wire.js';

const { EBADF, EEXIST, EINVAL, ENOENT, ENOSPC, ENOTSUP, EACCES } = constants.errno;
const R = 1, W = 2;
const IOVA = 0x1000_0000n;
const MEM = 64 * 1024;

let rig: VfioRig;
let c: TestClient;
let memfd: number;

function map(addr: bigint, size: bigint, opts: { flags?: number; offset?: bigint; fds?: number[]; argsz?: number } = {}) {
  return c.request(CMD.DMA_MAP, dmaMapPayload({ argsz: opts.argsz, flags: opts.flags ?? R | W, offset: opts.offset ?? 0n, addr, size }), {
    fds: opts.fds ?? [memfd],
  });
}
function unmap(addr: bigint, size: bigint, flags = 0, argsz?: number) {
  return c.request(CMD.DMA_UNMAP, dmaUnmapPayload({ addr, size, flags, argsz }));
}

beforeAll(() => {
  rig = startRig(1, { maxDmaMaps: 8 });
  vfResetHandshake(rig.nic, rig.pf, 0);
});
afterAll(async () => {
  await rig.close();
});
beforeEach(async () => {
  await until(() => rig.servers[0]?.attached === null, 'a free device');
  c = await TestClient.connect(rig.path(0));
  memfd = addon.memfdCreate('vfio-dma-test', BigInt(MEM));
});
afterEach(async () => {
  await c.close();
  addon.close(memfd);
});

describe('DMA_MAP', () => {
  it('maps the client memfd: the device transmits a frame it reads from client memory', async () => {
    const r = await map(IOVA, BigInt(MEM), { flags: R | W });
    expect(r.errno).toBe(0);
    expect(r.payload.length).toBe(0);
    expect(rig.devices[0]!.dmaWindows()).toEqual([{ iova: IOVA, size: BigInt(MEM), prot: R | W }]);

    const mem = new DataView(addon.mmapShared(memfd, MEM, 0n));
    const frame = testFrame(rig.nic.vfInfo(0).mac, 1);
    new Uint8Array(mem.buffer).set(frame, 0x1000);
    programTx(rig.nic, 0, mem, 0, IOVA);
    postTx(rig.nic, 0, mem, 0, 0, IOVA + 0x1000n, frame.length);
    let out: Buffer | null = null;
    await until(() => (out ??= rig.nic.uplinkTake()) !== null, 'the frame on the uplink');
    expect(out!.subarray(0, 60)).toEqual(frame);
    await until(() => txDone(mem, 0, 0), 'DD written back into client memory');
    expect(txQueueError(rig.nic, 0)).toBe(0);
    addon.munmap(mem.buffer);
  });

  it('the server closes its copy of the fd (the hardware keeps its own duplicate)', async () => {
    await map(IOVA, 0x4000n); // warm-up: first-use allocations
    const before = openFdCount();
    expect((await map(IOVA + 0x10000n, 0x4000n)).errno).toBe(0);
    expect(openFdCount()).toBe(before + 1); // +1: the hardware model's dup, not ours
    expect((await unmap(IOVA + 0x10000n, 0x4000n)).errno).toBe(0);
    expect(openFdCount()).toBe(before);
  });

  it.each([
    ['the same window', IOVA, 0x4000n, EEXIST],
    ['a window overlapping its start', IOVA - 0x1000n, 0x2000n, EEXIST],
    ['a window inside it', IOVA + 0x1000n, 0x1000n, EEXIST],
  ])('a second map of %s: %s', async (_w, addr, size, errno) => {
    expect((await map(IOVA, 0x4000n)).errno).toBe(0);
    expect((await map(addr, size)).errno).toBe(errno);
    expect((await map(IOVA + 0x4000n, 0x1000n, { offset: 0x4000n })).errno).toBe(0); // adjacent is fine
  });

  it.each([
    ['size 0', { addr: IOVA, size: 0n }, EINVAL],
    ['unaligned address', { addr: IOVA + 0x10n, size: 0x1000n }, EINVAL],
    ['unaligned size', { addr: IOVA, size: 0x1800n }, EINVAL],
    ['unaligned file offset', { addr: IOVA, size: 0x1000n, offset: 0x200n }, EINVAL],
    ['wrap past 2^64', { addr: 0xffff_ffff_ffff_f000n, size: 0x2000n }, EINVAL],
    ['window past the end of the file', { addr: IOVA, size: BigInt(MEM) + 0x1000n }, EINVAL],
    ['offset past the end of the file', { addr: IOVA, size: 0x1000n, offset: BigInt(MEM) }, EINVAL],
    ['neither readable nor writable', { addr: IOVA, size: 0x1000n, flags: 0 }, EINVAL],
    ['unknown flag bit', { addr: IOVA, size: 0x1000n, flags: R | 0x100 }, EINVAL],
    ['FILE_IO access mode', { addr: IOVA, size: 0x1000n, flags: R | 0x8 }, ENOTSUP],
    ['argsz below the struct', { addr: IOVA, size: 0x1000n, argsz: 24 }, EINVAL],
  ])('%s: errno %s', async (_w, m: { addr: bigint; size: bigint; offset?: bigint; flags?: number; argsz?: number }, errno) => {
    const before = openFdCount();
    expect((await map(m.addr, m.size, m)).errno).toBe(errno);
    expect(rig.devices[0]!.dmaWindows()).toEqual([]);
    expect(openFdCount()).toBe(before); // the passed fd was closed by the server
  });

  it('the MMAP access-mode bit (libvfio-user) is accepted', async () => {
    expect((await map(IOVA, 0x1000n, { flags: R | W | 0x4 })).errno).toBe(0);
  });

  it('no fd: ENOTSUP (message-based DMA is not offered); two fds: EINVAL', async () => {
    expect((await map(IOVA, 0x1000n, { fds: [] })).errno).toBe(ENOTSUP);
    const other = addon.memfdCreate('second', 0x1000n);
    expect((await map(IOVA, 0x1000n, { fds: [memfd, other] })).errno).toBe(EINVAL);
    addon.close(other);
  });

  it('an fd that is not a mappable file (eventfd): EBADF', async () => {
    const efd = addon.eventfdCreate();
    expect((await map(IOVA, 0x1000n, { fds: [efd] })).errno).toBe(EBADF);
    addon.close(efd);
  });

  it('a read-only fd maps read-only and refuses a writable window (EACCES)', async () => {
    const ro = openSync(`/proc/self/fd/${memfd}`, 'r');
    expect((await map(IOVA, 0x1000n, { flags: R | W, fds: [ro] })).errno).toBe(EACCES);
    expect((await map(IOVA, 0x1000n, { flags: R, fds: [ro] })).errno).toBe(0);
    closeSync(ro);
  });

  it('a payload that is not exactly 32 bytes: EINVAL', async () => {
    const p = dmaMapPayload({ flags: R, offset: 0n, addr: IOVA, size: 0x1000n });
    expect((await c.request(CMD.DMA_MAP, p.subarray(0, 24), { fds: [memfd] })).errno).toBe(EINVAL);
    expect((await c.request(CMD.DMA_MAP, Buffer.concat([p, Buffer.alloc(8)]), { fds: [memfd] })).errno).toBe(EINVAL);
  });

  it('more windows than max_dma_maps (advertised in VERSION): ENOSPC', async () => {
    await c.close();
    await until(() => rig.servers[0]?.attached === null, 'a free device');
    c = new TestClient(rig.path(0));
    const v = await c.request(CMD.VERSION, versionPayload(0, 2, '{}'));
    const caps = JSON.parse(v.payload.subarray(4, v.payload.length - 1).toString()) as { capabilities: { max_dma_maps: number } };
    expect(caps.capabilities.max_dma_maps).toBe(8);
    for (let i = 0n; i < 8n; i++) expect((await map(IOVA + i * 0x1000n, 0x1000n, { offset: i * 0x1000n })).errno).toBe(0);
    expect((await map(IOVA + 8n * 0x1000n, 0x1000n)).errno).toBe(ENOSPC);
  });
});

describe('DMA_UNMAP', () => {
  it('unmaps exactly a window and echoes the request; device DMA into it then faults the queue', async () => {
    expect((await map(IOVA, BigInt(MEM))).errno).toBe(0);
    const req = dmaUnmapPayload({ addr: IOVA, size: BigInt(MEM) });
    const r = await c.request(CMD.DMA_UNMAP, req);
    expect(r.errno).toBe(0);
    expect(r.payload).toEqual(req);
    expect(rig.devices[0]!.dmaWindows()).toEqual([]);

    const mem = new DataView(addon.mmapShared(memfd, MEM, 0n));
    programTx(rig.nic, 0, mem, 0, IOVA);
    postTx(rig.nic, 0, mem, 0, 0, IOVA + 0x1000n, 60);
    await until(() => txQueueError(rig.nic, 0) !== 0, 'the TX queue to fault');
    expect(rig.nic.uplinkTake()).toBeNull();
    addon.munmap(mem.buffer);
  });

  it.each([
    ['a range nothing maps', IOVA + 0x100000n, 0x1000n, 0, ENOENT],
    ['part of a window', IOVA, 0x1000n, 0, ENOENT],
    ['more than a window', IOVA, 0x8000n, 0, ENOENT],
    ['size 0', IOVA, 0n, 0, EINVAL],
    ['FLAG_ALL with an address', IOVA, 0n, 2, EINVAL],
    ['GET_DIRTY_BITMAP', IOVA, 0x4000n, 1, ENOTSUP],
    ['VADDR (not a vfio-user flag)', IOVA, 0x4000n, 4, EINVAL],
  ])('%s: errno %s, the window stays', async (_w, addr, size, flags, errno) => {
    expect((await map(IOVA, 0x4000n)).errno).toBe(0);
    expect((await unmap(addr, size, flags)).errno).toBe(errno);
    expect(rig.devices[0]!.dmaWindows()).toHaveLength(1);
  });

  it('argsz below the struct and a short payload: EINVAL', async () => {
    expect((await unmap(IOVA, 0x1000n, 0, 16)).errno).toBe(EINVAL);
    expect((await c.request(CMD.DMA_UNMAP, dmaUnmapPayload({ addr: IOVA, size: 0x1000n }).subarray(0, 20))).errno).toBe(EINVAL);
  });

  it('FLAG_ALL with addr = size = 0 removes every window', async () => {
    expect((await map(IOVA, 0x4000n)).errno).toBe(0);
    expect((await map(IOVA + 0x8000n, 0x4000n, { offset: 0x8000n })).errno).toBe(0);
    expect((await unmap(0n, 0n, 2)).errno).toBe(0);
    expect(rig.devices[0]!.dmaWindows()).toEqual([]);
    expect((await map(IOVA, 0x4000n)).errno).toBe(0); // the hardware model agrees: no EEXIST
  });
});
