// The trap handshake on the wire: entering a saving state or starting tail-trap DMA logging
// withdraws BAR0 pages 2-3 from the sparse-mmap areas and signals the layout eventfd (IRQ
// index 5); DMA_LOGGING_START replies only once the client has re-queried the layout and
// written the generation it applied into the trap-BAR info region.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../vfio/helpers/client.js';
import { enableMemory, until } from '../vfio/helpers/rig.js';
import { CMD, REGION, fourU32, le, parseRegionInfo, regionAccessPayload, regionInfoPayload, irqSetPayload, IRQ_SET } from '../vfio/helpers/wire.js';
import { addon, DaemonRig } from './helpers/daemon-rig.js';
import {
  FEAT, FEATURE, LAYOUT_IRQ, MIG_REGION, ST, TI, TRAP_REGION, applyLayout, attachLayoutIrq, bar0Areas, feature,
  loggingStart, setState, trapInfo, waitEventfd,
} from './helpers/mediate-wire.js';

const EINVAL = 22, ETIMEDOUT = 110, EOPNOTSUPP = 95;
const QUEUE_PAGES = [{ offset: 0x2000n, size: 0x2000n }];
const RAM = 0x1000_0000n;

let rig: DaemonRig;
let ram: number;
beforeAll(() => {
  rig = new DaemonRig('trap', { vfs: 1, ackTimeoutMs: 1000 });
  ram = addon.memfdCreate('trap-ram', 1n << 20n);
});
afterAll(async () => {
  await rig.close();
  addon.close(ram);
});

async function connect(): Promise<TestClient> {
  await until(() => rig.servers[0]!.attached === null, 'the previous client released');
  const c = await TestClient.connect(rig.path(0));
  await enableMemory(c);
  const r = await c.request(CMD.DMA_MAP, Buffer.from(
    [32, 0, 0, 0, 3, 0, 0, 0, ...Buffer.alloc(8), ...le(RAM, 8), ...le(1n << 20n, 8)]), { fds: [ram] });
  if (r.errno) throw new Error(`DMA_MAP errno ${r.errno}`);
  return c;
}

const start = (c: TestClient) => c.request(CMD.DEVICE_FEATURE, feature(FEAT.SET | FEATURE.DMA_LOGGING_START, loggingStart(4096n, [[RAM, 1n << 20n]])));
const stop = (c: TestClient) => c.request(CMD.DEVICE_FEATURE, feature(FEAT.SET | FEATURE.DMA_LOGGING_STOP));

describe('VF mediate driver: regions and IRQ it adds', () => {
  it('device info, the migration and trap-BAR info regions with their type capabilities, IRQ 5', async () => {
    const c = await connect();
    try {
      const info = await c.request(CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0));
      expect([info.payload.readUInt32LE(8), info.payload.readUInt32LE(12)]).toEqual([11, 6]);
      const mig = parseRegionInfo((await c.request(CMD.DEVICE_GET_REGION_INFO, regionInfoPayload(MIG_REGION, 256))).payload);
      expect(mig).toMatchObject({ index: 9, flags: 0x3 | 0x8, size: 0x11000n });
      expect(mig.caps.map((x) => [x.id, x.version, x.body.readUInt32LE(0), x.body.readUInt32LE(4)])).toEqual([[2, 1, 3, 1]]);
      const ti = parseRegionInfo((await c.request(CMD.DEVICE_GET_REGION_INFO, regionInfoPayload(TRAP_REGION, 256))).payload);
      expect(ti).toMatchObject({ index: 10, flags: 0x3 | 0x8, size: 0x20n });
      expect(ti.caps.map((x) => [x.id, x.body.readUInt32LE(0), x.body.readUInt32LE(4)])).toEqual([[2, 0x80008086, 0x7601]]);
      expect((await c.request(CMD.DEVICE_GET_REGION_INFO, regionInfoPayload(11, 256))).errno).toBe(EINVAL);
      const irq = await c.request(CMD.DEVICE_GET_IRQ_INFO, fourU32(16, 0, LAYOUT_IRQ, 0));
      expect([irq.payload.readUInt32LE(4), irq.payload.readUInt32LE(12)]).toEqual([0x1 | 0x8, 1]);
      expect(await trapInfo(c, TI.VERSION)).toBe(1);
      // Info region: dword accesses only, applied is the only writable field.
      expect((await c.request(CMD.REGION_READ, regionAccessPayload(TRAP_REGION, 2n, 4))).errno).toBe(EINVAL);
      expect((await c.request(CMD.REGION_WRITE, regionAccessPayload(TRAP_REGION, 4n, 4, le(9, 4)))).errno).toBe(EINVAL);
      const g = await trapInfo(c, TI.GENERATION);
      expect((await c.request(CMD.REGION_WRITE, regionAccessPayload(TRAP_REGION, 12n, 4, le(g + 1, 4)))).errno).toBe(EINVAL);
      // IRQ 5 cannot be masked.
      expect((await c.request(CMD.DEVICE_SET_IRQS, irqSetPayload({ flags: IRQ_SET.DATA_NONE | IRQ_SET.ACTION_MASK, index: 5, start: 0, count: 1 }))).errno).toBe(EINVAL);
    } finally {
      await c.close();
    }
  });
});

