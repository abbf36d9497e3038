// Connection lifecycle of a per-VF vfio-user socket: owner-only socket file whatever the
// umask, stale/live/foreign files at the path, one client at a time (a second one gets
// EBUSY and is hung up on), a disconnect releases the device (DMA windows dropped in the
// hardware model, IRQ eventfds closed) and the next client attaches, also after a client
// died in the middle of a message.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VfmedSystemError } from '../../mediator/errors.js';
import { VfioUserServer } from '../../mediator/vfio/server.js';
import { TestClient } from './helpers/client.js';
import { addon, enableMemory, openFdCount, startRig, until, type VfioRig } from './helpers/rig.js';
import { CMD, IRQ_INDEX, IRQ_SET, dmaMapPayload, fourU32, irqSetPayload, message, versionPayload } from './helpers/wire.js';

const { EBUSY } = constants.errno;

let rig: VfioRig;
beforeAll(() => {
  rig = startRig(2);
});
afterAll(async () => {
  await rig.close();
});

describe('socket file', () => {
  it('is a socket with mode 0600 owned by us, even with umask 0', async () => {
    const old = process.umask(0);
    const dir = mkdtempSync(join(tmpdir(), 'vfmed-perm-'));
    try {
      const s = new VfioUserServer({ path: join(dir, 'x.sock'), device: rig.devices[0]! }).listen();
      const st = statSync(join(dir, 'x.sock'));
      expect(st.isSocket()).toBe(true);
      expect(st.mode & 0o7777).toBe(0o600);
      expect(st.uid).toBe(process.getuid!());
      await s.close();
      expect(existsSync(join(dir, 'x.sock'))).toBe(false); // removed on close
    } finally {
      process.umask(old);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the rig sockets are 0600 too, and the directory holds no temporary leftovers', () => {
    expect(statSync(rig.path(0)).mode & 0o777).toBe(0o600);
    expect(statSync(rig.path(1)).mode & 0o777).toBe(0o600);
    expect(readdirSync(rig.dir).sort()).toEqual(['vf0.sock', 'vf1.sock']);
  });

  it('a stale socket (its server died) is replaced; a live one is EADDRINUSE; a plain file is EEXIST', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfmed-stale-'));
    try {
      const stale = join(dir, 'stale.sock');
      // A process that binds and exits without unlinking leaves a stale socket file.
      execFileSync('python3', ['-c', `import socket; s=socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(stale)}); s.listen(1)`]);
      expect(statSync(stale).isSocket()).toBe(true);
      const s1 = new VfioUserServer({ path: stale, device: rig.devices[0]! }).listen();
      const c = await TestClient.connect(stale);
      expect((await c.request(CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0))).errno).toBe(0);

      let err: unknown;
      try {
        new VfioUserServer({ path: stale, device: rig.devices[1]! }).listen();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(VfmedSystemError);
      expect((err as VfmedSystemError).code).toBe('EADDRINUSE');
      await c.close();
      await s1.close();

      const plain = join(dir, 'plain');
      writeFileSync(plain, 'not a socket');
      expect(() => new VfioUserServer({ path: plain, device: rig.devices[0]! }).listen()).toThrow(/EEXIST/);
      expect(statSync(plain).isFile()).toBe(true); // untouched
      expect(() => new VfioUserServer({ path: join(dir, 'x'.repeat(120)), device: rig.devices[0]! }).listen()).toThrow(/ENAMETOOLONG/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('one client per device', () => {
  it('a second client gets EBUSY for its first message and is disconnected; the first is unaffected', async () => {
    await until(() => rig.servers[0]!.attached === null, 'a free device');
    const a = await TestClient.connect(rig.path(0));
    const refused = once(rig.servers[0]!, 'refuse');
    const b = new TestClient(rig.path(0));
    const r = await b.request(CMD.VERSION, versionPayload(0, 2, '{}'), { msgId: 0xbeef });
    expect([r.msgId, r.command, r.errno, r.payload.length]).toEqual([0xbeef, CMD.VERSION, EBUSY, 0]);
    await refused;
    expect(await b.closed).toBe(0); // the server hung up
    expect((await a.request(CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0))).errno).toBe(0);
    expect(rig.servers[0]!.attached).not.toBeNull();
    await a.close();
  });

  it('would-be clients beyond the refusal limit (4) are hung up on at once; the others get EBUSY', async () => {
    await until(() => rig.servers[0]!.attached === null, 'a free device');
    const a = await TestClient.connect(rig.path(0));
    const crowd = Array.from({ length: 6 }, () => new TestClient(rig.path(0)));
    let closed = 0;
    crowd.forEach((c) => void c.closed.then(() => closed++));
    await until(() => closed === 2, 'two of six hung up');
    const open = crowd.filter((c) => !c.isClosed);
    expect(open).toHaveLength(4);
    for (const c of open) expect((await c.request(CMD.VERSION, versionPayload(0, 2))).errno).toBe(EBUSY);
    await Promise.all(crowd.map((c) => c.closed));
    expect((await a.request(CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0))).errno).toBe(0);
    await a.close();
  });

  it('a disconnect releases the device: DMA windows dropped, IRQ eventfds closed; the next client attaches', async () => {
    await until(() => rig.servers[0]!.attached === null, 'a free device');
    const baseline = openFdCount();
    const memfd = addon.memfdCreate('conn-dma', 0x100000n);
    const efds = [addon.eventfdCreate(), addon.eventfdCreate(), addon.eventfdCreate()];
    const a = await TestClient.connect(rig.path(0));
    await enableMemory(a);
    expect((await a.request(CMD.DMA_MAP, dmaMapPayload({ flags: 3, offset: 0n, addr: 0x2000_0000n, size: 0x100000n }), { fds: [memfd] })).errno).toBe(0);
    expect((await a.request(CMD.DEVICE_SET_IRQS, irqSetPayload({ flags: IRQ_SET.ACTION_TRIGGER | IRQ_SET.DATA_EVENTFD, index: IRQ_INDEX.MSIX, start: 0, count: 3 }), { fds: efds })).errno).toBe(0);
    expect(rig.devices[0]!.dmaWindows()).toHaveLength(1);

    const detached = once(rig.servers[0]!, 'detach');
    await a.close();
    const [errno, releaseError] = await detached;
    expect([errno, releaseError]).toEqual([0, null]);
    expect(rig.devices[0]!.dmaWindows()).toEqual([]);
    expect(rig.devices[0]!.irqEventFds()).toEqual([null, null, null]);
    addon.close(memfd);
    efds.forEach((fd) => addon.close(fd));
    // Every fd the server and the hardware model held for that client is gone.
    expect(openFdCount()).toBe(baseline);

    const memfd2 = addon.memfdCreate('conn-dma-2', 0x100000n);
    const b = await TestClient.connect(rig.path(0));
    // The hardware model dropped the old window too: the same IOVA maps again (no EEXIST).
    expect((await b.request(CMD.DMA_MAP, dmaMapPayload({ flags: 3, offset: 0n, addr: 0x2000_0000n, size: 0x100000n }), { fds: [memfd2] })).errno).toBe(0);
    await b.close();
    addon.close(memfd2);
  });

  it('a client that dies in the middle of a message (with fds in flight) is released cleanly', async () => {
    await until(() => rig.servers[0]!.attached === null, 'a free device');
    const baseline = openFdCount();
    const memfd = addon.memfdCreate('half', 0x1000n);
    const a = await TestClient.connect(rig.path(0));
    const full = message(5, CMD.DMA_MAP, dmaMapPayload({ flags: 3, offset: 0n, addr: 0x3000_0000n, size: 0x1000n }));
    const detached = once(rig.servers[0]!, 'detach');
    a.sendOnly(full.subarray(0, 20), [memfd]); // header + 4 bytes, and the fd
    await new Promise((r) => setTimeout(r, 5));
    await a.close();
    await detached;
    addon.close(memfd);
    expect(openFdCount()).toBe(baseline);
    const b = await TestClient.connect(rig.path(0));
    expect((await b.request(CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0))).errno).toBe(0);
    await b.close();
  });

  it('reports the peer credentials of the attached client', async () => {
    await until(() => rig.servers[0]!.attached === null, 'a free device');
    const a = await TestClient.connect(rig.path(0));
    expect(rig.servers[0]!.attached!.peer).toEqual({ pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
    await a.close();
  });

  it('the VFs are served independently: each socket has its own client', async () => {
    await until(() => rig.servers[0]!.attached === null && rig.servers[1]!.attached === null, 'free devices');
    const a = await TestClient.connect(rig.path(0));
    const b = await TestClient.connect(rig.path(1));
    expect((await a.request(CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0))).errno).toBe(0);
    expect((await b.request(CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0))).errno).toBe(0);
    await Promise.all([a.close(), b.close()]);
  });
});
