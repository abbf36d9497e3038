// VFIO_USER_VERSION: the negotiation rules of the spec (major echoed, minor <= proposed,
// capabilities JSON NUL-terminated) and every malformed proposal with its errno.
import { constants } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, expectReplyShape } from './helpers/client.js';
import { addon, openFdCount, startRig, until, type VfioRig } from './helpers/rig.js';
import { CMD, F_ERROR, F_REPLY, REGION, fourU32, regionInfoPayload, versionPayload } from './helpers/wire.js';

const { EINVAL, EPROTONOSUPPORT } = constants.errno;

let rig: VfioRig;
beforeAll(() => {
  rig = startRig(1);
});
afterAll(async () => {
  await rig.close();
});

async function propose(payload: Buffer, fds?: number[]): Promise<{ c: TestClient; r: Awaited<ReturnType<TestClient['request']>> }> {
  await until(() => rig.servers[0]?.attached === null, 'the previous client to detach');
  const c = new TestClient(rig.path(0));
  const r = await c.request(CMD.VERSION, payload, { fds, msgId: 0x1234 });
  return { c, r };
}

function parseVersionReply(p: Buffer): { major: number; minor: number; caps: Record<string, unknown> } {
  expect(p[p.length - 1]).toBe(0); // NUL-terminated
  const json = p.subarray(4, p.length - 1).toString('utf8');
  return { major: p.readUInt16LE(0), minor: p.readUInt16LE(2), caps: JSON.parse(json) as Record<string, unknown> };
}

