// VFIO_USER_DEVICE_SET_IRQS with MSI-X eventfds: a vector the device raises signals the
// client's eventfd; software triggers, de-assignment, replacement and "disable all" do
// what linux/vfio.h says; malformed requests get EINVAL (ENOTTY for MSI-X mask/unmask, as
// the kernel) and never leak the fds they carried.
import { constants } from 'node:os';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TestClient } from './helpers/client.js';
import { addon, enableMemory, openFdCount, startRig, until, type VfioRig } from './helpers/rig.js';
import { CMD, IRQ_INDEX, IRQ_SET, REGION, irqSetPayload, le, regionAccessPayload } from './helpers/wire.js';

const { EINVAL, ENOTTY } = constants.errno;
const EICS = 0x1520, EIMS = 0x1524, EIMC = 0x1528, EIAC = 0x152c, EICR = 0x1580;
const TRIGGER_EVENTFD = IRQ_SET.ACTION_TRIGGER | IRQ_SET.DATA_EVENTFD;

let rig: VfioRig;
let c: TestClient;
let efds: number[];

function setIrqs(flags: number, start: number, count: number, fds: number[] = [], data?: Buffer, index: number = IRQ_INDEX.MSIX) {
  return c.request(CMD.DEVICE_SET_IRQS, irqSetPayload({ flags, index, start, count, data }), { fds });
}
async function reg32(off: number, v: number): Promise<void> {
  expect((await c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.BAR0, BigInt(off), 4, le(v, 4)))).errno).toBe(0);
}
/** Interrupt setup as igbvf does it: mask all, auto-clear causes when their message is
 * sent, clear anything pending (EICR is read-to-clear), unmask all, drain the eventfds. */
async function armIrqs(): Promise<void> {
  await reg32(EIMC, 0x7);
  await reg32(EIAC, 0x7);
  expect((await c.request(CMD.REGION_READ, regionAccessPayload(REGION.BAR0, BigInt(EICR), 4))).errno).toBe(0);
  await reg32(EIMS, 0x7);
  efds.forEach((fd) => drain(fd));
}
/** Raises MSI-X vectors through the device: EICS sets their causes. */
async function raise(mask: number): Promise<void> {
  await reg32(EICS, mask);
}
function drain(fd: number): bigint | null {
  return addon.eventfdRead(fd);
}
/** Which of efds are signalled (and drains them); waits for `expect` bits to show up. */
async function signalled(expectMask: number): Promise<number> {
  let got = 0;
  await until(() => {
    efds.forEach((fd, i) => {
      if (drain(fd) !== null) got |= 1 << i;
    });
    return (got & expectMask) === expectMask;
  }, `eventfds ${expectMask.toString(2)}`);
  return got;
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
  await enableMemory(c);
  efds = [addon.eventfdCreate(), addon.eventfdCreate(), addon.eventfdCreate()];
});
afterEach(async () => {
  await c.close();
  efds.forEach((fd) => addon.close(fd));
});