describe('trap handshake', () => {
  it('DMA_LOGGING_START waits for the acknowledgement of the trapped layout', async () => {
    const c = await connect();
    try {
      expect(await bar0Areas(c)).toEqual(QUEUE_PAGES); // offered: the client may have mapped them
      const efd = await attachLayoutIrq(c);
      const g0 = await trapInfo(c, TI.GENERATION);
      let replied = false;
      const pending = start(c).then((r) => { replied = true; return r; });
      expect(await waitEventfd(efd)).toBe(1n);
      await new Promise((r) => setTimeout(r, 50));
      expect(replied).toBe(false); // not before the client applied the new layout
      expect(await trapInfo(c, TI.TRAPPED_PAGES)).toBe(0xc);
      const { generation, areas } = await applyLayout(c);
      expect(generation).toBe(g0 + 1);
      expect(areas).toEqual([]);
      expect((await pending).errno).toBe(0);
      expect(rig.handle(0).status()).toMatchObject({ logging: true, trapped: true, trapEffective: true, applied: generation });
      // STOP releases the pages: a new generation, signalled, mappable again.
      expect((await stop(c)).errno).toBe(0);
      expect(await waitEventfd(efd)).toBe(1n);
      expect(await trapInfo(c, TI.GENERATION)).toBe(g0 + 2);
      expect(await trapInfo(c, TI.TRAPPED_PAGES)).toBe(0);
      expect(await bar0Areas(c)).toEqual(QUEUE_PAGES);
    } finally {
      await c.close();
    }
  });

  it('an acknowledgement of an older generation does not count', async () => {
    const c = await connect();
    try {
      await bar0Areas(c);
      const efd = await attachLayoutIrq(c);
      const old = await trapInfo(c, TI.GENERATION);
      const pending = start(c);
      await waitEventfd(efd);
      expect((await c.request(CMD.REGION_WRITE, regionAccessPayload(TRAP_REGION, 12n, 4, le(old, 4)))).errno).toBe(0);
      expect((await pending).errno).toBe(ETIMEDOUT); // the stale ack was not enough
      expect(await trapInfo(c, TI.TRAPPED_PAGES)).toBe(0); // and the failed START untrapped
      expect(rig.handle(0).status()).toMatchObject({ logging: false, trapped: false });
    } finally {
      await c.close();
    }
  });

  it('a client that was offered the pages but cannot be told is refused at once', async () => {
    const c = await connect();
    try {
      await bar0Areas(c);
      const g = await trapInfo(c, TI.GENERATION);
      expect((await start(c)).errno).toBe(EOPNOTSUPP);
      expect(await trapInfo(c, TI.GENERATION)).toBe(g + 2); // trapped, then released
      expect(await bar0Areas(c)).toEqual(QUEUE_PAGES);
    } finally {
      await c.close();
    }
  });

  it('a client never offered the queue pages is trapped at once', async () => {
    const c = await connect();
    try {
      expect((await start(c)).errno).toBe(0);
      expect(await bar0Areas(c)).toEqual([]); // and later queries never offer them
      expect((await c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.BAR0, 0x2818n, 4, le(0, 4)))).errno).toBe(0);
      expect((await stop(c)).errno).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('saving states trap and untrap without waiting (the device state does not depend on it)', async () => {
    const c = await connect();
    try {
      await bar0Areas(c);
      const efd = await attachLayoutIrq(c);
      const g = await trapInfo(c, TI.GENERATION);
      expect((await setState(c, ST.PRE_COPY)).errno).toBe(0);
      expect(await waitEventfd(efd)).toBe(1n);
      expect(await bar0Areas(c)).toEqual([]);
      expect(await trapInfo(c, TI.GENERATION)).toBe(g + 1);
      expect(rig.handle(0).status()).toMatchObject({ trapped: true, trapEffective: false });
      await applyLayout(c);
      expect(rig.handle(0).status()).toMatchObject({ trapEffective: true });
      // DMA logging started while trapped for saving: nothing more to wait for.
      expect((await start(c)).errno).toBe(0);
      expect((await setState(c, ST.RUNNING)).errno).toBe(0); // leaves saving: logging still holds
      expect(await trapInfo(c, TI.TRAPPED_PAGES)).toBe(0xc);
      expect((await stop(c)).errno).toBe(0);
      expect(await trapInfo(c, TI.TRAPPED_PAGES)).toBe(0);
      expect(await trapInfo(c, TI.GENERATION)).toBe(g + 2);
    } finally {
      await c.close();
    }
  });

  it('the client leaving releases the trap; the next client starts untrapped', async () => {
    let c = await connect();
    await attachLayoutIrq(c);
    expect((await setState(c, ST.PRE_COPY)).errno).toBe(0);
    await c.close();
    c = await connect();
    try {
      expect(await bar0Areas(c)).toEqual(QUEUE_PAGES);
      expect(await trapInfo(c, TI.TRAPPED_PAGES)).toBe(0);
      expect((await c.request(CMD.DEVICE_FEATURE, feature(FEAT.GET | FEATURE.MIG_DEVICE_STATE, Buffer.alloc(0), 16))).payload.readUInt32LE(8)).toBe(ST.RUNNING);
    } finally {
      await c.close();
    }
  });
});
