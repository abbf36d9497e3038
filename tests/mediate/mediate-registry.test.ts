// The mediate-ops registry of the vfio layer: without a driver (or when every driver
// declines) a VF answers byte for byte as the plain device does; the first driver that
// accepts a device gets a handle for that open, whose rw may pass through or handle, whose
// mmap decides what the client may map, and which is released when the client leaves.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IgbVfDevice } from '../../mediator/vfio/igbvf-device.js';
import { MediateRegistry, MediatedDevice, PASSTHROUGH, type MediateDriver, type MediateHandle } from '../../mediator/vfio/mediate-ops.js';
import type { VfioDevice } from '../../mediator/vfio/device.js';
import { VfioUserServer } from '../../mediator/vfio/server.js';
import { TestClient, type Reply } from '../vfio/helpers/client.js';
import { enableMemory, startRig, until, type VfioRig } from '../vfio/helpers/rig.js';
import { CMD, REGION, fourU32, le, parseRegionInfo, parseSparseAreas, regionAccessPayload, regionInfoPayload } from '../vfio/helpers/wire.js';

let rig: VfioRig;
beforeAll(() => {
  rig = startRig(1);
});
afterAll(async () => {
  await rig.close();
});

/** A fixed conversation; every reply (payload, errno, fd count) is recorded. */
async function conversation(path: string): Promise<Array<{ what: string; errno: number; payload: string; fds: number }>> {
  const c = await TestClient.connect(path);
  const out: Array<{ what: string; errno: number; payload: string; fds: number }> = [];
  const rec = (what: string, r: Reply) => out.push({ what, errno: r.errno, payload: r.payload.toString('hex'), fds: r.fds.length });
  try {
    rec('info', await c.request(CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0)));
    for (let i = 0; i < 12; i++) rec(`region ${i}`, await c.request(CMD.DEVICE_GET_REGION_INFO, regionInfoPayload(i, 256)));
    for (let i = 0; i < 7; i++) rec(`irq ${i}`, await c.request(CMD.DEVICE_GET_IRQ_INFO, fourU32(16, 0, i, 0)));
    rec('config', await c.request(CMD.REGION_READ, regionAccessPayload(REGION.CONFIG, 0n, 64)));
    await enableMemory(c);
    rec('status', await c.request(CMD.REGION_READ, regionAccessPayload(REGION.BAR0, 8n, 4)));
    rec('psrtype', await c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.BAR0, 0xf0cn, 4, le(0x55, 4))));
    rec('tdlen', await c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.BAR0, 0x3808n, 4, le(0x400, 4))));
    rec('region 9 read', await c.request(CMD.REGION_READ, regionAccessPayload(9, 0n, 4)));
    rec('feature mig', await c.request(CMD.DEVICE_FEATURE, Buffer.from([16, 0, 0, 0, 1, 0, 1, 0])));
    rec('feature log', await c.request(CMD.DEVICE_FEATURE, Buffer.from([8, 0, 0, 0, 7, 0, 2, 0])));
    rec('mig read', await c.request(CMD.MIG_DATA_READ, Buffer.from([8, 0, 0, 0, 0, 0, 0, 0])));
    rec('mig write', await c.request(CMD.MIG_DATA_WRITE, Buffer.from([9, 0, 0, 0, 1, 0, 0, 0, 7])));
    rec('mig read short', await c.request(CMD.MIG_DATA_READ, Buffer.from([8, 0, 0])));
    rec('reset', await c.request(CMD.DEVICE_RESET));
  } finally {
    await c.close();
  }
  return out;
}

async function serve(device: VfioDevice, name: string, fn: (path: string) => Promise<void>): Promise<void> {
  const path = join(rig.dir, name);
  const s = new VfioUserServer({ path, device }).listen();
  try {
    await fn(path);
  } finally {
    await s.close();
  }
}

