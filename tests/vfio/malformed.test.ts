// Malformed messages: bad header sizes, oversized messages (body discarded unread),
// unknown and wrong-direction commands, replies sent to the server, fds where none belong,
// too many fds. Each gets an error reply with the right errno and the connection keeps
// working; and one VF's misbehaving client never disturbs another VF's server.
import { constants } from 'node:os';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TestClient } from './helpers/client.js';
import { addon, openFdCount, startRig, until, type VfioRig } from './helpers/rig.js';
import { CMD, F_NO_REPLY, F_REPLY, fourU32, header, message, regionAccessPayload, REGION } from './helpers/wire.js';

const { EBADF, EINVAL, EIO, EMSGSIZE, ENOENT, ENOTSUP, ENOTTY } = constants.errno;

let rig: VfioRig;
let c: TestClient;
const getInfo = () => c.request(CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0));

beforeAll(() => {
  rig = startRig(2);
});
afterAll(async () => {
  await rig.close();
});
beforeEach(async () => {
  await until(() => rig.servers[0]!.attached === null, 'a free device');
  c = await TestClient.connect(rig.path(0));
});
afterEach(async () => {
  expect(c.stray).toEqual([]);
  expect(rig.errors).toEqual([]);
  await c.close();
});

describe('framing', () => {
  it.each([0, 1, 8, 15])('size field %i (< 16): EINVAL for that msg_id, the stream continues', async (size) => {
    const r = await c.raw(header(0x0abc, CMD.DEVICE_GET_INFO, size), 0x0abc);
    expect([r.errno, r.command, r.payload.length]).toEqual([EINVAL, CMD.DEVICE_GET_INFO, 0]);
    expect((await getInfo()).errno).toBe(0);
  });

  it('a message above the server maximum: EMSGSIZE at once, its body is skipped, fds closed', async () => {
    const big = 16 + 16 + (1 << 20) + 1; // one byte more than a full REGION_WRITE
    const body = Buffer.alloc(big - 16, 0x5a);
    const efd = addon.eventfdCreate();
    const before = openFdCount();
    const p = c.raw(Buffer.concat([header(0x0101, CMD.REGION_WRITE, big), body]), 0x0101, [efd]);
    const r = await p;
    expect([r.errno, r.payload.length]).toEqual([EMSGSIZE, 0]);
    const after = await getInfo(); // only answered once the 1 MiB body has been skipped
    expect(after.errno).toBe(0);
    expect(openFdCount()).toBe(before);
    addon.close(efd);
  });

  it('a size field of 4 GiB - 1 is refused with EMSGSIZE before any body arrives', async () => {
    const r = await c.raw(header(0x0102, CMD.REGION_WRITE, 0xffffffff), 0x0102);
    expect(r.errno).toBe(EMSGSIZE);
  });

  it('a reply sent to the server (type 1) and an unknown type: EINVAL', async () => {
    expect((await c.raw(message(0x0201, CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0), F_REPLY), 0x0201)).errno).toBe(EINVAL);
    expect((await c.raw(message(0x0202, CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0), 0x7), 0x0202)).errno).toBe(EINVAL);
  });

  it('every msg_id is echoed, including 0 and 0xffff', async () => {
    for (const id of [0, 0xffff]) {
      const r = await c.request(CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0), { msgId: id });
      expect([r.msgId, r.errno]).toEqual([id, 0]);
    }
  });
});