describe('DEVICE_SET_IRQS, MSI-X', () => {
  it('eventfds for all 3 vectors: a vector raised by the device signals exactly its eventfd', async () => {
    const r = await setIrqs(TRIGGER_EVENTFD, 0, 3, efds);
    expect(r.errno).toBe(0);
    expect(r.payload.length).toBe(0);
    await armIrqs();
    await raise(0b010);
    expect(await signalled(0b010)).toBe(0b010);
    await raise(0b101);
    expect(await signalled(0b101)).toBe(0b101);
  });

  it('software triggers: DATA_NONE signals the range, DATA_BOOL the true entries', async () => {
    await setIrqs(TRIGGER_EVENTFD, 0, 3, efds);
    expect((await setIrqs(IRQ_SET.ACTION_TRIGGER | IRQ_SET.DATA_NONE, 1, 2)).errno).toBe(0);
    expect(await signalled(0b110)).toBe(0b110);
    expect((await setIrqs(IRQ_SET.ACTION_TRIGGER | IRQ_SET.DATA_BOOL, 0, 3, [], Buffer.from([1, 0, 1]))).errno).toBe(0);
    expect(await signalled(0b101)).toBe(0b101);
  });

  it('de-assigning a vector (EVENTFD, no fds) detaches it and closes the server copy', async () => {
    await setIrqs(TRIGGER_EVENTFD, 0, 3, efds);
    await armIrqs();
    const before = openFdCount();
    expect((await setIrqs(TRIGGER_EVENTFD, 0, 1)).errno).toBe(0);
    expect(openFdCount()).toBe(before - 2); // our copy and the hardware model's dup
    expect(rig.devices[0]!.irqEventFds()[0]).toBeNull();
    await raise(0b011);
    expect(await signalled(0b010)).toBe(0b010); // vector 0 no longer reaches anyone
  });

  it('replacing a vector\'s eventfd moves the signal and closes the old copy', async () => {
    await setIrqs(TRIGGER_EVENTFD, 0, 3, efds);
    await armIrqs();
    const fresh = addon.eventfdCreate();
    const before = openFdCount();
    expect((await setIrqs(TRIGGER_EVENTFD, 2, 1, [fresh])).errno).toBe(0);
    expect(openFdCount()).toBe(before); // new copy in, old copy out (ours and the model's)
    await raise(0b100);
    await until(() => drain(fresh) !== null, 'the new eventfd');
    expect(drain(efds[2]!)).toBeNull();
    addon.close(fresh);
  });

  it('count 0 with DATA_NONE | TRIGGER disables every vector', async () => {
    await setIrqs(TRIGGER_EVENTFD, 0, 3, efds);
    expect((await setIrqs(IRQ_SET.ACTION_TRIGGER | IRQ_SET.DATA_NONE, 0, 0)).errno).toBe(0);
    expect(rig.devices[0]!.irqEventFds()).toEqual([null, null, null]);
  });

  it('MSI-X mask/unmask through SET_IRQS: ENOTTY (as vfio-pci), fds not kept', async () => {
    const before = openFdCount();
    expect((await setIrqs(IRQ_SET.ACTION_MASK | IRQ_SET.DATA_NONE, 0, 1)).errno).toBe(ENOTTY);
    expect((await setIrqs(IRQ_SET.ACTION_UNMASK | IRQ_SET.DATA_BOOL, 0, 1, [], Buffer.from([1]))).errno).toBe(ENOTTY);
    expect((await setIrqs(IRQ_SET.ACTION_MASK | IRQ_SET.DATA_EVENTFD, 0, 1, [efds[0]!])).errno).toBe(ENOTTY);
    expect(openFdCount()).toBe(before);
  });

  it.each([
    ['INTx (the VF has none)', { index: IRQ_INDEX.INTX, flags: TRIGGER_EVENTFD, start: 0, count: 1, nfds: 1 }],
    ['MSI (no capability)', { index: IRQ_INDEX.MSI, flags: TRIGGER_EVENTFD, start: 0, count: 1, nfds: 1 }],
    ['ERR', { index: IRQ_INDEX.ERR, flags: IRQ_SET.ACTION_TRIGGER | IRQ_SET.DATA_NONE, start: 0, count: 0, nfds: 0 }],
    ['index 5', { index: 5, flags: TRIGGER_EVENTFD, start: 0, count: 1, nfds: 1 }],
    ['start + count past 3 vectors', { flags: TRIGGER_EVENTFD, start: 2, count: 2, nfds: 2 }],
    ['start past the vectors', { flags: TRIGGER_EVENTFD, start: 3, count: 1, nfds: 1 }],
    ['start 0xffffffff (no wrap)', { flags: TRIGGER_EVENTFD, start: 0xffffffff, count: 2, nfds: 2 }],
    ['fewer fds than count', { flags: TRIGGER_EVENTFD, start: 0, count: 3, nfds: 2 }],
    ['fds with DATA_NONE', { flags: IRQ_SET.ACTION_TRIGGER | IRQ_SET.DATA_NONE, start: 0, count: 1, nfds: 1 }],
    ['two data types', { flags: IRQ_SET.ACTION_TRIGGER | IRQ_SET.DATA_NONE | IRQ_SET.DATA_EVENTFD, start: 0, count: 1, nfds: 0 }],
    ['two actions', { flags: IRQ_SET.ACTION_TRIGGER | IRQ_SET.ACTION_MASK | IRQ_SET.DATA_NONE, start: 0, count: 1, nfds: 0 }],
    ['no action', { flags: IRQ_SET.DATA_NONE, start: 0, count: 1, nfds: 0 }],
    ['unknown flag bit', { flags: TRIGGER_EVENTFD | 0x40, start: 0, count: 1, nfds: 1 }],
    ['count 0 but start 1', { flags: IRQ_SET.ACTION_TRIGGER | IRQ_SET.DATA_NONE, start: 1, count: 0, nfds: 0 }],
    ['count 0 with EVENTFD', { flags: TRIGGER_EVENTFD, start: 0, count: 0, nfds: 0 }],
  ])('%s: EINVAL, no fd kept', async (_w, t: { index?: number; flags: number; start: number; count: number; nfds: number }) => {
    const before = openFdCount();
    const r = await setIrqs(t.flags, t.start, t.count, efds.slice(0, t.nfds), undefined, t.index);
    expect(r.errno).toBe(EINVAL);
    expect(openFdCount()).toBe(before);
    expect(rig.devices[0]!.irqEventFds()).toEqual([null, null, null]);
  });

  it('an fd that is not an eventfd: EINVAL', async () => {
    const m = addon.memfdCreate('not-an-eventfd', 4096n);
    const before = openFdCount();
    expect((await setIrqs(TRIGGER_EVENTFD, 0, 1, [m])).errno).toBe(EINVAL);
    expect(openFdCount()).toBe(before);
    addon.close(m);
  });

  it('bool array not matching count, trailing data, argsz below the payload, short payload: EINVAL', async () => {
    const BOOL = IRQ_SET.ACTION_TRIGGER | IRQ_SET.DATA_BOOL;
    expect((await setIrqs(BOOL, 0, 3, [], Buffer.from([1, 1]))).errno).toBe(EINVAL);
    expect((await setIrqs(IRQ_SET.ACTION_TRIGGER | IRQ_SET.DATA_NONE, 0, 1, [], Buffer.from([1]))).errno).toBe(EINVAL);
    const p = irqSetPayload({ argsz: 20, flags: BOOL, index: IRQ_INDEX.MSIX, start: 0, count: 1, data: Buffer.from([1]) });
    expect((await c.request(CMD.DEVICE_SET_IRQS, p)).errno).toBe(EINVAL);
    expect((await c.request(CMD.DEVICE_SET_IRQS, Buffer.alloc(16))).errno).toBe(EINVAL);
  });

  it('more fds than max_msg_fds (8): EINVAL, all of them closed', async () => {
    const many = Array.from({ length: 9 }, () => addon.eventfdCreate());
    const before = openFdCount();
    expect((await setIrqs(TRIGGER_EVENTFD, 0, 3, many)).errno).toBe(EINVAL);
    expect(openFdCount()).toBe(before);
    many.forEach((fd) => addon.close(fd));
  });
});