describe('mediate-ops registry', () => {
  it('without a driver, or when every driver declines, a VF is byte for byte the plain device', async () => {
    const plainDev = new IgbVfDevice(rig.nic, 0, { flr: () => rig.pf.vfFlr(0) });
    let plain: Awaited<ReturnType<typeof conversation>> = [];
    await serve(plainDev, 'plain.sock', async (p) => { plain = await conversation(p); });

    const empty = new MediateRegistry();
    let unmediated: typeof plain = [];
    await serve(new MediatedDevice(new IgbVfDevice(rig.nic, 0, { flr: () => rig.pf.vfFlr(0) }), empty), 'empty.sock',
      async (p) => { unmediated = await conversation(p); });
    expect(unmediated).toEqual(plain);

    const declining = new MediateRegistry();
    const asked: VfioDevice[] = [];
    declining.register({ name: 'no', open: (d) => { asked.push(d); return null; } });
    let declined: typeof plain = [];
    await serve(new MediatedDevice(new IgbVfDevice(rig.nic, 0, { flr: () => rig.pf.vfFlr(0) }), declining), 'declined.sock',
      async (p) => { declined = await conversation(p); });
    expect(asked).toHaveLength(1);
    expect(declined).toEqual(plain);
    // The conversation exercised the unmediated answers we rely on elsewhere.
    expect(plain.find((x) => x.what === 'feature mig')!.errno).toBe(25); // ENOTTY
    expect(plain.find((x) => x.what === 'mig read')!.errno).toBe(95); // ENOTSUP
    expect(plain.find((x) => x.what === 'region 9')!.errno).toBe(22);
  });

  it('the first accepting driver gets a handle per open: rw pass-through or handled, mmap, release', async () => {
    const events: string[] = [];
    const registry = new MediateRegistry();
    const mk = (name: string, accept: boolean): MediateDriver => ({
      name,
      open: (dev): MediateHandle | null => {
        events.push(`${name}.open(${dev.name})`);
        if (!accept) return null;
        return {
          driver: name,
          mmap: (index, base) => (index === REGION.BAR0 && base ? { ...base, areas: [{ offset: 0x3000n, size: 0x1000n }] } : base),
          rw: (a) => {
            if (a.write && a.index === REGION.BAR0 && a.offset === 0xf0cn) { events.push('handled write'); return {}; }
            if (!a.write && a.index === REGION.BAR0 && a.offset === 0xf0cn) return { data: le(0xabcd, 4) };
            return PASSTHROUGH;
          },
          release: () => { events.push(`${name}.release`); },
        };
      },
    });
    registry.register(mk('first', false));
    const unregister = registry.register(mk('second', true));
    registry.register(mk('third', true));
    expect(() => registry.register(registry.drivers[0]!)).toThrow(/twice/);

    const dev = new MediatedDevice(new IgbVfDevice(rig.nic, 0), registry);
    await serve(dev, 'med.sock', async (p) => {
      const c = await TestClient.connect(p);
      await enableMemory(c);
      expect(events).toEqual(['first.open(vf0)', 'second.open(vf0)']);
      expect(dev.handle?.driver).toBe('second');
      const r = parseRegionInfo((await c.request(CMD.DEVICE_GET_REGION_INFO, regionInfoPayload(REGION.BAR0, 256))).payload);
      expect(parseSparseAreas(r.caps[0]!.body)).toEqual([{ offset: 0x3000n, size: 0x1000n }]);
      rig.nic.vfWrite32(0, 0xf0c, 0x11);
      expect((await c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.BAR0, 0xf0cn, 4, le(0x22, 4)))).errno).toBe(0);
      expect(rig.nic.vfRead32(0, 0xf0c)).toBe(0x11); // handled: the device never saw it
      expect((await c.request(CMD.REGION_READ, regionAccessPayload(REGION.BAR0, 0xf0cn, 4))).payload.readUInt32LE(16)).toBe(0xabcd);
      expect((await c.request(CMD.REGION_WRITE, regionAccessPayload(REGION.BAR0, 0x3808n, 4, le(0x800, 4)))).errno).toBe(0);
      expect(rig.nic.vfRead32(0, 0x3808)).toBe(0x800); // passed through
      await c.close();
      await until(() => events.includes('second.release'), 'release');
      expect(dev.handle).toBeNull();
      // A new open asks again: with 'second' gone, 'third' accepts.
      unregister();
      const c2 = await TestClient.connect(p);
      await c2.request(CMD.DEVICE_GET_INFO, fourU32(16, 0, 0, 0));
      expect(dev.handle?.driver).toBe('third');
      await c2.close();
    });
    expect(events.filter((e) => e === 'handled write')).toHaveLength(1);
  });
});