describe('VFIO_USER_VERSION', () => {
  it('replies with major 0, the lower minor and the server capabilities', async () => {
    const { c, r } = await propose(versionPayload(0, 7, '{"capabilities":{"max_msg_fds":16,"max_data_xfer_size":65536}}'));
    expectReplyShape(r, CMD.VERSION, 0x1234);
    expect(r.flags).toBe(F_REPLY);
    const v = parseVersionReply(r.payload);
    expect([v.major, v.minor]).toEqual([0, 2]);
    expect(v.caps).toEqual({
      capabilities: { max_msg_fds: 8, max_data_xfer_size: 1048576, pgsizes: 4096, max_dma_maps: 1024 },
    });
    await c.close();
  });

  it('keeps an older minor and accepts a proposal without JSON', async () => {
    const { c, r } = await propose(versionPayload(0, 0));
    expect(r.errno).toBe(0);
    expect(parseVersionReply(r.payload).minor).toBe(0);
    await c.close();
  });

  it('answers write_multiple only when proposed, and lowers max_dma_maps to the client\'s', async () => {
    const { c, r } = await propose(versionPayload(0, 1, '{"capabilities":{"write_multiple":true,"max_dma_maps":16,"pgsizes":4096}}'));
    const caps = parseVersionReply(r.payload).caps['capabilities'] as Record<string, unknown>;
    expect(caps['write_multiple']).toBe(true);
    expect(caps['max_dma_maps']).toBe(16);
    await c.close();
  });

  it('ignores unknown capabilities and accepts migration/twin_socket objects (twin socket not enabled)', async () => {
    const { c, r } = await propose(versionPayload(0, 2, '{"capabilities":{"future_thing":[1],"twin_socket":{"supported":true},"migration":{"pgsize":4096}},"x":1}'));
    expect(r.errno).toBe(0);
    expect(r.fds).toEqual([]);
    const caps = parseVersionReply(r.payload).caps['capabilities'] as Record<string, unknown>;
    expect(caps['twin_socket']).toBeUndefined();
    await c.close();
  });

  it('a client that takes no fds (max_msg_fds 0) gets BAR0 without MMAP, sparse cap or fd', async () => {
    const { c, r } = await propose(versionPayload(0, 2, '{"capabilities":{"max_msg_fds":0}}'));
    expect(r.errno).toBe(0);
    const ri = await c.request(CMD.DEVICE_GET_REGION_INFO, regionInfoPayload(REGION.BAR0, 256));
    expect(ri.payload.readUInt32LE(0)).toBe(32);
    expect(ri.payload.readUInt32LE(4)).toBe(0x3); // READ | WRITE only
    expect(ri.fds).toEqual([]);
    await c.close();
  });

  it('refuses another major with EPROTONOSUPPORT and closes the connection', async () => {
    const { c, r } = await propose(versionPayload(1, 0, '{}'));
    expect(r.flags).toBe(F_REPLY | F_ERROR);
    expect(r.errno).toBe(EPROTONOSUPPORT);
    expect(r.payload.length).toBe(0); // an error reply is the header only
    expect(await c.closed).toBe(0);
  });

  it.each([
    ['no NUL terminator', versionPayload(0, 2, '{}', false)],
    ['invalid JSON', versionPayload(0, 2, '{"capabilities":')],
    ['JSON that is not an object', versionPayload(0, 2, '[1,2]')],
    ['capabilities not an object', versionPayload(0, 2, '{"capabilities":3}')],
    ['max_msg_fds negative', versionPayload(0, 2, '{"capabilities":{"max_msg_fds":-1}}')],
    ['max_msg_fds a string', versionPayload(0, 2, '{"capabilities":{"max_msg_fds":"8"}}')],
    ['max_data_xfer_size fractional', versionPayload(0, 2, '{"capabilities":{"max_data_xfer_size":1.5}}')],
    ['max_data_xfer_size zero', versionPayload(0, 2, '{"capabilities":{"max_data_xfer_size":0}}')],
    ['pgsizes without 4 KiB', versionPayload(0, 2, '{"capabilities":{"pgsizes":8192}}')],
    ['write_multiple not a boolean', versionPayload(0, 2, '{"capabilities":{"write_multiple":1}}')],
    ['migration not an object', versionPayload(0, 2, '{"capabilities":{"migration":4096}}')],
    ['NUL inside the JSON', Buffer.concat([versionPayload(0, 2), Buffer.from('{}\0{}\0')])],
    ['invalid UTF-8', Buffer.concat([versionPayload(0, 2), Buffer.from([0x7b, 0xff, 0x7d, 0])])],
    ['payload shorter than major+minor', Buffer.from([0, 0])],
  ])('%s: EINVAL, and the session stays unnegotiated', async (_what, payload) => {
    const { c, r } = await propose(payload);
    expect(r.errno).toBe(EINVAL);
    const after = await c.request(CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0));
    expect(after.errno).toBe(EINVAL); // still "before VERSION"
    const ok = await c.request(CMD.VERSION, versionPayload(0, 2, '{}'));
    expect(ok.errno).toBe(0); // a correct retry negotiates
    await c.close();
  });

  it('commands before VERSION are EINVAL; VERSION twice is EINVAL', async () => {
    await until(() => rig.servers[0]?.attached === null, 'the previous client to detach');
    const c = new TestClient(rig.path(0));
    expect((await c.request(CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0))).errno).toBe(EINVAL);
    expect((await c.request(CMD.VERSION, versionPayload(0, 2))).errno).toBe(0);
    expect((await c.request(CMD.VERSION, versionPayload(0, 2))).errno).toBe(EINVAL);
    expect((await c.request(CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0))).errno).toBe(0);
    await c.close();
  });

  it('VERSION carrying an fd is EINVAL and the server closes the fd it received', async () => {
    const efd = addon.eventfdCreate();
    await until(() => rig.servers[0]?.attached === null, 'the previous client to detach');
    const c = new TestClient(rig.path(0));
    await c.request(CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0)); // connected and served
    const before = openFdCount();
    const r = await c.request(CMD.VERSION, versionPayload(0, 2, '{}'), { fds: [efd] });
    expect(r.errno).toBe(EINVAL);
    expect(openFdCount()).toBe(before); // the received duplicate is gone again
    await c.close();
    addon.close(efd);
  });
});