describe('commands', () => {
  it.each([0, 14, 19, 100, 0xffff])('unassigned command %i: ENOTSUP', async (cmd) => {
    const r = await c.request(cmd, Buffer.alloc(8));
    expect([r.errno, r.command]).toEqual([ENOTSUP, cmd]);
  });

  it.each([
    ['DMA_READ (server-to-client)', CMD.DMA_READ, Buffer.alloc(16), EINVAL],
    ['DMA_WRITE (server-to-client)', CMD.DMA_WRITE, Buffer.alloc(24), EINVAL],
    ['DEVICE_GET_REGION_IO_FDS (not offered)', CMD.DEVICE_GET_REGION_IO_FDS, fourU32(32, 0, 0, 0), ENOTSUP],
    ['MIG_DATA_READ (no migration on this device)', CMD.MIG_DATA_READ, Buffer.alloc(8), ENOTSUP],
    ['REGION_WRITE_MULTI not negotiated', CMD.REGION_WRITE_MULTI, Buffer.alloc(8), ENOTSUP],
    ['DEVICE_FEATURE migration GET (no feature: ENOTTY, as Linux)', CMD.DEVICE_FEATURE, Buffer.from([8, 0, 0, 0, 1, 0, 1, 0]), ENOTTY],
    ['DEVICE_FEATURE GET|SET without PROBE', CMD.DEVICE_FEATURE, Buffer.from([8, 0, 0, 0, 1, 0, 3, 0]), EINVAL],
    ['DEVICE_FEATURE unknown flag bit', CMD.DEVICE_FEATURE, Buffer.from([8, 0, 0, 0, 1, 0, 0, 0x10]), EINVAL],
    ['DEVICE_FEATURE payload 4 bytes', CMD.DEVICE_FEATURE, Buffer.alloc(4), EINVAL],
  ])('%s: errno %s', async (_w, cmd, payload, errno) => {
    expect((await c.request(cmd, payload)).errno).toBe(errno);
  });

  it('fds with a command that takes none: EINVAL, and the fds are closed', async () => {
    const efd = addon.eventfdCreate();
    const before = openFdCount();
    expect((await c.request(CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0), { fds: [efd, efd] })).errno).toBe(EINVAL);
    expect((await c.request(CMD.REGION_READ, regionAccessPayload(REGION.CONFIG, 0n, 4), { fds: [efd] })).errno).toBe(EINVAL);
    expect(openFdCount()).toBe(before);
    addon.close(efd);
  });

  it('more fds than the transport holds per message (40): EINVAL, none leaks', async () => {
    const efd = addon.eventfdCreate();
    const before = openFdCount();
    const r = await c.request(CMD.DEVICE_SET_IRQS, Buffer.alloc(20), { fds: Array(40).fill(efd) });
    expect(r.errno).toBe(EINVAL);
    expect(openFdCount()).toBe(before);
    addon.close(efd);
  });

  it('NO_REPLY suppresses error replies too; later replies still match', async () => {
    c.sendOnly(message(0x0301, 99, Buffer.alloc(4), F_NO_REPLY));
    c.sendOnly(message(0x0302, CMD.REGION_READ, regionAccessPayload(REGION.CONFIG, 4096n, 4), F_NO_REPLY));
    const r = await getInfo();
    expect(r.errno).toBe(0);
  });

  it('a flood of random garbage with valid framing is answered message by message', async () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 0);
    const replies: Array<Promise<{ errno: number }>> = [];
    for (let i = 0; i < 300; i++) {
      const len = rnd() % 64;
      const payload = Buffer.from(Array.from({ length: len }, () => rnd() & 0xff));
      const cmd = 2 + (rnd() % 17); // every command but VERSION, with junk payloads
      replies.push(c.request(cmd, payload, { msgId: 0x4000 + i }));
    }
    const got = await Promise.all(replies);
    expect(got).toHaveLength(300);
    // Every failure is a protocol/device errno, none an internal error of the server.
    const expected = new Set([0, EINVAL, ENOTSUP, ENOTTY, EMSGSIZE, EIO, ENOENT, EBADF]);
    expect(got.filter((r) => !expected.has(r.errno))).toEqual([]);
    expect(rig.errors).toEqual([]);
    expect((await getInfo()).errno).toBe(0);
  });
});

describe('isolation between VFs', () => {
  it('a hostile client of VF0 does not disturb VF1: its requests all complete correctly', async () => {
    await until(() => rig.servers[1]!.attached === null, 'VF1 free');
    const good = await TestClient.connect(rig.path(1));
    const goodReads = Array.from({ length: 200 }, () => good.request(CMD.REGION_READ, regionAccessPayload(REGION.CONFIG, 0n, 4)));
    // Meanwhile on VF0: garbage, oversized messages, stray fds, then a death mid-message.
    const efd = addon.eventfdCreate();
    for (let i = 0; i < 50; i++) {
      c.sendOnly(header(i, 0xfff0, 8));
      c.sendOnly(message(i, CMD.DEVICE_GET_INFO, Buffer.alloc(3)), [efd]);
    }
    c.sendOnly(Buffer.concat([header(77, CMD.REGION_WRITE, 4 << 20), Buffer.alloc(64 << 10)]));
    const all = await Promise.all(goodReads);
    expect(all.every((r) => r.errno === 0 && r.payload.readUInt32LE(16) === 0x10ca8086)).toBe(true);
    await c.close();
    addon.close(efd);
    await until(() => rig.servers[0]!.attached === null, 'VF0 released');
    expect((await good.request(CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0))).errno).toBe(0);
    c = await TestClient.connect(rig.path(0)); // VF0 serves the next client normally
    expect((await getInfo()).errno).toBe(0);
    await good.close();
  });
});
